"""The index's kernels in plain numpy: the same results as retrieval.kernels, no compiler.

A small corpus is searched, built and edited here, so the first answer after an install
does not wait half a minute for numba to compile (see retrieval.acceleration for the size
from which the compiled kernels take over). Every function gives what its compiled
namesake gives, bit for bit: the same term keys, the same bounds, the same postings, and
the same top k with the same rank-bm25 scores and ties (tests/test_bm25.py and
tests/test_plain_kernels.py hold both paths to that).

The search scores every chunk holding a query term, one query term at a time in query
order, with `retrieval.bm25.exact_scores`' operations: where the compiled search prunes
the chunks that cannot reach the top k first, this one does not, which costs little on a
few thousand chunks.
"""

from __future__ import annotations

import numpy as np

from retrieval.bm25 import BM25Params, exact_scores, top_k

VARIANT_CODES = {"bm25l": 0, "okapi": 1, "lucene": 2}  # the BM25 variants as the kernels take them
SEPARATOR = 0xFF  # a byte UTF-8 never uses: terms are passed as one buffer, separated by it
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
SPLITMIX = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)  # splitmix64's finaliser multipliers


def hash_terms(data: np.ndarray) -> np.ndarray:
    """64-bit keys of the UTF-8 terms in `data` (separated by SEPARATOR): FNV-1a, then
    splitmix64's finaliser. Terms are hashed side by side, one byte position at a time,
    longest first, so the work is one numpy step per byte of the longest term."""
    data = np.asarray(data, dtype=np.uint8)
    ends = np.append(np.flatnonzero(data == SEPARATOR), data.size)
    starts = np.concatenate([[0], ends[:-1] + 1])
    lengths = ends - starts
    order = np.argsort(-lengths, kind="stable")
    sorted_starts, sorted_lengths = starts[order], lengths[order]
    h = np.full(order.size, FNV_OFFSET, np.uint64)
    prime = np.uint64(FNV_PRIME)
    for position in range(int(sorted_lengths[0]) if order.size else 0):
        active = int(np.searchsorted(-sorted_lengths, -position, side="left"))  # terms longer than position
        h[:active] = (h[:active] ^ data[sorted_starts[:active] + position].astype(np.uint64)) * prime
    h = (h ^ (h >> np.uint64(30))) * np.uint64(SPLITMIX[0])
    h = (h ^ (h >> np.uint64(27))) * np.uint64(SPLITMIX[1])
    keys = np.empty_like(h)
    keys[order] = h ^ (h >> np.uint64(31))
    return keys


def term_ids(data: np.ndarray, keys: np.ndarray, ids: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Ids of the terms in `data` through the sorted vocabulary keys; -1 for a term the
    vocabulary lacks or no chunk holds any more."""
    wanted = hash_terms(data)
    if not keys.size:
        return np.full(wanted.size, -1, np.int64)
    at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
    found = np.asarray(keys)[at] == wanted
    term = np.where(found, np.asarray(ids)[at], 0).astype(np.int64)
    held = np.asarray(indptr)[term + 1] > np.asarray(indptr)[term]
    return np.where(found & held, term, -1)


def known_term_ids(data: np.ndarray, keys: np.ndarray, ids: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """`term_ids` without the -1s: the ids a query searches, in its order, repeats kept."""
    found = term_ids(data, keys, ids, indptr)
    return found[found >= 0]


def max_normalised_tf(indptr: np.ndarray, indices: np.ndarray, tf: np.ndarray, inverse_norm: np.ndarray) -> np.ndarray:
    """Each term's largest tf/norm over its postings: with its idf, the bound of its weight."""
    result = np.zeros(indptr.size - 1, np.float64)
    held = np.flatnonzero(np.diff(indptr) > 0)
    if held.size:
        values = tf * inverse_norm[indices]
        result[held] = np.maximum.reduceat(values, np.asarray(indptr)[held])
    return result


def append_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    added_indptr: np.ndarray,
    added_indices: np.ndarray,
    added_tf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The postings with the added ones after each term's own; as retrieval.postings.append_rows."""
    n_terms = added_indptr.size - 1
    old_terms = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    new_terms = np.repeat(np.arange(n_terms), np.diff(added_indptr))
    order = np.argsort(np.concatenate([old_terms, new_terms]), kind="stable")  # a term's old postings first
    out_tf = np.concatenate([tf, added_tf]).astype(np.promote_types(tf.dtype, added_tf.dtype))[order]
    out_indices = np.concatenate([indices, added_indices]).astype(np.int32)[order]
    sizes = np.bincount(old_terms, minlength=n_terms) + np.diff(added_indptr)
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), out_indices, out_tf


def drop_rows(
    indptr: np.ndarray, indices: np.ndarray, tf: np.ndarray, removed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The postings without the chunks at positions `removed` (ascending); as retrieval.postings.drop_rows."""
    terms = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
    kept = ~np.isin(indices, removed)
    shifted = (indices[kept] - np.searchsorted(removed, indices[kept])).astype(np.int32)
    sizes = np.bincount(terms[kept], minlength=indptr.size - 1)
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), shifted, np.asarray(tf)[kept]


def exact_scores_at(
    positions: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    doc_len: np.ndarray,
    query_terms: np.ndarray,
    query_idf: np.ndarray,
    avgdl: float,
    params: BM25Params,
) -> np.ndarray:
    """rank-bm25's scores of the chunks at `positions` (ascending) for the query term ids in
    query order, repeats included, summed term by term in that order."""
    scores = np.zeros(positions.size, np.float64)
    lengths = doc_len[positions]
    columns: dict[int, np.ndarray] = {}
    for term, idf in zip(query_terms.tolist(), query_idf.tolist()):
        if term not in columns:
            held, counts = indices[indptr[term] : indptr[term + 1]], tf[indptr[term] : indptr[term + 1]]
            at = np.minimum(np.searchsorted(held, positions), max(held.size - 1, 0))
            present = held[at] == positions if held.size else np.zeros(positions.size, bool)
            columns[term] = np.where(present, counts[at] if held.size else 0, 0)[:, None]
        scores += exact_scores(np.array([idf]), columns[term], lengths, avgdl, params)
    return scores


def search(
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    doc_len: np.ndarray,
    query_terms: np.ndarray,
    query_idf: np.ndarray,
    k: int,
    avgdl: float,
    params: BM25Params,
) -> tuple[np.ndarray, np.ndarray]:
    """The k best chunks holding a query term (positions, rank-bm25 scores; ties: lower
    position first), as retrieval.kernels.search finds them."""
    holders = np.unique(np.concatenate([indices[indptr[t] : indptr[t + 1]] for t in np.unique(query_terms).tolist()]))
    scores = exact_scores_at(holders, indptr, indices, tf, doc_len, query_terms, query_idf, avgdl, params)
    return top_k(holders.astype(np.int64), scores, k)
