"""The store on both backends (SQLite file, PostgreSQL schema): schema, one transaction per
document, duplicates, removal, feedback, and what several workers share."""

from __future__ import annotations

import sqlite3
import threading
import time

import psycopg
import pytest

from corpus.chunker import Chunk
from corpus.document import content_hash, guess_title, make_document
from corpus.errors import DocumentNotFound, DuplicateDocument, StoreError
from corpus.store import WORKER_STALE_SECONDS, AnalysedChunk, Claim, Store
from corpus.stores import open_store


def analysed(text: str, ordinal: int = 0) -> AnalysedChunk:
    return AnalysedChunk(Chunk(ordinal, 0, len(text), text, ""), ["토큰"], [0], [(0, len(text))], ["제목"])


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path):
    """Where a store lives: a SQLite path, or a PostgreSQL URL on a schema of its own."""
    if request.param == "sqlite":
        return tmp_path / "s.sqlite3"
    return request.getfixturevalue("database_url")


@pytest.fixture
def store(target):
    opened = open_store(target)
    yield opened
    opened.close()


def test_store_is_created_in_wal_mode_with_a_schema_version(tmp_path):
    Store(tmp_path / "nested" / "qabot.sqlite3")
    connection = sqlite3.connect(tmp_path / "nested" / "qabot.sqlite3")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "3"


def test_a_version_1_store_is_upgraded_keeping_its_chunks(tmp_path):
    path = tmp_path / "old.sqlite3"
    store = Store(path)
    store.add_document(make_document("본문입니다.", "a.txt"), [analysed("본문입니다.")], "cli")
    store.close()
    connection = sqlite3.connect(path)
    connection.executescript(
        "ALTER TABLE chunks DROP COLUMN section; DROP TABLE vectors; DROP TABLE updates;"
        " UPDATE meta SET value = '1' WHERE key = 'schema_version';"
    )
    connection.close()
    upgraded = Store(path)
    [row_id] = [row.row_id for row in upgraded.index_rows()]
    assert upgraded.chunks([row_id])[row_id].section == ()
    upgraded.put_vectors("m", [("h", b"\x01\x02")])
    assert upgraded.vectors("m", ["h", "missing"]) == {"h": b"\x01\x02"}
    assert upgraded.claim_update(1, "w") is Claim.MINE


def test_a_version_1_postgres_schema_is_upgraded_keeping_its_chunks(database_url):
    store = open_store(database_url)
    store.add_document(make_document("본문입니다.", "a.txt"), [analysed("본문입니다.")], "cli")
    store.close()
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "ALTER TABLE chunks DROP COLUMN section; DROP TABLE vectors; DROP TABLE updates;"
            " UPDATE meta SET value = '1' WHERE key = 'schema_version'"
        )
    upgraded = open_store(database_url)
    [row_id] = [row.row_id for row in upgraded.index_rows()]
    assert upgraded.chunks([row_id])[row_id].section == ()
    upgraded.put_vectors("m", [("h", b"\x01\x02")])
    assert upgraded.vectors("m", ["h", "missing"]) == {"h": b"\x01\x02"}
    assert upgraded.claim_update(1, "w") is Claim.MINE
    upgraded.close()
    with psycopg.connect(database_url) as connection:
        assert connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "3"


def test_a_newer_schema_is_refused(target, store):
    store.close()
    if isinstance(target, str):
        with psycopg.connect(target, autocommit=True) as connection:
            connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    else:
        with sqlite3.connect(target) as connection:
            connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="더 새로운"):
        open_store(target)


def test_sections_and_vectors_round_trip(store):
    chunk = Chunk(0, 0, 5, "본문입니다", "제50조(근로시간)", ("제4장 근로시간과 휴식", "제50조(근로시간)", "②"))
    store.add_document(make_document("본문입니다", "a.txt"), [AnalysedChunk(chunk, ["본문"], [0], [(0, 5)], [])], "cli")
    [row] = store.index_rows()
    stored = store.chunks([row.row_id])[row.row_id]
    assert stored.section == ("제4장 근로시간과 휴식", "제50조(근로시간)", "②")
    assert (stored.text, stored.heading, stored.start, stored.end, stored.tokens) == ("본문입니다", "제50조(근로시간)", 0, 5, ["본문"])
    assert stored.sentences.tolist() == [[0, 5]]
    generation = store.generation
    store.put_vectors("m", [("a", b"1"), ("b", b"2")])
    store.put_vectors("m", [("a", b"other")])  # kept by hash: the first vector stays
    assert store.vectors("m", ["a", "b"]) == {"a": b"1", "b": b"2"}
    assert store.vectors("other-model", ["a"]) == {}
    assert store.generation == generation  # vectors are a cache of the text, not a corpus change


def test_add_records_title_source_time_and_who(store):
    info = store.add_document(make_document("# 제목\n본문", "a.md"), [analysed("본문")], added_by="cli")
    [listed] = store.documents()
    assert listed == info
    assert (info.title, info.source, info.added_by, info.chunk_count) == ("제목", "a.md", "cli", 1)
    assert info.added_at.startswith("20")
    assert store.generation == 1
    assert store.document_text(info.id) == "# 제목\n본문"


def test_duplicate_content_is_refused_with_the_existing_id(store):
    first = store.add_document(make_document("같은 내용입니다.", "a.txt"), [analysed("같은 내용입니다.")], "cli")
    with pytest.raises(DuplicateDocument) as refused:
        store.add_document(make_document("같은   내용입니다.\n", "b.txt"), [analysed("x")], "cli")
    assert refused.value.existing_id == first.id
    assert first.id in refused.value.user_message
    assert len(store.documents()) == 1
    assert store.generation == 1


def test_two_stores_adding_the_same_text_at_once_keep_one(target):
    stores = [open_store(target) for _ in range(2)]
    outcomes: list[object] = []

    def add(store) -> None:
        try:
            outcomes.append(store.add_document(make_document("동시에 올린 문서", "a.txt"), [analysed("동시에")], "cli"))
        except DuplicateDocument as duplicate:
            outcomes.append(duplicate)

    threads = [threading.Thread(target=add, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["DocumentInfo", "DuplicateDocument"]
    assert len(stores[0].documents()) == 1 and stores[1].generation == 1
    for store in stores:
        store.close()


def test_a_failing_insert_leaves_no_trace(store):
    clashing = [analysed("하나", 0), analysed("둘", 0)]  # same ordinal violates UNIQUE(doc_id, ordinal)
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        store.add_document(make_document("문서 본문", "a.txt"), clashing, "cli")
    assert store.documents() == []
    assert store.chunk_count() == 0
    assert store.generation == 0


def test_remove_deletes_document_and_chunks(store):
    info = store.add_document(make_document("본문", "a.txt"), [analysed("본문"), analysed("더", 1)], "cli")
    [first, second] = [row.row_id for row in store.index_rows()]
    assert [c.row_id for c in store.neighbours(first)] == [first, second]
    assert store.remove_document(info.id) == info
    assert store.chunk_count() == 0 and store.chunks([first]) == {}
    assert store.generation == 2
    with pytest.raises(DocumentNotFound):
        store.remove_document(info.id)


def test_a_swap_of_chunks_is_noted_with_its_analysis_until_the_pass_is_over(store):
    kept = store.add_document(make_document("첫째 문서", "a.txt"), [analysed("첫째 문서")], "cli")
    removed = store.add_document(make_document("둘째 문서", "b.txt"), [analysed("둘째 문서")], "cli")
    store.replace_chunks(kept.id, [analysed("첫째"), analysed("문서", 1)], "new")
    store.replace_chunks(removed.id, [analysed("둘째 문서")], "new")
    assert store.reanalysed_by("new") == {kept.id, removed.id} and store.reanalysed_by("other") == set()
    assert store.document(kept.id).chunk_count == 2
    store.remove_document(removed.id)
    assert store.reanalysed_by("new") == {kept.id}
    store.mark_analysed("new")
    assert store.analysis == "new" and store.reanalysed_by("new") == set()


def test_feedback_is_one_vote_per_user_and_question(store):
    question_id = store.log_question("telegram:1", "질문?", True, "답", "근거")
    assert store.question(question_id) == ("telegram:1", "질문?")
    assert store.add_feedback(question_id, "1", 1)
    assert store.add_feedback(question_id, "1", -1)
    assert not store.add_feedback(question_id + 100, "1", 1)
    [case] = store.feedback_cases()
    assert (case.question, case.score) == ("질문?", -1)
    assert store.stats()["questions"] == 1 and store.stats()["feedback_down"] == 1


def test_additions_in_progress_are_remembered_until_ended(store):
    first = store.begin_addition("a.pdf", "telegram:1", '{"chat": 1}')
    second = store.begin_addition("b.pdf", "telegram:2", "{}")
    store.end_addition(first)
    [left] = store.interrupted_additions()
    assert (left.id, left.label, left.requested_by) == (second, "b.pdf", "telegram:2")


def test_seeded_and_analysis_marks(store):
    assert not store.seeded and store.analysis is None
    store.mark_seeded()
    store.mark_analysed("sig")
    assert store.seeded and store.analysis == "sig"


def test_an_update_is_claimed_by_one_worker_and_handled_once(target):
    first, second = open_store(target), open_store(target)
    first.heartbeat("a")
    second.heartbeat("b")
    assert first.claim_update(7, "a") is Claim.MINE
    assert second.claim_update(7, "b") is Claim.BUSY  # "a" is alive and handling it
    assert first.claim_update(7, "a") is Claim.BUSY  # a redelivery while "a" still works on it
    first.release_update(7)  # handling failed: the next delivery is anyone's
    assert second.claim_update(7, "b") is Claim.MINE
    second.finish_update(7)
    second.release_update(7)  # a finished update stays finished
    assert first.claim_update(7, "a") is Claim.DONE
    first.close()
    second.close()


def test_the_update_of_a_dead_worker_is_taken_over(store, monkeypatch):
    store.heartbeat("dead")
    assert store.claim_update(8, "dead") is Claim.MINE
    later = time.time() + WORKER_STALE_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert store.claim_update(8, "alive") is Claim.MINE
    store.finish_update(8)
    assert store.claim_update(8, "dead") is Claim.DONE


def test_a_shared_rate_limit_counts_across_stores_and_notifies_once(target):
    first, second = open_store(target), open_store(target)
    assert first.count_rate_hit("user:1", 2, 60).allowed
    assert second.count_rate_hit("user:1", 2, 60).allowed
    refused = first.count_rate_hit("user:1", 2, 60)
    assert not refused.allowed and refused.notify and 0 < refused.retry_after <= 60
    again = second.count_rate_hit("user:1", 2, 60)
    assert not again.allowed and not again.notify
    assert second.count_rate_hit("user:2", 2, 60).allowed  # another key has its own window
    time.sleep(0.01)
    assert first.count_rate_hit("user:1", 2, 0.005).allowed  # a window that has passed
    first.close()
    second.close()


def test_a_corpus_change_wakes_a_waiting_store(target):
    waiting, writer = open_store(target), open_store(target)
    waiting.wait_for_change(0.01)  # starts listening where there is something to listen to
    before = waiting.generation
    threading.Timer(0.3, writer.add_document, (make_document("새 문서", "n.txt"), [analysed("새")], "cli")).start()
    started = time.monotonic()
    deadline = started + 5
    while waiting.generation == before and time.monotonic() < deadline:
        waiting.wait_for_change(1.0)
    assert waiting.generation == before + 1
    assert time.monotonic() - started < 3
    waiting.close()
    writer.close()


def test_an_unreachable_postgres_is_a_store_error():
    with pytest.raises(StoreError, match="연결할 수 없습니다") as refused:
        open_store("postgresql://nobody:hunter2@127.0.0.1:1/none")
    assert "hunter2" not in refused.value.user_message


def test_a_file_that_is_not_sqlite_gives_a_store_error(tmp_path):
    path = tmp_path / "s.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        Store(path)


def test_titles_follow_the_contract():
    assert guess_title("서문\n# 진짜 제목\n본문", "a.md") == "진짜 제목"
    assert guess_title("짧은 첫 줄\n본문이 이어집니다.", "a.txt") == "짧은 첫 줄"
    assert guess_title("가" * 200, "notes.txt") == "notes"
    assert make_document("본문", "a.txt", title="  지정 제목 ").title == "지정 제목"
    assert content_hash("가 나\r\n다") == content_hash("가  나 다 ")
