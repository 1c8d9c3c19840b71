"""Wiring shared by every front end: settings → store, analyzer and engine, seeded on first use."""

from __future__ import annotations

import logging

from corpus.loaders import LoadLimits
from corpus.stores import open_store
from retrieval.acceleration import COMPILED, use_compiled
from retrieval.analyzer import shared_analyzer
from retrieval.embedding import shared_embedder
from retrieval.engine import Engine
from retrieval.synonyms import SynonymTable, ensure_synonyms_file

from bot.settings import Settings

log = logging.getLogger(__name__)


def open_engine(settings: Settings, warm_up: bool = True) -> Engine:
    COMPILED.use_cache_fallback(settings.numba_cache_dir)
    _rename_legacy_index(settings)
    store = open_store(settings.store_target)
    analyzer = shared_analyzer(settings.user_dictionary)
    if warm_up:  # pay Kiwi's first call before the first question
        analyzer.warm_up()
    engine = Engine(
        store,
        analyzer,
        settings.retrieval,
        index_path=settings.index_path,
        limits=LoadLimits(max_bytes=settings.max_upload_bytes),
        synonyms=SynonymTable.load(ensure_synonyms_file(settings.synonyms_path), analyzer),
        embedder=shared_embedder() if settings.retrieval.matching != "lexical" else None,
        vectors_path=settings.vectors_path,
    )
    engine.seed_if_new()
    if warm_up and use_compiled(len(engine.snapshot)):  # a large corpus: compile while questions start
        COMPILED.start_loading()
    return engine


def _rename_legacy_index(settings: Settings) -> None:
    """Keep an index saved under the old file name instead of rebuilding it (minutes on a large store)."""
    legacy, current = settings.legacy_index_path, settings.index_path
    if legacy.is_file() and not current.exists():
        legacy.rename(current)
        log.info("index file renamed: %s -> %s", legacy.name, current.name)
