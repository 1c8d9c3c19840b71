"""Wiring shared by every front end: settings → store, analyzer and engine, seeded on first use."""

from __future__ import annotations

from corpus.loaders import LoadLimits
from corpus.stores import open_store
from retrieval import kernels
from retrieval.analyzer import shared_analyzer
from retrieval.engine import Engine
from retrieval.synonyms import SynonymTable, ensure_synonyms_file

from bot.settings import Settings


def open_engine(settings: Settings, warm_up: bool = True) -> Engine:
    store = open_store(settings.store_target)
    analyzer = shared_analyzer(settings.user_dictionary)
    if warm_up:  # pay Kiwi's first call and the search kernels' loading before the first question
        analyzer.warm_up()
        kernels.warm_up()
    engine = Engine(
        store,
        analyzer,
        settings.retrieval,
        index_path=settings.index_path,
        limits=LoadLimits(max_bytes=settings.max_upload_bytes),
        synonyms=SynonymTable.load(ensure_synonyms_file(settings.synonyms_path), analyzer),
    )
    engine.seed_if_new()
    return engine
