"""Shared fixtures: one real Kiwi per test session, engines over real SQLite files in tmp dirs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus.store import Store
from retrieval.analyzer import Analyzer, shared_analyzer
from retrieval.engine import Engine
from tests.postgres import fresh_schema

DATA = Path(__file__).parent / "data"

# Front ends started by tests match by BM25 alone unless a test asks for the embeddings:
# embedding a corpus costs about 0.1 s a chunk, too much for every bot and CLI run of the
# suite. tests/test_semantic.py and the quality gates use the model, with vectors cached
# in tests/data/vectors so CI does not compute them again.
os.environ.setdefault("QABOT_MATCHING", "lexical")


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    shared = shared_analyzer()
    shared.warm_up()
    return shared


@pytest.fixture
def empty_engine(tmp_path: Path, analyzer: Analyzer) -> Iterator[Engine]:
    engine = Engine(Store(tmp_path / "qabot.sqlite3"), analyzer, index_path=tmp_path / "index" / "bm25.index")
    yield engine
    engine.close()


@pytest.fixture
def bundled_engine(empty_engine: Engine) -> Engine:
    empty_engine.seed_if_new()
    return empty_engine


@pytest.fixture
def database_url() -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema of this test's own (see tests/postgres.py)."""
    with fresh_schema() as url:
        yield url
