"""BM25 parity with the reference implementations, and sensible rankings on tiny corpora."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from retrieval import acceleration, kernels
from retrieval import index as index_module
from retrieval.bench import ReferenceBM25L
from retrieval.bm25 import BM25Params, csc_weights, top_k
from retrieval.index import IndexEntry, IndexSnapshot

WORDS = [f"w{i}" for i in range(300)]


@pytest.fixture(params=["numpy", "whole", "halves"])
def search_mode(request, monkeypatch) -> str:
    """Search with the plain numpy kernels (as small indexes do), or with the compiled ones:
    every chunk in one call, or (as large indexes do) both halves at once."""
    if request.param != "numpy":
        monkeypatch.setattr(acceleration, "COMPILED_FROM", 0)
        acceleration.COMPILED.load()
    if request.param == "halves":
        monkeypatch.setattr(index_module, "SPLIT_FROM", 0)
    return request.param


def random_corpus(seed: int, n_docs: int = 400) -> list[list[str]]:
    rng = random.Random(seed)
    docs = [[rng.choice(WORDS[: rng.randint(5, 300)]) for _ in range(rng.randint(1, 60))] for _ in range(n_docs)]
    return docs + docs[: n_docs // 4]  # exact duplicates: ties the ranking must break like the reference


def random_queries(seed: int, count: int = 150) -> list[list[str]]:
    rng = random.Random(seed)
    return [[rng.choice(WORDS) for _ in range(rng.randint(1, 12))] + ["unknown-term"] for _ in range(count)]


def snapshot_of(docs: list[list[str]], params: BM25Params | None = None) -> IndexSnapshot:
    params = params or BM25Params()
    return IndexSnapshot.build([IndexEntry(i + 1, f"doc{i % 9}", terms) for i, terms in enumerate(docs)], params)


def reference_top(scores: np.ndarray, docs: list[list[str]], query: list[str], k: int) -> list[int]:
    """The reference's top k among documents holding a query term (the engine returns no others)."""
    holders = np.array([i for i, doc in enumerate(docs) if set(doc) & set(query)], dtype=np.int64)
    if not holders.size:
        return []
    return top_k(holders, scores[holders], k)[0].tolist()


@pytest.mark.parametrize(
    ("variant", "reference"),
    [
        ("bm25l", lambda docs: ReferenceBM25L(docs, k1=1.5, b=0.75, delta=0.5)),
        ("okapi", lambda docs: BM25Okapi(docs, k1=1.5, b=0.75)),
    ],
)
def test_scores_and_rankings_equal_rank_bm25(variant, reference, search_mode: str) -> None:
    docs = random_corpus(1)
    snapshot = snapshot_of(docs, BM25Params(variant))
    ref = reference(docs)
    for query in random_queries(2):
        expected = ref.get_scores(query)
        assert np.array_equal(snapshot.all_scores(query), expected)  # bit for bit: same operations, same order
        hits = snapshot.search(query, 10)
        assert [hit.position for hit in hits] == reference_top(expected, docs, query, 10)
        assert [hit.score for hit in hits] == [expected[hit.position] for hit in hits]


def test_reference_is_textbook_bm25l_as_bm25s_computes_it() -> None:
    """rank-bm25 0.2.2 multiplies BM25L by tf again; the reference (its 0.2.1 scoring) matches bm25s's bm25l."""
    bm25s = pytest.importorskip("bm25s")
    docs = random_corpus(3, 200)
    snapshot = snapshot_of(docs)
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(term, len(vocab)) for term in doc] for doc in docs]
    model = bm25s.BM25(method="bm25l", k1=1.5, b=0.75, delta=0.5)
    model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    for query in random_queries(4, 50):
        known = [vocab[t] for t in query if t in vocab]
        if known:
            np.testing.assert_allclose(snapshot.all_scores(query), model.get_scores(known), rtol=2e-6)


def test_lucene_matches_bm25s_lucene() -> None:
    bm25s = pytest.importorskip("bm25s")
    docs = random_corpus(5, 200)
    snapshot = snapshot_of(docs, BM25Params("lucene"))
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(term, len(vocab)) for term in doc] for doc in docs]
    model = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
    model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    for query in random_queries(6, 50):
        known = [vocab[t] for t in query if t in vocab]
        if known:
            np.testing.assert_allclose(snapshot.all_scores(query), model.get_scores(known), rtol=2e-6, atol=1e-6)


def test_float32_weights_stay_within_a_millionth() -> None:
    """The weights handed to bm25s in the bench (f - f(0), float32) add up to the exact scores."""
    docs = random_corpus(7)
    snapshot = snapshot_of(docs)
    weights = csc_weights(
        snapshot.indptr, snapshot.indices, snapshot.term_counts, 1.0 / snapshot.inverse_norm, snapshot.idf, snapshot.params
    )
    for query in random_queries(8, 40):
        ids, counts = snapshot.term_ids(query)
        approx = np.zeros(len(snapshot))
        for term_id, count in zip(ids, counts):
            start, end = snapshot.indptr[term_id], snapshot.indptr[term_id + 1]
            approx[snapshot.indices[start:end]] += weights[start:end] * count
        approx += float(np.dot(snapshot.absent[ids], counts))
        np.testing.assert_allclose(approx, snapshot.all_scores(query), rtol=1e-6)


@pytest.mark.parametrize("n_chunks", [1, 2, 20])
def test_tiny_corpora_rank_the_chunk_with_the_term_first(n_chunks: int, search_mode: str) -> None:
    """BM25Okapi scores one chunk negative and two chunks zero; the default variant must not."""
    docs = [["서울", "날씨", "맑음"]] + [["부산", "바다", f"항구{i}"] for i in range(n_chunks - 1)]
    target = n_chunks // 2
    docs[0], docs[target] = docs[target], docs[0]
    snapshot = snapshot_of(docs)
    hits = snapshot.search(["서울", "날씨"], 5)
    assert hits[0].position == target
    assert hits[0].score > 0
    assert all(hit.position == target for hit in hits)  # chunks without any query term are never returned
    assert snapshot.search(["없는단어"], 5) == []


def test_many_duplicates_tie_break_by_position(search_mode: str) -> None:
    docs = [["a", "b"], ["a"], ["a", "b"], ["c"]] * 50
    snapshot = snapshot_of(docs)
    hits = snapshot.search(["a", "b"], 10)
    assert [hit.position for hit in hits] == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]


def skewed_corpus(seed: int, n_docs: int = 6000) -> list[list[str]]:
    """Zipf-distributed words: a few terms in most chunks, long tails of rare ones, as in real text."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, 4001)
    weights /= weights.sum()
    return [[f"z{i}" for i in rng.choice(4000, size=rng.integers(3, 90), p=weights)] for _ in range(n_docs)]


@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 10, 40])
def test_pruned_search_ranks_as_exhaustive_scoring_on_a_skewed_corpus(k: int, search_mode: str) -> None:
    """Long common lists take the pruned paths (searched for survivors, or read whole); rare ones lead."""
    docs = skewed_corpus(11)
    snapshot = snapshot_of(docs)
    rng = random.Random(k)
    for _ in range(60):
        common = [f"z{rng.randint(0, 30)}" for _ in range(rng.randint(0, 20))]
        rare = [f"z{rng.randint(30, 3999)}" for _ in range(rng.randint(1, 10))]
        query = common + rare + rare[:1]  # a repeated term counts twice, as in rank-bm25
        rng.shuffle(query)
        expected = snapshot.all_scores(query)
        hits = snapshot.search(query, k)
        assert [hit.position for hit in hits] == reference_top(expected, docs, query, k)
        assert [hit.score for hit in hits] == [expected[hit.position] for hit in hits]


def test_halves_are_searched_on_threads_of_their_own_also_from_many_threads_at_once(monkeypatch) -> None:
    """Large indexes search both halves at once on numba's threading layer, which must be one
    that several answering threads may use together (its "workqueue" would abort)."""
    monkeypatch.setattr(index_module, "SPLIT_FROM", 0)
    monkeypatch.setattr(acceleration, "COMPILED_FROM", 0)
    acceleration.COMPILED.load()
    assert kernels.halves_at_once(), "no thread-safe threading layer (OpenMP or TBB) loads"
    snapshot = snapshot_of(skewed_corpus(5))
    rng = random.Random(5)
    queries = [[f"z{rng.randint(0, 400)}" for _ in range(rng.randint(1, 25))] for _ in range(80)]
    alone = [snapshot.search(query, 10) for query in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda query: snapshot.search(query, 10), queries * 4))
    assert together == alone * 4


def test_okapi_with_negative_idf_ranks_every_holder(search_mode: str) -> None:
    """When most terms are in most chunks, Okapi's idf floor is negative too: no pruning, and the
    ranking is still the reference's."""
    docs = [["common", "x", "w"]] * 30 + [["common", "y", "y", "w"]] * 5 + [["rare", "w"]]
    snapshot = snapshot_of(docs, BM25Params("okapi"))
    assert not snapshot.nonnegative
    reference = BM25Okapi(docs, k1=1.5, b=0.75)
    for query in (["common"], ["common", "y"], ["rare", "common", "x"], ["w", "y"]):
        expected = reference.get_scores(query)
        assert [hit.position for hit in snapshot.search(query, 10)] == reference_top(expected, docs, query, 10)


def test_okapi_term_in_half_the_chunks_weighs_zero_and_its_holders_still_rank(search_mode: str) -> None:
    """Okapi's idf is exactly 0 for a term in half the chunks: its holders score alike and are
    still returned, ties broken by position as the reference does."""
    docs = [["half", "also", "a"], ["b", "also"], ["half", "d", "d"], ["e"]]
    snapshot = snapshot_of(docs, BM25Params("okapi"))
    assert snapshot.nonnegative
    reference = BM25Okapi(docs, k1=1.5, b=0.75)
    for query in (["half"], ["half", "also"], ["half", "d"], ["a", "half", "e"]):
        expected = reference.get_scores(query)
        hits = snapshot.search(query, 3)
        assert [hit.position for hit in hits] == reference_top(expected, docs, query, 3)
        assert len(hits) == min(3, sum(bool(set(doc) & set(query)) for doc in docs))
