"""The SQLite store: schema, one transaction per document, duplicates, removal, feedback."""

from __future__ import annotations

import sqlite3

import pytest

from corpus.chunker import Chunk
from corpus.document import content_hash, guess_title, make_document
from corpus.errors import DocumentNotFound, DuplicateDocument, StoreError
from corpus.store import AnalysedChunk, Store


def analysed(text: str, ordinal: int = 0) -> AnalysedChunk:
    return AnalysedChunk(Chunk(ordinal, 0, len(text), text, ""), ["토큰"], [0], [(0, len(text))], ["제목"])


def test_store_is_created_in_wal_mode_with_a_schema_version(tmp_path):
    Store(tmp_path / "nested" / "qabot.sqlite3")
    connection = sqlite3.connect(tmp_path / "nested" / "qabot.sqlite3")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "2"


def test_a_version_1_store_is_upgraded_keeping_its_chunks(tmp_path):
    path = tmp_path / "old.sqlite3"
    store = Store(path)
    store.add_document(make_document("본문입니다.", "a.txt"), [analysed("본문입니다.")], "cli")
    store.close()
    connection = sqlite3.connect(path)
    connection.executescript(
        "ALTER TABLE chunks DROP COLUMN section; DROP TABLE vectors;"
        " UPDATE meta SET value = '1' WHERE key = 'schema_version';"
    )
    connection.close()
    upgraded = Store(path)
    [row_id] = [row.row_id for row in upgraded.index_rows()]
    assert upgraded.chunks([row_id])[row_id].section == ()
    upgraded.put_vectors("m", [("h", b"\x01\x02")])
    assert upgraded.vectors("m", ["h", "missing"]) == {"h": b"\x01\x02"}


def test_sections_and_vectors_round_trip(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    chunk = Chunk(0, 0, 5, "본문입니다", "제50조(근로시간)", ("제4장 근로시간과 휴식", "제50조(근로시간)", "②"))
    store.add_document(make_document("본문입니다", "a.txt"), [AnalysedChunk(chunk, ["본문"], [0], [(0, 5)], [])], "cli")
    [row] = store.index_rows()
    assert store.chunks([row.row_id])[row.row_id].section == ("제4장 근로시간과 휴식", "제50조(근로시간)", "②")
    generation = store.generation
    store.put_vectors("m", [("a", b"1"), ("b", b"2")])
    store.put_vectors("m", [("a", b"other")])  # kept by hash: the first vector stays
    assert store.vectors("m", ["a", "b"]) == {"a": b"1", "b": b"2"}
    assert store.vectors("other-model", ["a"]) == {}
    assert store.generation == generation  # vectors are a cache of the text, not a corpus change


def test_add_records_title_source_time_and_who(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    info = store.add_document(make_document("# 제목\n본문", "a.md"), [analysed("본문")], added_by="cli")
    [listed] = store.documents()
    assert listed == info
    assert (info.title, info.source, info.added_by, info.chunk_count) == ("제목", "a.md", "cli", 1)
    assert info.added_at.startswith("20")
    assert store.generation == 1


def test_duplicate_content_is_refused_with_the_existing_id(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    first = store.add_document(make_document("같은 내용입니다.", "a.txt"), [analysed("같은 내용입니다.")], "cli")
    with pytest.raises(DuplicateDocument) as refused:
        store.add_document(make_document("같은   내용입니다.\n", "b.txt"), [analysed("x")], "cli")
    assert refused.value.existing_id == first.id
    assert first.id in refused.value.user_message
    assert len(store.documents()) == 1


def test_a_failing_insert_leaves_no_trace(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    clashing = [analysed("하나", 0), analysed("둘", 0)]  # same ordinal violates UNIQUE(doc_id, ordinal)
    with pytest.raises(sqlite3.IntegrityError):
        store.add_document(make_document("문서 본문", "a.txt"), clashing, "cli")
    assert store.documents() == []
    assert store.chunk_count() == 0
    assert store.generation == 0


def test_remove_deletes_document_and_chunks(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    info = store.add_document(make_document("본문", "a.txt"), [analysed("본문"), analysed("더", 1)], "cli")
    assert store.remove_document(info.id) == info
    assert store.chunk_count() == 0
    with pytest.raises(DocumentNotFound):
        store.remove_document(info.id)


def test_a_swap_of_chunks_is_noted_with_its_analysis_until_the_pass_is_over(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
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


def test_feedback_is_one_vote_per_user_and_question(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    question_id = store.log_question("telegram:1", "질문?", True, "답", "근거")
    assert store.add_feedback(question_id, "1", 1)
    assert store.add_feedback(question_id, "1", -1)
    assert not store.add_feedback(question_id + 100, "1", 1)
    [case] = store.feedback_cases()
    assert (case.question, case.score) == ("질문?", -1)


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
