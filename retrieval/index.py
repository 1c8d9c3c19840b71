"""An immutable BM25 index snapshot over the store's chunks.

A snapshot never changes: adding or removing a document returns a new snapshot built
from this one's term counts plus the new rows, so a question being answered keeps the
snapshot it started with. The term-count matrix is kept for that; the weights are
derived from it. Snapshots are saved beside the store and tagged with the store's
generation and the settings' fingerprint, so a stale or foreign file is never used.
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from retrieval.bm25 import BM25Params, absent_term_score, idf, score, top_k, weight_matrix

log = logging.getLogger(__name__)

INDEX_FORMAT = 1


@dataclass(frozen=True)
class IndexEntry:
    """One chunk as the index sees it: store row id, document id and its terms."""

    row_id: int
    doc_id: str
    terms: Sequence[str]


@dataclass(frozen=True)
class Hit:
    position: int
    row_id: int
    doc_id: str
    score: float


class IndexSnapshot:
    def __init__(
        self,
        vocabulary: dict[str, int],
        tf: sp.csr_matrix,
        row_ids: np.ndarray,
        doc_ids: np.ndarray,
        params: BM25Params,
    ) -> None:
        self.vocabulary = vocabulary
        self.tf = tf
        self.row_ids = row_ids
        self.doc_ids = doc_ids
        self.params = params
        self.df = np.bincount(tf.indices, minlength=tf.shape[1]) if tf.nnz else np.zeros(tf.shape[1], dtype=np.int64)
        self.idf = idf(self.df, tf.shape[0], params)
        self.absent = absent_term_score(self.idf, params)
        self.weights = weight_matrix(tf, self.idf, params)

    @classmethod
    def build(cls, entries: Iterable[IndexEntry], params: BM25Params) -> IndexSnapshot:
        return cls.empty(params).with_entries(entries)

    @classmethod
    def empty(cls, params: BM25Params) -> IndexSnapshot:
        return cls({}, sp.csr_matrix((0, 0), dtype=np.int32), np.empty(0, np.int64), np.empty(0, object), params)

    def __len__(self) -> int:
        return self.tf.shape[0]

    def with_entries(self, entries: Iterable[IndexEntry]) -> IndexSnapshot:
        """A new snapshot with these chunks appended."""
        vocabulary = dict(self.vocabulary)
        indptr = [0]
        indices: list[int] = []
        data: list[int] = []
        row_ids: list[int] = []
        doc_ids: list[str] = []
        for entry in entries:
            counts: dict[int, int] = {}
            for term in entry.terms:
                term_id = vocabulary.setdefault(term, len(vocabulary))
                counts[term_id] = counts.get(term_id, 0) + 1
            indices.extend(counts)
            data.extend(counts.values())
            indptr.append(len(indices))
            row_ids.append(entry.row_id)
            doc_ids.append(entry.doc_id)
        added = sp.csr_matrix(
            (np.asarray(data, dtype=np.int32), np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
            shape=(len(row_ids), len(vocabulary)),
        )
        added.sort_indices()
        old = self.tf.copy()
        old.resize((old.shape[0], len(vocabulary)))
        tf = sp.vstack([old, added], format="csr", dtype=np.int32)
        return IndexSnapshot(
            vocabulary,
            tf,
            np.concatenate([self.row_ids, np.asarray(row_ids, dtype=np.int64)]),
            np.concatenate([self.doc_ids, np.asarray(doc_ids, dtype=object)]),
            self.params,
        )

    def without_document(self, doc_id: str) -> IndexSnapshot:
        keep = np.flatnonzero(self.doc_ids != doc_id)
        return IndexSnapshot(self.vocabulary, self.tf[keep], self.row_ids[keep], self.doc_ids[keep], self.params)

    def term_ids(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Known query terms as (ids, counts); a repeated query term counts again, as in rank-bm25."""
        counts: dict[int, int] = {}
        for term in terms:
            term_id = self.vocabulary.get(term)
            if term_id is not None:
                counts[term_id] = counts.get(term_id, 0) + 1
        return np.fromiter(counts, dtype=np.int64, count=len(counts)), np.fromiter(
            counts.values(), dtype=np.float64, count=len(counts)
        )

    def search(self, terms: Sequence[str], k: int) -> list[Hit]:
        """Top-k chunks for the query terms; chunks matching no term are never returned."""
        ids, counts = self.term_ids(terms)
        if not ids.size or not len(self):
            return []
        positions, scores = score(self.weights, ids, counts)
        positions, scores = top_k(positions, scores, k)
        base = float(np.dot(self.absent[ids], counts))
        return [
            Hit(int(p), int(self.row_ids[p]), str(self.doc_ids[p]), float(s) + base) for p, s in zip(positions, scores)
        ]

    def all_scores(self, terms: Sequence[str]) -> np.ndarray:
        """Every chunk's score, for comparison with reference implementations."""
        ids, counts = self.term_ids(terms)
        result = np.zeros(len(self), dtype=np.float64)
        if ids.size and len(self):
            positions, scores = score(self.weights, ids, counts)
            result[positions] = scores
            result += float(np.dot(self.absent[ids], counts))
        return result

    def document_frequency(self, term: str) -> int:
        term_id = self.vocabulary.get(term)
        return int(self.df[term_id]) if term_id is not None else 0

    def term_idf(self, term: str) -> float:
        """idf of a term; an unseen term gets the idf of a term seen once."""
        term_id = self.vocabulary.get(term)
        if term_id is None:
            return float(idf(np.array([1]), max(len(self), 1), self.params)[0])
        return float(self.idf[term_id])

    def save(self, path: Path, tag: dict[str, object]) -> None:
        """Write atomically: a crash mid-write leaves the previous file or none."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        header = {"format": INDEX_FORMAT, **tag}
        with open(temporary, "wb") as handle:
            np.savez(
                handle,
                header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
                terms=np.frombuffer("\n".join(terms).encode(), dtype=np.uint8),
                indptr=self.tf.indptr,
                indices=self.tf.indices,
                data=self.tf.data,
                row_ids=self.row_ids,
                doc_ids=np.frombuffer("\n".join(self.doc_ids.tolist()).encode(), dtype=np.uint8),
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path, tag: dict[str, object], params: BM25Params) -> IndexSnapshot | None:
        """The saved snapshot if it exists, is intact and carries `tag`; None otherwise."""
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as arrays:
                header = json.loads(arrays["header"].tobytes())
                if header != {"format": INDEX_FORMAT, **tag}:
                    return None
                terms = arrays["terms"].tobytes().decode().split("\n") if arrays["terms"].size else []
                row_ids = arrays["row_ids"]
                doc_text = arrays["doc_ids"].tobytes().decode()
                doc_ids = np.asarray(doc_text.split("\n") if doc_text else [], dtype=object)
                tf = sp.csr_matrix(
                    (arrays["data"], arrays["indices"], arrays["indptr"]), shape=(row_ids.size, len(terms))
                )
            if doc_ids.size != row_ids.size or tf.indices.size and tf.indices.max() >= len(terms):
                raise ValueError("inconsistent arrays")
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, EOFError) as error:
            log.warning("index file %s is unreadable (%s); rebuilding from the store", path, error)
            return None
        return cls({term: i for i, term in enumerate(terms)}, tf, row_ids, doc_ids, params)
