"""BM25 as pure functions over numpy/scipy arrays.

The variants follow rank-bm25's formulas exactly (its classes are the reference the
tests compare against), plus Lucene's non-negative idf:
- bm25l:  idf = ln(N+1) - ln(df+0.5);  f = idf·(k1+1)·(c+δ)/(k1+c+δ), c = tf/(1-b+b·dl/avgdl)
- okapi:  idf = ln(N-df+0.5) - ln(df+0.5), negative idf → ε·mean(idf);  f = idf·tf·(k1+1)/(tf+k1·(1-b+b·dl/avgdl))
- lucene: idf = ln(1 + (N-df+0.5)/(df+0.5));  f = idf·tf/(tf+k1·(1-b+b·dl/avgdl))
BM25L gives a document lacking a query term the constant f(c=0); the matrix stores
f - f(0) so it stays sparse, and the constant is added back per query term.
BM25Okapi scores a one-chunk corpus negative and a two-chunk one zero, which is why
bm25l is the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

OKAPI_EPSILON = 0.25


@dataclass(frozen=True)
class BM25Params:
    variant: str = "bm25l"
    k1: float = 1.5
    b: float = 0.75
    delta: float = 0.5


def idf(df: np.ndarray, n_docs: int, params: BM25Params) -> np.ndarray:
    df = df.astype(np.float64)
    if params.variant == "bm25l":
        return np.log(n_docs + 1) - np.log(df + 0.5)
    if params.variant == "lucene":
        return np.log1p((n_docs - df + 0.5) / (df + 0.5))
    values = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
    if values.size:
        values[values < 0] = OKAPI_EPSILON * values.mean()
    return values


def absent_term_score(idf_values: np.ndarray, params: BM25Params) -> np.ndarray:
    """What a document that lacks a term still gets for it (non-zero only for bm25l)."""
    if params.variant == "bm25l":
        return idf_values * (params.k1 + 1) * params.delta / (params.k1 + params.delta)
    return np.zeros_like(idf_values)


def weight_matrix(tf: sp.csr_matrix, idf_values: np.ndarray, params: BM25Params) -> sp.csc_matrix:
    """Per (chunk, term) score contributions beyond the absent-term constant, as CSC float32."""
    doc_len = np.asarray(tf.sum(axis=1)).ravel().astype(np.float64)
    avgdl = doc_len.mean() if doc_len.size and doc_len.sum() else 1.0
    norm = 1 - params.b + params.b * doc_len / avgdl
    rows = np.repeat(np.arange(tf.shape[0]), np.diff(tf.indptr))
    counts = tf.data.astype(np.float64)
    term_idf = idf_values[tf.indices]
    if params.variant == "bm25l":
        c = counts / norm[rows]
        values = term_idf * (params.k1 + 1) * (c + params.delta) / (params.k1 + c + params.delta)
        values -= absent_term_score(term_idf, params)
    elif params.variant == "lucene":
        values = term_idf * counts / (counts + params.k1 * norm[rows])
    else:
        values = term_idf * counts * (params.k1 + 1) / (counts + params.k1 * norm[rows])
    weights = sp.csr_matrix((values.astype(np.float32), tf.indices, tf.indptr), shape=tf.shape)
    return weights.tocsc()


def score(weights: sp.csc_matrix, term_ids: np.ndarray, term_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores of the chunks that contain at least one query term: (chunk positions, scores).

    Only the columns of the query's terms are read, so the cost follows their postings,
    not the corpus size.
    """
    starts = weights.indptr[term_ids]
    ends = weights.indptr[term_ids + 1]
    lengths = ends - starts
    if not lengths.sum():
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    positions = np.concatenate([weights.indices[s:e] for s, e in zip(starts, ends)])
    values = np.concatenate(
        [weights.data[s:e].astype(np.float64) * count for s, e, count in zip(starts, ends, term_counts)]
    )
    totals = np.bincount(positions, weights=values, minlength=weights.shape[0])
    touched = np.flatnonzero(np.bincount(positions, minlength=weights.shape[0]))
    return touched, totals[touched]


def top_k(positions: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best by score, ties broken by lower position, best first."""
    if positions.size > k * 4:
        keep = np.argpartition(-scores, k)[: k * 4] if k < scores.size else np.arange(scores.size)
        threshold = scores[keep].min()
        keep = np.flatnonzero(scores >= threshold)
        positions, scores = positions[keep], scores[keep]
    order = np.lexsort((positions, -scores))[:k]
    return positions[order], scores[order]
