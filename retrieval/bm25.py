"""BM25 as pure functions over numpy arrays.

The variants follow rank-bm25's formulas exactly (its classes are the reference the
tests compare against), plus Lucene's non-negative idf:
- bm25l:  idf = ln(N+1) - ln(df+0.5);  f = idf·(k1+1)·(c+δ)/(k1+c+δ), c = tf/(1-b+b·dl/avgdl)
- okapi:  idf = ln(N-df+0.5) - ln(df+0.5), negative idf → ε·mean(idf);  f = idf·tf·(k1+1)/(tf+k1·(1-b+b·dl/avgdl))
- lucene: idf = ln(1 + (N-df+0.5)/(df+0.5));  f = idf·tf/(tf+k1·(1-b+b·dl/avgdl))
BM25L gives a document lacking a query term the constant f(c=0); the weight matrix stores
f - f(0) so it stays sparse, and the constant is added back per query term.
BM25Okapi scores a one-chunk corpus negative and a two-chunk one zero, which is why
bm25l is the default.

The weights a query reads are computed from the counts in retrieval.kernels, which
also rescores the final candidates with `exact_scores`' operations. `csc_weights` gives
the same weights as a float32 array, in the layout bm25s keeps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OKAPI_EPSILON = 0.25
WEIGHT_BLOCK = 1 << 24  # postings per block when computing weights, bounds temporary memory


@dataclass(frozen=True)
class BM25Params:
    variant: str = "bm25l"
    k1: float = 1.5
    b: float = 0.75
    delta: float = 0.5


def idf(df: np.ndarray, n_docs: int, params: BM25Params) -> np.ndarray:
    df = np.asarray(df, dtype=np.float64)
    if params.variant == "bm25l":
        return np.log(n_docs + 1) - np.log(df + 0.5)
    if params.variant == "lucene":
        return np.log1p((n_docs - df + 0.5) / (df + 0.5))
    values = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
    if values.size:
        # rank-bm25 sums the idfs one by one; cumsum keeps that order
        values[values < 0] = OKAPI_EPSILON * (np.cumsum(values)[-1] / values.size)
    return values


def absent_term_score(idf_values: np.ndarray, params: BM25Params) -> np.ndarray:
    """What a document that lacks a term still gets for it (non-zero only for bm25l)."""
    if params.variant == "bm25l":
        return idf_values * (params.k1 + 1) * params.delta / (params.k1 + params.delta)
    return np.zeros_like(idf_values)


def average_length(doc_len: np.ndarray) -> float:
    """rank-bm25's avgdl: the integer total divided by the count."""
    return int(doc_len.sum()) / doc_len.size if doc_len.size and doc_len.sum() else 1.0


def length_norm(doc_len: np.ndarray, avgdl: float, params: BM25Params) -> np.ndarray:
    """1 - b + b·dl/avgdl, evaluated in rank-bm25's order."""
    return 1 - params.b + params.b * doc_len.astype(np.float64) / avgdl


def saturation(params: BM25Params) -> tuple[float, float]:
    """(A, B) with f - f(0) = idf·A·c/(c + B), c = tf/norm, for every variant.

    bm25l: (k1+1)(c+δ)/(k1+c+δ) - (k1+1)δ/(k1+δ) = (k1+1)k1/(k1+δ) · c/(c+k1+δ): the
    subtraction is done on paper, so float32 loses nothing to cancellation.
    okapi: tf(k1+1)/(tf+k1·norm) = (k1+1)·c/(c+k1); lucene: c/(c+k1).
    """
    k1, delta = params.k1, params.delta
    if params.variant == "bm25l":
        return (k1 + 1) * k1 / (k1 + delta), k1 + delta
    if params.variant == "lucene":
        return 1.0, k1
    return k1 + 1, k1


def posting_weights(
    tf: np.ndarray, inverse_norm: np.ndarray, term_scale: np.ndarray, params: BM25Params
) -> np.ndarray:
    """f - f(0) in float32 for postings with counts `tf`, their chunks' 1/norm and their terms' idf·A."""
    _, b_const = saturation(params)
    c = tf.astype(np.float32)
    c *= inverse_norm
    values = c + np.float32(b_const)
    np.divide(c, values, out=values)
    values *= term_scale
    return values


def csc_weights(
    indptr: np.ndarray, indices: np.ndarray, tf: np.ndarray, norm: np.ndarray, idf_values: np.ndarray, params: BM25Params
) -> np.ndarray:
    """float32 weights aligned with a CSC term-count matrix, computed block by block."""
    weights = np.empty(indices.size, dtype=np.float32)
    inverse_norm = (1.0 / norm).astype(np.float32)
    scale = (idf_values * saturation(params)[0]).astype(np.float32)
    n_terms = indptr.size - 1
    start_term = 0
    while start_term < n_terms:
        # the largest run of columns whose postings fit one block (at least one column)
        end_term = int(np.searchsorted(indptr, indptr[start_term] + WEIGHT_BLOCK, side="right")) - 1
        end_term = min(max(end_term, start_term + 1), n_terms)
        lo, hi = int(indptr[start_term]), int(indptr[end_term])
        if hi > lo:
            term_scale = np.repeat(scale[start_term:end_term], np.diff(indptr[start_term : end_term + 1]))
            weights[lo:hi] = posting_weights(tf[lo:hi], inverse_norm[indices[lo:hi]], term_scale, params)
        start_term = end_term
    return weights


def exact_scores(
    idf_values: np.ndarray, counts: np.ndarray, doc_len: np.ndarray, avgdl: float, params: BM25Params
) -> np.ndarray:
    """Scores of some chunks as rank-bm25's get_scores computes them, operation for operation.

    `idf_values` holds each query term's idf in query order (repeats included), `counts`
    (chunks × query terms) their counts in the chunks, `doc_len` the chunks' lengths. A
    term unknown to the corpus is left out: rank-bm25 adds 0 for it. The per-term
    contributions are summed left to right (cumsum is sequential), as its loop does.
    """
    if not doc_len.size or not idf_values.size:
        return np.zeros(doc_len.size, dtype=np.float64)
    k1, b = params.k1, params.b
    norm = (1 - b + b * doc_len.astype(np.int64) / avgdl)[:, None]
    q_freq = counts.astype(np.int64)
    if params.variant == "bm25l":
        ctd = q_freq / norm
        terms = idf_values * (k1 + 1) * (ctd + params.delta) / (k1 + ctd + params.delta)
    elif params.variant == "lucene":
        terms = idf_values * (q_freq / (q_freq + k1 * norm))
    else:
        terms = idf_values * (q_freq * (k1 + 1) / (q_freq + k1 * norm))
    return np.cumsum(terms, axis=1)[:, -1]


def exact_idf(df: int, n_docs: int, params: BM25Params, okapi_floor: float = 0.0) -> float:
    """One term's idf as rank-bm25 computes it in Python floats (math.log, not numpy's)."""
    if params.variant == "bm25l":
        return math.log(n_docs + 1) - math.log(df + 0.5)
    if params.variant == "lucene":
        return math.log1p((n_docs - df + 0.5) / (df + 0.5))
    value = math.log(n_docs - df + 0.5) - math.log(df + 0.5)
    return okapi_floor if value < 0 else value


def top_k(positions: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best by score, ties broken by lower position, best first."""
    if positions.size > k * 4:
        threshold = np.partition(scores, scores.size - k)[scores.size - k]
        keep = np.flatnonzero(scores >= threshold)
        positions, scores = positions[keep], scores[keep]
    order = np.lexsort((positions, -scores))[:k]
    return positions[order], scores[order]


