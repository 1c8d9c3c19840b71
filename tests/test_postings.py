"""The compiled postings edits equal the same edit made on a dense chunk × term matrix."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from retrieval.postings import append_rows, drop_rows


def random_counts(seed: int, n_docs: int, n_terms: int, high: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, high, size=(n_docs, n_terms))
    counts[rng.random((n_docs, n_terms)) < 0.7] = 0  # sparse, with empty terms and chunks
    return counts


def columns(counts: np.ndarray, dtype: type) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    matrix = sp.csc_matrix(counts)
    matrix.sort_indices()
    return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32), matrix.data.astype(dtype)


def dense(indptr: np.ndarray, indices: np.ndarray, tf: np.ndarray, n_docs: int) -> np.ndarray:
    return sp.csc_matrix((tf, indices, indptr), shape=(n_docs, indptr.size - 1)).toarray()


@pytest.mark.parametrize("old_dtype, added_dtype", [(np.uint8, np.uint8), (np.uint8, np.uint16), (np.uint16, np.uint8)])
def test_appended_rows_follow_the_existing_ones_in_every_term(old_dtype: type, added_dtype: type) -> None:
    old, added = random_counts(1, 40, 25), random_counts(2, 7, 31)  # 6 new terms
    indptr, indices, tf = columns(old, old_dtype)
    added_indptr, added_rows, added_tf = columns(added, added_dtype)
    out_indptr, out_indices, out_tf = append_rows(indptr, indices, tf, added_indptr, added_rows + np.int32(40), added_tf)
    expected = np.zeros((47, 31), np.int64)
    expected[:40, :25], expected[40:] = old, added
    assert np.array_equal(dense(out_indptr, out_indices, out_tf, 47), expected)
    assert out_tf.dtype == np.promote_types(old_dtype, added_dtype)
    assert all(np.all(np.diff(out_indices[a:b]) > 0) for a, b in zip(out_indptr[:-1], out_indptr[1:]))


def test_appending_to_an_empty_index() -> None:
    added = random_counts(3, 9, 12)
    out = append_rows(np.zeros(1, np.int64), np.empty(0, np.int32), np.empty(0, np.uint8), *columns(added, np.uint8))
    assert np.array_equal(dense(*out, 9), added)


@pytest.mark.parametrize(
    "removed",
    [[0], [59], [20, 21, 22, 23], [3, 17, 18, 40, 59], list(range(1, 60))],
    ids=["first", "last", "a run", "scattered", "all but the first"],
)
def test_dropped_rows_vanish_and_the_rest_close_up(removed: list[int]) -> None:
    counts = random_counts(4, 60, 30, high=300)
    indptr, indices, tf = columns(counts, np.uint16)
    out = drop_rows(indptr, indices, tf, np.array(removed, np.int32))
    kept = np.delete(counts, removed, axis=0)
    assert np.array_equal(dense(*out, kept.shape[0]), kept)
    assert out[1].size == np.count_nonzero(kept) and out[2].dtype == np.uint16
