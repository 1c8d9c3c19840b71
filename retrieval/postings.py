"""Compiled edits of the index's column-wise postings: chunks appended, chunks dropped.

A snapshot is immutable, so an edit writes new arrays beside the old ones, which are
being searched meanwhile. numpy's way (np.insert, boolean masks, cumulative sums over
every posting) builds several temporaries the size of the whole index: at a million
chunks (~280M postings) removing one document took 16-23 s and 7 GB beyond the index.
These loops read the old arrays once and write only the new ones.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _merge(
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    added_indptr: np.ndarray,
    added_indices: np.ndarray,
    added_tf: np.ndarray,
    out_indptr: np.ndarray,
    out_indices: np.ndarray,
    out_tf: np.ndarray,
) -> None:
    n_old_terms = indptr.size - 1
    at = 0
    for term in range(out_indptr.size - 1):
        if term < n_old_terms:
            size = indptr[term + 1] - indptr[term]
            out_indices[at : at + size] = indices[indptr[term] : indptr[term + 1]]
            out_tf[at : at + size] = tf[indptr[term] : indptr[term + 1]]
            at += size
        size = added_indptr[term + 1] - added_indptr[term]
        out_indices[at : at + size] = added_indices[added_indptr[term] : added_indptr[term + 1]]
        out_tf[at : at + size] = added_tf[added_indptr[term] : added_indptr[term + 1]]
        at += size
        out_indptr[term + 1] = at


def append_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    added_indptr: np.ndarray,
    added_indices: np.ndarray,
    added_tf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The postings with the added ones after each term's own (the added chunks come after
    every existing one, so each term's chunks stay ascending). `added_indptr` covers every
    term, new ones included; counts widen to the added ones' type when needed."""
    total = indices.size + added_indices.size
    out_indptr = np.zeros(added_indptr.size, np.int64)
    out_indices = np.empty(total, np.int32)
    out_tf = np.empty(total, np.promote_types(tf.dtype, added_tf.dtype))
    _merge(indptr, indices, tf, added_indptr, added_indices, added_tf, out_indptr, out_indices, out_tf)
    return out_indptr, out_indices, out_tf


@njit(cache=True, nogil=True)
def _span(indices: np.ndarray, start: int, end: int, removed: np.ndarray) -> tuple[int, int]:
    """The positions [low, high) of indices[start:end] (ascending) that lie between the
    first and the last removed chunk; most terms lie wholly before or after them."""
    if start == end or indices[end - 1] < removed[0]:
        return end, end
    if indices[start] > removed[-1]:
        return start, start
    low = start + np.searchsorted(indices[start:end], removed[0])
    return low, low + np.searchsorted(indices[low:end], removed[-1], side="right")


@njit(cache=True, nogil=True)
def _count_removed(indptr: np.ndarray, indices: np.ndarray, removed: np.ndarray) -> int:
    count = 0
    for term in range(indptr.size - 1):
        low, high = _span(indices, indptr[term], indptr[term + 1], removed)
        r = 0
        for p in range(low, high):
            while removed[r] < indices[p]:
                r += 1
            count += removed[r] == indices[p]
    return count


@njit(cache=True, nogil=True)
def _keep(
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    removed: np.ndarray,
    out_indptr: np.ndarray,
    out_indices: np.ndarray,
    out_tf: np.ndarray,
) -> None:
    """Copy the postings of the chunks not removed, each renumbered down by the removed
    chunks before it. Between the first and the last removed chunk a term's (ascending)
    chunks are walked beside `removed`; before them they are copied, after them shifted."""
    at = 0
    for term in range(indptr.size - 1):
        start, end = indptr[term], indptr[term + 1]
        low, high = _span(indices, start, end, removed)
        out_indices[at : at + low - start] = indices[start:low]
        out_tf[at : at + low - start] = tf[start:low]
        at += low - start
        r = 0
        for p in range(low, high):
            while removed[r] < indices[p]:
                r += 1
            if removed[r] != indices[p]:
                out_indices[at] = indices[p] - r
                out_tf[at] = tf[p]
                at += 1
        for p in range(high, end):
            out_indices[at] = indices[p] - removed.size
            out_tf[at] = tf[p]
            at += 1
        out_indptr[term + 1] = at


def drop_rows(
    indptr: np.ndarray, indices: np.ndarray, tf: np.ndarray, removed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The postings without the chunks at positions `removed` (ascending, int32, not empty);
    the chunks after them move down to close the gaps."""
    kept = indices.size - _count_removed(indptr, indices, removed)
    out_indptr = np.zeros(indptr.size, np.int64)
    out_indices = np.empty(kept, np.int32)
    out_tf = np.empty(kept, tf.dtype)
    _keep(indptr, indices, tf, removed, out_indptr, out_indices, out_tf)
    return out_indptr, out_indices, out_tf
