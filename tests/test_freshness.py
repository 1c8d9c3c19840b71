"""Two engines on one store, as two workers or a worker and the CLI: each change reaches
the other's index within seconds, on both backends."""

from __future__ import annotations

import time

import pytest

from corpus.document import make_document
from corpus.stores import open_store
from retrieval.engine import Engine
from retrieval.freshness import FreshnessWatcher

FACT = "# 출장 규정\n해외 출장 중 숙박비는 하루 이십만 원까지 지원한다."
QUESTION = "해외 출장 숙박비는 하루 얼마까지 지원해?"


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path):
    if request.param == "sqlite":
        return tmp_path / "shared.sqlite3"
    return request.getfixturevalue("database_url")


def _wait_for(condition, timeout: float = 5.0) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "the change did not arrive in time"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_change_by_one_engine_reaches_the_other_within_five_seconds(target, tmp_path, analyzer):
    writer = Engine(open_store(target), analyzer, index_path=tmp_path / "a" / "bm25.npz")
    reader = Engine(open_store(target), analyzer, index_path=tmp_path / "b" / "bm25.npz")
    with FreshnessWatcher(reader, check_every=1.0):
        assert not reader.ask(QUESTION).answered
        before = reader.snapshot
        added = writer.add_document(make_document(FACT, "travel.md"), "cli").info
        _wait_for(lambda: reader.ask(QUESTION).answered)
        assert "이십만 원" in reader.ask(QUESTION).text
        assert before.document_frequency("숙박비") == 0  # the old snapshot was left whole, not edited
        writer.remove_document(added.id)
        _wait_for(lambda: reader.snapshot.document_frequency("숙박비") == 0)
        assert not reader.ask(QUESTION).answered
    assert reader.generation == writer.generation == reader.store.generation
    writer.close()
    reader.close()


def test_a_saved_index_is_tagged_with_the_generation_it_holds(target, tmp_path, analyzer):
    writer = Engine(open_store(target), analyzer, index_path=tmp_path / "a" / "bm25.npz")
    reader = Engine(open_store(target), analyzer, index_path=tmp_path / "b" / "bm25.npz")
    writer.add_document(make_document(FACT, "travel.md"), "cli")
    assert reader.refresh() and not reader.refresh()
    reader.close()
    writer.close()
    reopened = Engine(open_store(target), analyzer, index_path=tmp_path / "b" / "bm25.npz")
    assert reopened.ask(QUESTION).answered
    reopened.close()
