"""The plain numpy kernels give what the compiled ones give, bit for bit, on real Korean text.

Small corpora are searched, built and edited with numpy (no compiler before the first
answer); large ones with numba. The two paths must rank alike, ties included, or a corpus
growing past acceleration.COMPILED_FROM would change its answers.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from retrieval import acceleration, plain_kernels
from retrieval.analyzer import Analyzer
from retrieval.index import IndexSnapshot, _joined
from retrieval.evaluation_corpus import AnalysisCache, MemoryCorpus, SourceText
from retrieval.settings import DEFAULT_SETTINGS
from retrieval.terms import index_terms

KORQUAD = Path(__file__).parent / "data" / "korquad" / "KorQuAD_v1.0_dev_even.json"
CONTEXTS = 120


@pytest.fixture(scope="module")
def compiled() -> acceleration.CompiledKernels:
    return acceleration.COMPILED.load()


@pytest.fixture(scope="module")
def korquad(analyzer: Analyzer) -> tuple[IndexSnapshot, list[list[str]]]:
    """An index of real KorQuAD paragraphs, and the terms of their questions."""
    paragraphs = [p for article in json.loads(KORQUAD.read_text())["data"] for p in article["paragraphs"]][:CONTEXTS]
    sources = [SourceText(str(i), f"문단 {i}", p["context"]) for i, p in enumerate(paragraphs)]
    corpus = MemoryCorpus.build(sources, AnalysisCache(analyzer), DEFAULT_SETTINGS)
    questions = [qa["question"] for p in paragraphs for qa in p["qas"]]
    queries = [
        index_terms(DEFAULT_SETTINGS.tokenizer, [t.form for t in analyzer.content_tokens(q)], q) for q in questions
    ]
    return corpus.snapshot, queries


def test_searches_rank_alike_on_real_data(korquad, compiled) -> None:
    snapshot, queries = korquad
    assert len(queries) > 300
    for terms in queries:
        ids = snapshot._searched(terms)
        arguments = (*snapshot._kernel_arrays, snapshot.doc_len, snapshot.max_ntf, ids, 10, snapshot.avgdl)
        plain = plain_kernels.search(
            *snapshot._kernel_arrays, snapshot.doc_len, ids, snapshot._query_idf(ids), 10, snapshot.avgdl, snapshot.params
        )
        whole = compiled.kernels.search(*arguments, snapshot._kernel_params, *compiled.kernels.scratch(snapshot.inverse_norm))
        halves = compiled.kernels.search_halves(
            *arguments,
            snapshot._kernel_params,
            (compiled.kernels.scratch(snapshot.inverse_norm), compiled.kernels.scratch(snapshot.inverse_norm)),
        )
        for other in (whole, halves):
            assert plain[0].tolist() == other[0].tolist()  # positions, ties in the same order
            assert plain[1].tolist() == other[1].tolist()  # scores, bit for bit


def test_term_keys_and_lookups_alike(korquad, compiled) -> None:
    snapshot, queries = korquad
    asked = [term for terms in queries[:100] for term in terms] + ["", "없는말", "a\u200cb"]
    data = _joined(asked)
    assert np.array_equal(plain_kernels.hash_terms(data), compiled.kernels.hash_terms(data))
    lookup = (snapshot.vocabulary.keys, snapshot.vocabulary.ids, snapshot.indptr)
    assert np.array_equal(plain_kernels.term_ids(data, *lookup), compiled.kernels.term_ids(data, *lookup))
    assert (plain_kernels.term_ids(data, *lookup) >= 0).sum() > len(asked) // 2


def test_weight_bounds_alike(korquad, compiled) -> None:
    snapshot, _ = korquad
    arrays = (*snapshot._kernel_arrays, snapshot.inverse_norm)
    assert np.array_equal(plain_kernels.max_normalised_tf(*arrays), compiled.kernels.max_normalised_tf(*arrays))


def test_postings_edits_alike(korquad, compiled) -> None:
    snapshot, _ = korquad
    arrays = snapshot._kernel_arrays
    rng = random.Random(3)
    removed = np.array(sorted(rng.sample(range(len(snapshot)), 25)), np.int32)
    for plain, other in zip(plain_kernels.drop_rows(*arrays, removed), compiled.postings.drop_rows(*arrays, removed)):
        assert plain.dtype == other.dtype and np.array_equal(plain, other)
    indptr, indices, tf = arrays
    added = (indptr, indices + np.int32(len(snapshot)), tf)  # the same postings again, as new chunks
    for plain, other in zip(plain_kernels.append_rows(*arrays, *added), compiled.postings.append_rows(*arrays, *added)):
        assert plain.dtype == other.dtype and np.array_equal(plain, other)
