"""The engine end to end on real Kiwi and SQLite: answers with lists, refusals, tiny corpora."""

from __future__ import annotations

import json
import logging

import pytest

from corpus.document import make_document
from corpus.errors import DuplicateDocument, InvalidQuestion
from corpus.store import Store
from retrieval.analyzer import create_analyzer
from retrieval.engine import Engine, PassProgress, clean_question

from tests.conftest import DATA

SEED = [json.loads(line) for line in (DATA / "seed_qa.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("case", SEED, ids=[case["id"] for case in SEED])
def test_seed_questions_on_the_bundled_corpus(bundled_engine, case):
    answer = bundled_engine.ask(case["question"])
    if case.get("answerable", True):
        assert answer.answered
        for expected in case["answers"]:
            assert expected in answer.text
        assert any(case["evidence"] in p.text for p in answer.passages[:3])
        assert answer.cited_passages
    else:
        assert not answer.answered and answer.text is None


def test_answer_is_the_sentence_and_its_list_not_the_passage(empty_engine):
    text = (
        "# 동아리 소식\n\n## 새 임원\n올해 동아리는 새 임원을 뽑았습니다. 선거에는 모두 열두 명이 나왔습니다.\n"
        "새로 뽑힌 임원은 다음과 같습니다.\n- 회장 김하늘\n- 총무 박바다\n\n"
        "임원의 임기는 일 년이며 연임할 수 있습니다. 다음 선거는 내년 봄에 열립니다.\n"
    )
    empty_engine.add_document(make_document(text, "club.md"), "test")
    answer = empty_engine.ask("새로 뽑힌 임원은 누구야?")
    assert answer.answered
    assert answer.text.startswith("새로 뽑힌 임원은 다음과 같습니다.")
    assert "김하늘" in answer.text and "박바다" in answer.text
    assert "임기" not in answer.text
    cited = answer.cited_passages[0]
    assert cited.title == "동아리 소식" and cited.heading == "새 임원"
    assert any(cited.text[s:e] == "임원" for s, e in cited.highlights)


def test_refusal_names_the_words_found_nowhere(empty_engine):
    empty_engine.add_document(make_document("고양이는 하루에 열여섯 시간을 잡니다.", "cat.txt"), "test")
    answer = empty_engine.ask("비트코인 시세는 얼마야?")
    assert not answer.answered
    assert set(answer.missing_terms) == {"비트코인", "시세"}


def test_one_chunk_corpus_answers_with_a_positive_score(empty_engine):
    empty_engine.add_document(make_document("고양이는 하루에 열여섯 시간을 잡니다.", "cat.txt"), "test")
    answer = empty_engine.ask("고양이는 하루에 몇 시간 자?")
    assert answer.answered and "열여섯" in answer.text
    assert answer.passages[0].score > 0


def test_two_chunk_corpus_ranks_the_chunk_with_the_word_first(empty_engine):
    empty_engine.add_document(make_document("고양이는 하루에 열여섯 시간을 잡니다.", "cat.txt"), "test")
    empty_engine.add_document(make_document("강아지는 산책을 매우 좋아합니다.", "dog.txt"), "test")
    answer = empty_engine.ask("강아지가 좋아하는 것은?")
    assert answer.passages[0].text.startswith("강아지는")
    assert answer.passages[0].score > 0


@pytest.mark.parametrize(
    ("document", "question"),
    [
        ("ＬＧ　ＡＩ연구원은 ２０２５년 여름에 새 모델을 공개했습니다.", "LG AI연구원은 언제 새 모델을 공개했어?"),
        ("LG AI연구원은 2025년 여름에 새 모델을 공개했습니다.", "ＬＧ　ＡＩ연구원은 언제 새 모델을 공개했어?"),
    ],
    ids=["full-width document", "full-width question"],
)
def test_full_width_and_ascii_spellings_find_each_other(empty_engine, document, question):
    empty_engine.add_document(make_document("고양이는 하루에 열여섯 시간을 잡니다.", "cat.txt"), "test")
    empty_engine.add_document(make_document(document, "lab.txt"), "test")
    answer = empty_engine.ask(question)
    assert answer.answered and answer.text == document
    top = answer.passages[0]
    assert {top.text[s:e] for s, e in top.highlights} >= {document[:2], document[3:5]}


def test_empty_store_refuses_every_question(empty_engine):
    answer = empty_engine.ask("아무거나 알려줘")
    assert not answer.answered and answer.passages == ()


def test_overlong_and_empty_questions_are_refused_with_korean_messages(bundled_engine):
    with pytest.raises(InvalidQuestion, match="너무 깁니다"):
        bundled_engine.ask("가" * 5000)
    with pytest.raises(InvalidQuestion, match="질문을 입력"):
        bundled_engine.ask("  <b></b>\u200b ")


def test_html_in_a_question_is_read_as_text(bundled_engine):
    answer = bundled_engine.ask("<b>1차 평가</b>에서 <i>탈락한</i> 팀은?")
    assert answer.answered and "네이버클라우드" in answer.text
    assert "b" not in answer.missing_terms


@pytest.mark.parametrize(
    ("question", "cleaned"),
    [
        ("<b>굵게</b> 그리고 <a href='https://x.kr'>링크</a>?", "굵게 그리고 링크 ?"),
        ("<!-- 주석 -->질문<br/>", "질문"),
        ("<해리 포터>를 쓴 작가는?", "<해리 포터>를 쓴 작가는?"),
        ("a < b 이고 c > d 이면?", "a < b 이고 c > d 이면?"),
    ],
)
def test_only_markup_is_removed_from_questions(question, cleaned):
    assert clean_question(question) == cleaned


def test_removed_document_is_no_longer_cited_and_duplicates_are_refused(empty_engine):
    added = empty_engine.add_document(make_document("고양이는 하루에 열여섯 시간을 잡니다.", "cat.txt"), "test")
    with pytest.raises(DuplicateDocument):
        empty_engine.add_document(make_document("고양이는  하루에 열여섯 시간을 잡니다.\n", "copy.txt"), "test")
    empty_engine.remove_document(added.info.id)
    assert not empty_engine.ask("고양이는 몇 시간 자?").answered
    assert len(empty_engine.snapshot) == 0


def test_seeding_happens_once_and_removals_are_respected(bundled_engine):
    [doc] = bundled_engine.store.documents()
    bundled_engine.remove_document(doc.id)
    assert bundled_engine.seed_if_new() == []
    assert bundled_engine.store.documents() == []


def test_stored_tokens_from_another_analysis_are_analysed_again_once(tmp_path, analyzer, caplog):
    """A user dictionary word added later reaches the documents already stored."""
    dictionary = tmp_path / "user_dictionary.txt"
    dictionary.write_text("소버린\tNNP\t0\n", encoding="utf-8")
    store_path, index_path = tmp_path / "qabot.sqlite3", tmp_path / "index" / "bm25.index"
    text = "소버린 AI의 목표는 기술 자립입니다.\n\n고양이는 하루에 열여섯 시간을 잡니다."
    with Engine(Store(store_path), analyzer, index_path=index_path) as engine:
        added = engine.add_document(make_document(text, "goal.txt"), "test").info
    store = Store(store_path)
    assert not any("소버린" in row.tokens for row in store.index_rows())
    assert store.analysis == analyzer.signature

    with_words = create_analyzer(dictionary)
    assert with_words.signature != analyzer.signature
    caplog.set_level(logging.WARNING, logger="retrieval.engine")
    with Engine(Store(store_path), with_words, index_path=index_path) as engine:
        answer = engine.ask("소버린 AI의 목표는 뭐야?")
    assert "analysing 1 documents again" in caplog.text
    assert any("소버린" in row.tokens for row in store.index_rows())
    assert store.analysis == with_words.signature
    assert store.document(added.id).chunk_count == added.chunk_count
    top = answer.passages[0]
    assert "소버린" in {top.text[s:e] for s, e in top.highlights}

    caplog.clear()
    generation = store.generation
    with Engine(Store(store_path), with_words, index_path=index_path):
        pass
    assert "again" not in caplog.text and store.generation == generation


def test_reanalysis_in_batches_stores_what_adding_stored_and_reports_progress(tmp_path, analyzer, caplog, monkeypatch):
    store_path, index_path = tmp_path / "qabot.sqlite3", tmp_path / "index" / "bm25.index"
    texts = [
        "# 고양이\n\n고양이는 하루에 열여섯 시간을 잡니다.\n\n- 사냥을 좋아합니다.\n- 높은 곳에 오릅니다.",
        "강아지는 산책을 좋아합니다.",
        "## 거북이의 수명\n\n거북이는 오래 삽니다. 백 년을 넘기도 합니다.",
    ]
    with Engine(Store(store_path), analyzer, index_path=index_path) as engine:
        for number, text in enumerate(texts):
            engine.add_document(make_document(text, f"animal-{number}.txt"), "test")
    store = Store(store_path)
    added = sorted((row.doc_id, row.text, row.tokens, row.context_tokens) for row in store.index_rows())
    store.mark_analysed("an older analysis")
    monkeypatch.setattr(PassProgress, "REPORT_EVERY_S", 0.0)
    caplog.set_level(logging.WARNING, logger="retrieval.engine")
    with Engine(Store(store_path), analyzer, index_path=index_path):
        pass
    assert sorted((row.doc_id, row.text, row.tokens, row.context_tokens) for row in store.index_rows()) == added
    progress = [r.getMessage() for r in caplog.records if " of 3 documents again" in r.getMessage()]
    assert [line.split(" (")[0] for line in progress] == ["analysed 1 of 3 documents again", "analysed 2 of 3 documents again"]
    assert "s left" in progress[1]
    assert "analysed 3 documents again in" in caplog.text


def test_an_interrupted_reanalysis_resumes_with_the_documents_it_had_not_reached(tmp_path, analyzer, caplog, monkeypatch):
    store_path, index_path = tmp_path / "qabot.sqlite3", tmp_path / "index" / "bm25.index"
    texts = ["고양이는 하루에 열여섯 시간을 잡니다.", "강아지는 산책을 좋아합니다.", "거북이는 오래 삽니다. 백 년을 넘기도 합니다."]
    with Engine(Store(store_path), analyzer, index_path=index_path) as engine:
        for number, text in enumerate(texts):
            engine.add_document(make_document(text, f"animal-{number}.txt"), "test")
    store = Store(store_path)
    added = sorted((row.doc_id, row.tokens, row.context_tokens) for row in store.index_rows())
    store.mark_analysed("an older analysis")
    replace_chunks = Store.replace_chunks
    swapped: list[str] = []

    def interrupted_after_one(self, doc_id, chunks, analysis):
        if swapped:
            raise KeyboardInterrupt
        swapped.append(doc_id)
        replace_chunks(self, doc_id, chunks, analysis)

    monkeypatch.setattr(Store, "replace_chunks", interrupted_after_one)
    with pytest.raises(KeyboardInterrupt):
        Engine(Store(store_path), analyzer, index_path=index_path)
    assert store.analysis == "an older analysis"
    assert store.reanalysed_by(analyzer.signature) == set(swapped)

    def counted(self, doc_id, chunks, analysis):
        swapped.append(doc_id)
        replace_chunks(self, doc_id, chunks, analysis)

    monkeypatch.setattr(Store, "replace_chunks", counted)
    caplog.set_level(logging.WARNING, logger="retrieval.engine")
    with Engine(Store(store_path), analyzer, index_path=index_path) as engine:
        assert "거북이" in engine.ask("거북이는 얼마나 오래 살아?").passages[0].text
    assert sorted(swapped) == sorted(info.id for info in store.documents())  # each analysed once in all
    assert "analysing 2 documents again" in caplog.text and "1 were analysed before" in caplog.text
    assert store.analysis == analyzer.signature and store.reanalysed_by(analyzer.signature) == set()
    assert sorted((row.doc_id, row.tokens, row.context_tokens) for row in store.index_rows()) == added


def test_documents_added_together_are_each_answerable_and_extend_the_index_once(bundled_engine, monkeypatch):
    [seeded] = bundled_engine.store.documents()
    notes = [
        make_document("다음 회의는 금요일 오후 세 시에 본관 회의실에서 열립니다.", "meeting.txt"),
        make_document("# 도서관\n\n도서관은 평일 오전 아홉 시부터 밤 열 시까지 엽니다.", "library.md"),
        make_document("다음 회의는 금요일 오후 세 시에 본관 회의실에서 열립니다.", "meeting-copy.txt"),
        make_document(bundled_engine.store.document_text(seeded.id), "again.txt"),
    ]
    extensions = []
    with_entries = type(bundled_engine.snapshot).with_entries
    monkeypatch.setattr(type(bundled_engine.snapshot), "with_entries", lambda self, e: extensions.append(e) or with_entries(self, e))
    meeting, library, copy, again = bundled_engine.add_documents(notes, "test")

    assert meeting.info.source == "meeting.txt" and library.info.title == "도서관"
    assert isinstance(copy, DuplicateDocument) and copy.existing_id == meeting.info.id
    assert isinstance(again, DuplicateDocument) and again.existing_id == seeded.id
    assert len(extensions) == 1
    assert {d.id for d in bundled_engine.store.documents()} == {seeded.id, meeting.info.id, library.info.id}
    assert "금요일" in bundled_engine.ask("다음 회의는 언제 열려?").text
    assert "아홉 시" in bundled_engine.ask("도서관은 몇 시에 열어?").text
