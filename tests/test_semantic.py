"""Semantic matching: the real embedding model, the dense snapshot, fusion, typos, copies and citations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from corpus.document import make_document
from corpus.markers import place
from corpus.store import Store, StoredChunk
from retrieval.embedding import E5Embedder, embedding_text, shared_embedder, text_hash
from retrieval.engine import Engine
from retrieval.fusion import fuse
from retrieval.index import Hit
from retrieval.qa import collapse_copies, is_korean
from retrieval.typos import correct_typos
from retrieval.vector_file import BUNDLED_VECTORS
from retrieval.vectors import DenseSnapshot

HOURS = "제50조(근로시간) ① 1주 간의 근로시간은 휴게시간을 제외하고 40시간을 초과할 수 없다.\n② 1일의 근로시간은 휴게시간을 제외하고 8시간을 초과할 수 없다."
LEAVE = "제60조(연차 유급휴가) ① 사용자는 1년간 80퍼센트 이상 출근한 근로자에게 15일의 유급휴가를 주어야 한다."
WAGES = "제49조(임금의 시효) 이 법에 따른 임금채권은 3년간 행사하지 아니하면 시효로 소멸한다."


@pytest.fixture(scope="module")
def embedder() -> E5Embedder:
    return shared_embedder()


def test_the_bundled_model_puts_paraphrases_and_english_next_to_their_clause(embedder):
    passages = embedder.embed_passages([HOURS, LEAVE, WAGES])
    assert passages.shape == (3, embedder.dim) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    for question, clause in [
        ("How many hours can an employee work per day?", 0),
        ("하루에 최대 몇 시간 일할 수 있어?", 0),
        ("When does a wage claim expire?", 2),
        ("임금 청구권은 언제 사라져?", 2),
    ]:
        query = embedder.embed_queries([question])[0]
        assert int(np.argmax(passages @ query)) == clause, question


def test_dense_snapshot_searches_adds_and_removes_rows():
    vectors = np.eye(4, dtype=np.float32)
    snapshot = DenseSnapshot.empty("m", 4).with_rows([10, 11, 12], ["a", "a", "b"], vectors[:3])
    assert [row for row, _ in snapshot.search(vectors[1], 2)] == [11, 10]
    assert snapshot.similarity(vectors[2], [12, 99]) == {12: pytest.approx(1.0)}
    grown = snapshot.with_rows([12, 13], ["b", "c"], vectors[2:4])  # 12 is there already
    assert len(grown) == 4 and len(snapshot) == 3
    assert [row for row, _ in grown.without_document("a").search(vectors[0], 5)] == [12, 13]


def test_compiled_dense_scores_are_numpys_for_every_half_and_rank_alike():
    from retrieval.acceleration import COMPILED, COMPILED_FROM

    kernels = COMPILED.load().kernels
    patterns = np.arange(1 << 16, dtype=np.uint16)
    finite = patterns[np.isfinite(patterns.view(np.float16))]  # every float16 a matrix can hold
    one_column = finite.reshape(-1, 1)
    one_column.flags.writeable = False
    exact = kernels.dense_scores(one_column, np.ones(1, np.float32))
    assert np.array_equal(exact, finite.view(np.float16).astype(np.float32))  # subnormals and -0 too

    rng = np.random.default_rng(3)
    rows = rng.standard_normal((COMPILED_FROM + 1, 384)).astype(np.float32)
    rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float16)
    query = rng.standard_normal(384).astype(np.float32)
    query /= np.linalg.norm(query)
    expected = rows.astype(np.float32) @ query
    snapshot = DenseSnapshot(np.arange(len(rows)) + 100, ["d"] * len(rows), rows, "m")
    assert np.abs(snapshot.scores(query) - expected).max() < 1e-6  # only the order of the sum differs
    best = sorted(range(len(rows)), key=lambda at: (-expected[at], at))[:20]
    assert [row for row, _ in snapshot.search(query, 20)] == [at + 100 for at in best]


def test_saved_snapshot_is_read_memory_mapped_only_under_its_tag(tmp_path: Path):
    snapshot = DenseSnapshot.empty("m", 2).with_rows([1, 2], ["a", "b"], np.array([[1, 0], [0, 1]], np.float32))
    path = tmp_path / "vectors.npy"
    snapshot.save(path, {"generation": 3})
    loaded = DenseSnapshot.load(path, {"generation": 3}, "m")
    assert loaded is not None and isinstance(loaded.matrix, np.memmap)
    assert loaded.search(np.array([0, 1], np.float32), 1)[0][0] == 2
    assert DenseSnapshot.load(path, {"generation": 4}, "m") is None
    assert DenseSnapshot.load(path, {"generation": 3}, "other model") is None


def test_fusion_lets_the_embedding_lift_a_passage_bm25_missed():
    lexical = [Hit(0, 1, "a", 10.0), Hit(1, 2, "a", 9.0)]
    dense = {1: 0.80, 2: 0.81, 3: 0.90}
    assert [row for row, _ in fuse(lexical, dense, 0.0)][:2] == [1, 2]
    assert [row for row, _ in fuse(lexical, dense, 1.0)][0] == 3
    fused = dict(fuse(lexical, dense, 0.6))  # BM25 relative to its best, cosine within the candidates' spread
    assert fused[1] == pytest.approx(0.4) and fused[2] == pytest.approx(0.4 * 0.9 + 0.6 * 0.1)
    assert fused[3] == pytest.approx(0.6) and max(fused, key=fused.get) == 3


def test_a_typo_is_read_as_the_corpus_word_one_jamo_away_and_said():
    known = {"#유급", "#급휴", "#휴가", "#연차", "#음주", "#주문", "#문전"}
    words = {"유급휴가", "연차", "주문"}

    def frequencies(terms):
        return [3 if term in known else 0 for term in terms]

    def analysed(text):  # stands in for Kiwi: the whole word is one morpheme
        return text in words

    assert correct_typos("연차 유급휴까 며칠이야?", frequencies, analysed) == ("연차 유급휴가 며칠이야?", (("유급휴까", "유급휴가"),))
    assert correct_typos("연차 유급휴가 며칠이야?", frequencies, analysed)[1] == ()
    assert correct_typos("투자는 어때?", frequencies, analysed)[1] == ()  # short words are left alone
    assert correct_typos("음주운전 벌금", frequencies, analysed)[1] == ()  # 음주문전's bigrams are known, its words are not


def stored(row_id: int, doc_id: str, title: str, text: str) -> StoredChunk:
    return StoredChunk(row_id, doc_id, f"{doc_id}:0", title, "", text, 0, len(text), [], np.zeros(0, np.int32), np.zeros((0, 2), np.int32), [])


def test_near_copies_from_other_documents_are_cited_once_naming_the_others():
    reason = (
        "제안이유 현행법은 청년의 주거 안정을 위한 지원 근거를 두고 있으나, 지원 대상이 무주택 세대주로 한정되어 "
        "부모와 떨어져 사는 청년 1인 가구는 월세 지원을 받기 어려운 실정임. 이에 지원 대상을 만 19세 이상 34세 이하의 "
        "무주택 청년으로 넓히고, 지원 기간을 최대 24개월로 정하여 청년의 주거비 부담을 덜려는 것임({}). "
        "주요내용 가. 청년 월세 지원 대상을 넓힘(안 제15조). 나. 지원 기간과 금액의 상한을 대통령령으로 정함(안 제15조의2)."
    )
    ranked = [
        (3.0, stored(1, "a", "주거기본법 일부개정법률안(홍길동 의원)", reason.format("홍길동 의원 대표발의"))),
        (2.9, stored(2, "b", "주거기본법 일부개정법률안(김철수 의원)", reason.format("김철수 의원 대표발의"))),
        (1.0, stored(3, "c", "다른 법안", "전혀 다른 내용의 제안이유입니다.")),
    ]
    kept, copies = collapse_copies(ranked)
    assert [chunk.row_id for _, chunk in kept] == [1, 3]
    assert copies == {1: ("주거기본법 일부개정법률안(김철수 의원)",)}


def test_citation_place_names_the_article_and_its_clause():
    assert place("제50조(근로시간)", ("제4장 근로시간과 휴식", "제50조(근로시간)", "②")) == "제50조(근로시간) ②"
    assert place("제3조(경범죄의 종류)", ("제2장", "제3조(경범죄의 종류)", "①", "9.–12.")) == "제3조(경범죄의 종류) ① 9.–12."
    assert place("평가 기준", ()) == "평가 기준"


def test_questions_in_english_are_told_from_korean_ones():
    assert is_korean("하루에 몇 시간 일해?") and is_korean("KT는 몇 위야?")
    assert not is_korean("How many hours can an employee work per day?")


def test_engine_embeds_in_the_background_keeps_vectors_and_answers_in_english(tmp_path: Path, analyzer, embedder):
    def engine() -> Engine:
        return Engine(
            Store(tmp_path / "s.sqlite3"), analyzer, index_path=tmp_path / "bm25.idx",
            embedder=embedder, vectors_path=tmp_path / "vectors.npy",
        )

    text = "# 근로기준법\n\n" + "\n\n".join([HOURS, LEAVE, WAGES])
    with engine() as first:
        added = first.add_document(make_document(text, "law.md"), "test")
        first.wait_for_vectors()
        assert len(first.semantic.snapshot) == added.info.chunk_count
        answer = first.ask("How many hours can an employee work per day?")
        assert answer.answered and "8시간" in (answer.text or ""), answer
        assert answer.passages[0].section[-1:] in (("제50조(근로시간)",), ("②",))
    with engine() as again:  # vectors come back from the saved file, memory-mapped
        assert isinstance(again.semantic.snapshot.matrix, np.memmap)
        assert len(again.semantic.snapshot) == added.info.chunk_count
        again.remove_document(added.info.id)
        assert len(again.semantic.snapshot) == 0


def test_the_bundled_corpus_ships_the_vectors_of_its_chunks(bundled_engine, embedder):
    """Else the first `qabot ask` after installing waits seconds for the model: run
    `python -m retrieval.vector_file` after changing the chunking or the model."""
    rows = bundled_engine.store.chunk_rows()
    chunks = bundled_engine.store.chunks(row for row, _ in rows)
    wanted = {text_hash(embedding_text(chunk)) for chunk in chunks.values()}
    with np.load(BUNDLED_VECTORS) as shipped:
        assert str(shipped["model"]) == embedder.model_id
        assert wanted <= set(shipped["hashes"].tolist())


def test_bm25_answers_alone_while_its_best_chunks_wait_for_their_vectors(tmp_path: Path, analyzer, embedder):
    """Fused, a chunk without a vector would lose to any chunk that has one."""
    from retrieval.qa import SemanticQuery, answer_question

    with Engine(Store(tmp_path / "s.sqlite3"), analyzer, embedder=embedder) as engine:
        engine.add_document(make_document("# 근로기준법\n\n" + "\n\n".join([HOURS, LEAVE, WAGES]), "law.md"), "test")
        engine.wait_for_vectors()
        question = "연차 유급휴가는 며칠이야?"
        tokens = analyzer.content_tokens(question)
        full = SemanticQuery(engine.semantic.snapshot, embedder.embed_queries([question])[0], embedder)
        leave_row = engine.ask(question).passages[0].row_id
        partial = SemanticQuery(full.vectors.only_rows({row for row in full.vectors.row_ids.tolist() if row != leave_row}), full.query, embedder)
        answer = answer_question(question, question, tokens, engine.snapshot, engine.store.chunks, engine.settings, 5, partial)
        assert answer.passages[0].row_id == leave_row and "15일" in (answer.text or "")
