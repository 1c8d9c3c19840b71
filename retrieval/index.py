"""An immutable BM25 index snapshot over the store's chunks.

A snapshot never changes: adding or removing a document returns a new snapshot built
from this one's term counts plus or minus the rows, so a question being answered keeps
the snapshot it started with. The counts are kept column-wise (CSC: per term, the chunks
that hold it, ascending) with a bound of each term's largest tf/norm; a query computes the
weights it reads (retrieval.kernels), so it reads only its terms' postings, and an added
document is merged in without re-reading the corpus or re-weighting it. The vocabulary is
a sorted array of 64-bit term keys, not a dict of strings, so a million-chunk index loads
without building millions of Python objects.

Snapshots are saved beside the store as one file of raw arrays (memory-mapped on load,
so start-up reads only a header) tagged with the store's generation and the settings'
fingerprint, so a stale or foreign file is never used, and with a CRC-32 of the arrays:
checked before use for small files, in the background for large ones (see Engine).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import numpy as np

from retrieval import plain_kernels
from retrieval.acceleration import COMPILED, use_compiled
from retrieval.bm25 import (
    OKAPI_EPSILON,
    BM25Params,
    absent_term_score,
    average_length,
    exact_idf,
    idf,
    length_norm,
    saturation,
)

log = logging.getLogger(__name__)

INDEX_FORMAT = 3
MAGIC = b"QABOTIX2"
ALIGN = 64
COUNT_BATCH = 1 << 22  # term occurrences counted per batch while building
MAX_COUNT = np.iinfo(np.uint16).max
VERIFY_INLINE_BYTES = 64 << 20  # smaller files are checksummed before use, larger ones in the background
SCIPY_FROM = 1 << 22  # postings from which a build transposes with scipy rather than a sort
# Chunks from which a query searches both halves of the chunks at once (kernels.search_halves;
# above acceleration.COMPILED_FROM, so only with the compiled kernels).
# Retrieval p50 on two cores, 200 questions, one range → halves: 10k chunks 0.14 → 0.21 ms,
# 100k 0.57 → 0.45 ms, 1M 4.4 → 2.6 ms.
SPLIT_FROM = 50_000
# How stale the weight bounds kept through edits (IndexSnapshot._bounds_after_edit) may grow
# before an edit recomputes them exactly; and a margin for their rounding.
STALEST_BOUNDS = 0.05
BOUND_ROUNDING = 1e-12


@dataclass(frozen=True)
class IndexEntry:
    """One chunk as the index sees it: store row id, document id and its terms."""

    row_id: int
    doc_id: str
    terms: Sequence[str]


class Hit(NamedTuple):
    """One search result; a NamedTuple because it builds in 0.7 µs where a frozen dataclass
    takes 1.5, ten times in every search."""

    position: int
    row_id: int
    doc_id: str
    score: float


class TermStatistics:
    """df and idf of a question's terms from one batch lookup.

    Answering reads them many times over (rerank, coverage, sentence weights); a term
    outside the batch is looked up in the snapshot on first use.
    """

    def __init__(self, frequencies: dict[str, int], idfs: dict[str, float], snapshot: IndexSnapshot) -> None:
        self._frequencies = frequencies
        self._idfs = idfs
        self._snapshot = snapshot

    def document_frequency(self, term: str) -> int:
        if term not in self._frequencies:
            self._add(term)
        return self._frequencies[term]

    def idf(self, term: str) -> float:
        if term not in self._idfs:
            self._add(term)
        return self._idfs[term]

    def _add(self, term: str) -> None:
        looked_up = self._snapshot.term_statistics([term])
        self._frequencies[term] = looked_up.document_frequency(term)
        self._idfs[term] = looked_up.idf(term)


def _joined(terms: Sequence[str]) -> np.ndarray:
    """The terms as one UTF-8 buffer, separated by a byte UTF-8 never uses (see kernels)."""
    return np.frombuffer(bytes([plain_kernels.SEPARATOR]).join(map(str.encode, terms)), dtype=np.uint8)


def term_keys(terms: Sequence[str]) -> np.ndarray:
    """The terms' stable 64-bit keys (the same in every process, unlike hash())."""
    if not terms:
        return np.empty(0, dtype=np.uint64)
    return plain_kernels.hash_terms(_joined(terms))


class Vocabulary:
    """Term → id through sorted 64-bit keys; two terms sharing a key (p ≈ V²/2⁶⁵) would share an id."""

    def __init__(self, keys: np.ndarray, ids: np.ndarray) -> None:
        self.keys = keys  # sorted uint64
        self.ids = ids  # int32, aligned with keys

    @classmethod
    def empty(cls) -> Vocabulary:
        return cls(np.empty(0, np.uint64), np.empty(0, np.int32))

    def __len__(self) -> int:
        return self.keys.size

    def lookup_keys(self, keys: np.ndarray) -> np.ndarray:
        """Ids of these keys, -1 for unknown ones."""
        if not self.keys.size or not keys.size:
            return np.full(keys.size, -1, dtype=np.int64)
        positions = np.minimum(np.searchsorted(self.keys, keys), self.keys.size - 1)
        found = self.keys[positions] == keys
        return np.where(found, self.ids[positions], -1).astype(np.int64)

    def lookup(self, terms: Sequence[str]) -> np.ndarray:
        return self.lookup_keys(term_keys(terms))

    def extended(self, keys: np.ndarray, first_id: int) -> Vocabulary:
        """A vocabulary with these (unknown) keys added under ids first_id, first_id+1, …"""
        if not keys.size:
            return self
        all_keys = np.concatenate([self.keys, keys])
        all_ids = np.concatenate([self.ids, np.arange(first_id, first_id + keys.size, dtype=np.int32)])
        order = np.argsort(all_keys, kind="stable")
        sorted_keys = all_keys[order]
        if sorted_keys.size > 1 and np.any(sorted_keys[1:] == sorted_keys[:-1]):
            log.warning("two index terms share a 64-bit key; they are counted as one term")
        return Vocabulary(sorted_keys, all_ids[order])


class IndexSnapshot:
    def __init__(
        self,
        vocabulary: Vocabulary,
        n_terms: int,
        indptr: np.ndarray,
        indices: np.ndarray,
        tf: np.ndarray,
        doc_len: np.ndarray,
        row_ids: np.ndarray,
        doc_ids: np.ndarray,
        params: BM25Params,
        max_ntf: np.ndarray | None = None,
        bound_staleness: float = 0.0,
    ) -> None:
        self.vocabulary = vocabulary
        self.n_terms = n_terms
        self.indptr = indptr  # int64, n_terms + 1
        self.indices = indices  # int32 chunk positions, ascending within each term
        self.term_counts = tf  # uint8 while every count fits (most corpora: half the memory), else uint16
        self.doc_len = doc_len  # int32, terms per chunk
        self.row_ids = row_ids
        self.doc_ids = doc_ids
        self.params = params
        self.avgdl = average_length(doc_len)
        okapi = params.variant == "okapi"
        self._okapi_floor = float(OKAPI_EPSILON * np.cumsum(self._raw_okapi_idf())[-1] / n_terms) if okapi and n_terms else 0.0
        # bm25l's and Lucene's idf are positive; Okapi's is negative for terms in most chunks
        self.nonnegative = not okapi or not n_terms or bool(self.idf.min() >= 0)
        self.inverse_norm = 1.0 / length_norm(doc_len, self.avgdl, params)
        self._kernel_arrays = tuple(_read_only(a) for a in (indptr, indices, tf))
        if max_ntf is None:
            kernels = COMPILED.load().kernels if use_compiled(len(self)) else plain_kernels
            max_ntf = kernels.max_normalised_tf(*self._kernel_arrays, self.inverse_norm)
            bound_staleness = 0.0
        self.max_ntf = max_ntf  # per term, at least its largest tf/norm: its weight's bound with the idf
        self.bound_staleness = bound_staleness  # 0 while max_ntf holds the exact maxima
        self._scratch = threading.local()
        self._kernel_params = (
            plain_kernels.VARIANT_CODES[params.variant],
            *(float(value) for value in (params.k1, params.b, params.delta, self._okapi_floor, *saturation(params))),
            self.nonnegative,
        )
        # a loaded file too large to checksum before use: (path, data offset, data size, crc32)
        self.unverified: tuple[Path, int, int, int] | None = None

    def _raw_okapi_idf(self) -> np.ndarray:
        df = self.df.astype(np.float64)
        return np.log(len(self) - df + 0.5) - np.log(df + 0.5)

    # construction -------------------------------------------------------------------

    @classmethod
    def build(cls, entries: Iterable[IndexEntry], params: BM25Params) -> IndexSnapshot:
        return cls.empty(params).with_entries(entries)

    @classmethod
    def empty(cls, params: BM25Params) -> IndexSnapshot:
        return cls(
            Vocabulary.empty(),
            0,
            np.zeros(1, np.int64),
            np.empty(0, np.int32),
            np.empty(0, np.uint8),
            np.empty(0, np.int32),
            np.empty(0, np.int64),
            np.empty(0, object),
            params,
        )

    def __len__(self) -> int:
        return self.doc_len.size

    # Per-term arrays for comparisons and Okapi's floor, made on demand: a million-chunk
    # index has millions of terms, and a query needs only its own (see kernels.search).
    @cached_property
    def df(self) -> np.ndarray:
        return np.diff(self.indptr)

    @cached_property
    def idf(self) -> np.ndarray:
        return idf(self.df, len(self), self.params)

    @cached_property
    def absent(self) -> np.ndarray:
        return absent_term_score(self.idf, self.params)

    def _df_of(self, term_id: int) -> int:
        return int(self.indptr[term_id + 1] - self.indptr[term_id])

    def with_entries(self, entries: Iterable[IndexEntry]) -> IndexSnapshot:
        """A new snapshot with these chunks appended; only the new chunks' terms are counted."""
        local: defaultdict[str, int] = defaultdict(count().__next__)
        batch = array("i")
        lengths = array("i")
        row_ids: list[int] = []
        doc_ids: list[str] = []
        pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        batch_start = 0
        for entry in entries:
            before = len(batch)
            batch.extend(map(local.__getitem__, entry.terms))
            lengths.append(len(batch) - before)
            row_ids.append(entry.row_id)
            doc_ids.append(entry.doc_id)
            if len(batch) >= COUNT_BATCH:
                pieces.append(_count_rows(batch, lengths, batch_start))
                batch_start = len(lengths)
                batch = array("i")
        pieces.append(_count_rows(batch, lengths, batch_start))
        if not row_ids:
            return self
        # local term ids → this snapshot's ids; unknown terms get fresh ids in first-seen order
        keys = term_keys(list(local))
        mapped = self.vocabulary.lookup_keys(keys)
        unknown = np.flatnonzero(mapped < 0)
        mapped[unknown] = self.n_terms + np.arange(unknown.size)
        vocabulary = self.vocabulary.extended(keys[unknown], self.n_terms)
        n_terms = self.n_terms + unknown.size
        mapped = mapped.astype(np.int32)
        rows = np.concatenate([p[0] for p in pieces])
        cols = mapped[np.concatenate([p[1] for p in pieces])]
        counts = np.concatenate([p[2] for p in pieces])
        del pieces  # a million chunks hold ~280M postings: keep one copy at a time
        new_lengths = np.asarray(lengths, dtype=np.int32)
        doc_len = np.concatenate([self.doc_len, new_lengths])
        bounds, staleness = self._bounds_after_edit(doc_len, n_terms, removed=0)
        if bounds is not None:  # the new chunks' own maxima, as the exact pass would compute them
            new_inverse = 1.0 / length_norm(new_lengths, average_length(doc_len), self.params)
            np.maximum.at(bounds, cols, counts * new_inverse[rows])
        added = _to_columns(rows, cols, counts, len(row_ids), n_terms)
        del rows, cols, counts
        edits = self._postings_edits(doc_len.size)
        indptr, indices, tf = _append_rows(edits, self.indptr, self.indices, self.term_counts, len(self), *added)
        return IndexSnapshot(
            vocabulary,
            n_terms,
            indptr,
            indices,
            tf,
            doc_len,
            np.concatenate([self.row_ids, np.asarray(row_ids, dtype=np.int64)]),
            np.concatenate([self.doc_ids, np.asarray(doc_ids, dtype=object)]),
            self.params,
            max_ntf=bounds,
            bound_staleness=staleness,
        )

    def without_document(self, doc_id: str) -> IndexSnapshot:
        keep = self.doc_ids != doc_id
        if keep.all():
            return self
        removed = np.flatnonzero(~keep).astype(np.int32)
        doc_len = self.doc_len[keep]
        bounds, staleness = self._bounds_after_edit(doc_len, self.n_terms, removed=removed.size)
        return IndexSnapshot(
            self.vocabulary,
            self.n_terms,
            *self._postings_edits(len(self)).drop_rows(self.indptr, self.indices, self.term_counts, removed),
            doc_len,
            self.row_ids[keep],
            self.doc_ids[keep],
            self.params,
            max_ntf=bounds,
            bound_staleness=staleness,
        )

    def _bounds_after_edit(self, doc_len: np.ndarray, n_terms: int, removed: int) -> tuple[np.ndarray | None, float]:
        """This snapshot's bounds of each term's tf/norm, still bounds after an edit that
        removes `removed` chunks and leaves chunks of these lengths, and their staleness then;
        (None, 0) when they are to be recomputed exactly.

        The exact maxima read every posting (4 s at a million chunks), and an edit moves
        avgdl, so every chunk's norm. But a chunk's tf/norm changes by the factor
        old norm / new norm of its length, so the old bounds times the largest such factor
        (at most the growth of avgdl) bound the new values; the added chunks' own values are
        then taken in (`with_entries`), and a removed chunk only lowers a maximum. Pruning
        needs bounds, not maxima: the hits stay the same and a query may read a little more.
        Staleness adds up the factors' growth and the shares of chunks removed (which may
        have held a maximum); past STALEST_BOUNDS the bounds are recomputed. The factor is
        monotonic in the length, so the shortest and the longest chunk give its largest.
        """
        if not len(self) or not doc_len.size:
            return None, 0.0
        lengths = np.array([doc_len.min(), doc_len.max()])
        old, new = length_norm(lengths, self.avgdl, self.params), length_norm(lengths, average_length(doc_len), self.params)
        if old.min() <= 0 or new.min() <= 0:
            return None, 0.0
        growth = max(1.0, float((old / new).max())) * (1 + BOUND_ROUNDING)
        staleness = (1 + self.bound_staleness) * growth - 1 + removed / len(self)
        if staleness > STALEST_BOUNDS:
            return None, 0.0
        bounds = np.zeros(n_terms, dtype=np.float64)
        bounds[: self.n_terms] = self.max_ntf * growth
        return bounds, staleness

    # queries ------------------------------------------------------------------------

    def _known(self, terms: Sequence[str]) -> np.ndarray:
        """Ids of the terms (in order, repeats kept), -1 for terms no chunk holds."""
        return self._look_up("term_ids", terms)

    def _searched(self, terms: Sequence[str]) -> np.ndarray:
        """Ids of the terms some chunk holds, in order, repeats kept: rank-bm25 gives the
        others idf 0."""
        return self._look_up("known_term_ids", terms)

    def _look_up(self, kernel: str, terms: Sequence[str]) -> np.ndarray:
        if not terms:
            return np.empty(0, dtype=np.int64)
        kernels = self._query_kernels() or plain_kernels
        return getattr(kernels, kernel)(_joined(terms), self.vocabulary.keys, self.vocabulary.ids, self._kernel_arrays[0])

    def _query_kernels(self) -> ModuleType | None:
        """The compiled kernels when this index is large enough for them and they are loaded
        (their loading starts on the first ask); None: search with numpy meanwhile."""
        if not use_compiled(len(self)):
            return None
        compiled = COMPILED.ready()
        return compiled.kernels if compiled else None

    @staticmethod
    def _postings_edits(n_chunks: int) -> ModuleType:
        """The module whose append_rows/drop_rows edit an index of this many chunks."""
        return COMPILED.load().postings if use_compiled(n_chunks) else plain_kernels

    def term_ids(self, terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Known query terms as (ids, counts); a repeated query term counts again, as in rank-bm25."""
        ids = self._searched(terms)
        unique, counts = np.unique(ids, return_counts=True)
        return unique, counts.astype(np.float64)

    def _query_idf(self, ids: np.ndarray) -> np.ndarray:
        """rank-bm25's idf of each known query term id, in Python floats (math.log, not numpy's)."""
        values = {t: exact_idf(self._df_of(t), len(self), self.params, self._okapi_floor) for t in set(ids.tolist())}
        return np.array([values[t] for t in ids.tolist()], dtype=np.float64)

    def _scratches(self, count: int) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
        """This thread's first `count` sets of kernel scratch, one per range searched at once
        (questions may be answered in parallel, so each thread has its own)."""
        sets = getattr(self._scratch, "sets", ())
        if len(sets) < count:
            scratch = COMPILED.load().kernels.scratch
            sets = (*sets, *(scratch(self.inverse_norm) for _ in range(count - len(sets))))
            self._scratch.sets = sets
        return sets[:count]

    def search(self, terms: Sequence[str], k: int) -> list[Hit]:
        """Top-k chunks for the query terms (ties: lower position first); chunks matching no term are never returned."""
        ids = self._searched(terms)
        if not ids.size or not len(self) or k <= 0:
            return []
        kernels = self._query_kernels()
        if kernels is None:
            positions, scores = plain_kernels.search(
                *self._kernel_arrays, self.doc_len, ids, self._query_idf(ids), k, self.avgdl, self.params
            )
        else:
            arguments = (*self._kernel_arrays, self.doc_len, self.max_ntf, ids, k, self.avgdl, self._kernel_params)
            if len(self) >= SPLIT_FROM and kernels.halves_at_once():
                positions, scores = kernels.search_halves(*arguments, self._scratches(2))
            else:
                positions, scores = kernels.search(*arguments, *self._scratches(1)[0])
        return list(map(Hit, positions.tolist(), self.row_ids[positions].tolist(), self.doc_ids[positions].tolist(), scores.tolist()))

    def all_scores(self, terms: Sequence[str]) -> np.ndarray:
        """Every chunk's score, one query term at a time in numpy (memory O(chunks)): the
        exhaustive check beside `search`, and the comparison with reference implementations."""
        ids = self._searched(terms)
        return plain_kernels.exact_scores_at(
            np.arange(len(self)), *self._kernel_arrays, self.doc_len, ids, self._query_idf(ids), self.avgdl, self.params
        )

    def document_frequency(self, term: str) -> int:
        return self.term_statistics([term]).document_frequency(term)

    def term_idf(self, term: str) -> float:
        """idf of a term; an unseen term gets the idf of a term seen once."""
        return self.term_statistics([term]).idf(term)

    def term_statistics(self, terms: Iterable[str]) -> TermStatistics:
        """Document frequency and idf of these terms, looked up together."""
        unique = list(dict.fromkeys(terms))
        ids = self._known(unique).tolist()
        frequencies = [self._df_of(term_id) if term_id >= 0 else 0 for term_id in ids]
        if self.params.variant == "okapi":  # its floor depends on every term's idf
            values = [float(self.idf[term_id]) if df else 0.0 for term_id, df in zip(ids, frequencies)]
        else:
            values = idf(np.array(frequencies, dtype=np.float64), len(self), self.params).tolist()
        unseen = float(idf(np.array([1]), max(len(self), 1), self.params)[0])
        return TermStatistics(
            dict(zip(unique, frequencies)),
            {term: value if df else unseen for term, value, df in zip(unique, values, frequencies)},
            self,
        )

    # persistence --------------------------------------------------------------------

    def save(self, path: Path, tag: dict[str, object]) -> None:
        """Write atomically: a crash mid-write leaves the previous file or none."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        names, doc_index = np.unique(self.doc_ids.astype(str), return_inverse=True) if len(self) else (
            np.empty(0, str), np.empty(0, np.int64)
        )
        arrays = {
            "indptr": np.asarray(self.indptr, dtype=np.int64),
            "indices": np.asarray(self.indices, dtype=np.int32),
            "tf": np.asarray(self.term_counts),
            "max_ntf": np.asarray(self.max_ntf, dtype=np.float64),
            "keys": np.asarray(self.vocabulary.keys, dtype=np.uint64),
            "key_ids": np.asarray(self.vocabulary.ids, dtype=np.int32),
            "doc_len": np.asarray(self.doc_len, dtype=np.int32),
            "row_ids": np.asarray(self.row_ids, dtype=np.int64),
            "doc_index": doc_index.astype(np.int32),
            "doc_names": np.frombuffer("\n".join(names.tolist()).encode(), dtype=np.uint8),
        }
        layout = {}
        offset = 0
        for name, values in arrays.items():
            layout[name] = {"dtype": values.dtype.str, "shape": list(values.shape), "offset": offset}
            offset += _aligned(values.nbytes)
        checksum = 0
        for values in arrays.values():
            checksum = zlib.crc32(memoryview(np.ascontiguousarray(values)).cast("B"), checksum)
            checksum = zlib.crc32(b"\0" * (_aligned(values.nbytes) - values.nbytes), checksum)
        header = {
            "format": INDEX_FORMAT,
            "tag": tag,
            "crc32": checksum,
            "params": [self.params.variant, self.params.k1, self.params.b, self.params.delta],
            "n_terms": self.n_terms,
            "bound_staleness": self.bound_staleness,
            "arrays": layout,
            "data_bytes": offset,
        }
        header_bytes = json.dumps(header).encode()
        start = _aligned(len(MAGIC) + 8 + len(header_bytes))
        # workers sharing a data dir take turns writing the temporary file
        with open(path.with_name(path.name + ".lock"), "wb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._write(temporary, header_bytes, start, arrays)
            os.replace(temporary, path)

    @staticmethod
    def _write(temporary: Path, header_bytes: bytes, start: int, arrays: dict[str, np.ndarray]) -> None:
        with open(temporary, "wb") as handle:
            handle.write(MAGIC + len(header_bytes).to_bytes(8, "little") + header_bytes)
            handle.write(b"\0" * (start - handle.tell()))
            for values in arrays.values():
                handle.write(memoryview(np.ascontiguousarray(values)).cast("B"))
                handle.write(b"\0" * (_aligned(values.nbytes) - values.nbytes))
            handle.flush()
            os.fsync(handle.fileno())

    @classmethod
    def load(cls, path: Path, tag: dict[str, object], params: BM25Params) -> IndexSnapshot | None:
        """The saved snapshot if it exists, is intact and carries `tag`; None otherwise.

        The large arrays are memory-mapped: start-up reads the header and the per-chunk
        arrays, and a query pages in only its terms' postings.
        """
        if not path.is_file():
            return None
        try:
            return cls._load(path, tag, params)
        except (OSError, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError) as error:
            log.warning("index file %s is unreadable (%s); rebuilding from the store", path, error)
            return None

    @classmethod
    def _load(cls, path: Path, tag: dict[str, object], params: BM25Params) -> IndexSnapshot | None:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            lead = handle.read(len(MAGIC) + 8)
            if len(lead) < len(MAGIC) + 8 or lead[: len(MAGIC)] != MAGIC:
                raise ValueError("not a qabot index file")
            header_size = int.from_bytes(lead[len(MAGIC) :], "little")
            if header_size > min(size, 1 << 24):
                raise ValueError("header size out of range")
            header = json.loads(handle.read(header_size))
        if header.get("format") != INDEX_FORMAT or header.get("tag") != tag:
            return None
        if header.get("params") != [params.variant, params.k1, params.b, params.delta]:
            return None
        start = _aligned(len(MAGIC) + 8 + header_size)
        if size != start + header["data_bytes"]:
            raise ValueError(f"file is {size} bytes, expected {start + header['data_bytes']}")

        def array_of(name: str, mapped: bool = True) -> np.ndarray:
            spec = header["arrays"][name]
            dtype, shape = np.dtype(spec["dtype"]), tuple(spec["shape"])
            if not int(np.prod(shape)):
                return np.empty(shape, dtype)
            if spec["offset"] + dtype.itemsize * int(np.prod(shape)) > header["data_bytes"]:
                raise ValueError(f"array {name} runs past the end")
            values = np.memmap(path, dtype=dtype, mode="r", offset=start + spec["offset"], shape=shape)
            # a plain ndarray view: slicing a memmap subclass costs microseconds of Python per slice
            return values.view(np.ndarray) if mapped else np.array(values)

        check = (path, start, int(header["data_bytes"]), int(header["crc32"]))
        if check[2] <= VERIFY_INLINE_BYTES and not file_intact(*check):
            raise ValueError("checksum mismatch: the arrays are damaged")
        n_terms = int(header["n_terms"])
        indptr = array_of("indptr", mapped=False)
        indices, tf, max_ntf = array_of("indices"), array_of("tf"), array_of("max_ntf", mapped=False)
        keys, key_ids = array_of("keys", mapped=False), array_of("key_ids", mapped=False)
        doc_len, row_ids = array_of("doc_len", mapped=False), array_of("row_ids", mapped=False)
        doc_index = array_of("doc_index", mapped=False)
        names_text = array_of("doc_names", mapped=False).tobytes().decode()
        names = np.asarray(names_text.split("\n") if names_text else [], dtype=object)
        n_docs = doc_len.size
        checks = [
            indptr.size == n_terms + 1 and indptr[0] == 0 and indptr[-1] == indices.size,
            tf.size == indices.size and tf.dtype in (np.uint8, np.uint16) and max_ntf.size == n_terms,
            keys.size == key_ids.size and row_ids.size == doc_index.size == n_docs,
            not indptr.size or bool(np.all(np.diff(indptr) >= 0)),
            not keys.size or bool(np.all(keys[1:] >= keys[:-1])),
            not key_ids.size or (key_ids.min() >= 0 and key_ids.max() < n_terms),
            not doc_index.size or (doc_index.min() >= 0 and doc_index.max() < names.size),
        ]
        if not all(checks):
            raise ValueError("inconsistent arrays")
        snapshot = cls(
            Vocabulary(keys, key_ids),
            n_terms,
            indptr,
            indices,
            tf,
            doc_len,
            row_ids,
            names[doc_index] if n_docs else np.empty(0, object),
            params,
            max_ntf=max_ntf,
            bound_staleness=float(header.get("bound_staleness", 0.0)),  # files before it held exact maxima
        )
        if check[2] > VERIFY_INLINE_BYTES:
            snapshot.unverified = check
        return snapshot


def _read_only(values: np.ndarray) -> np.ndarray:
    """A read-only view: mapped and built arrays then share one compiled kernel signature."""
    view = values.view()
    view.flags.writeable = False
    return view


def file_intact(path: Path, offset: int, size: int, checksum: int) -> bool:
    """Whether the `size` bytes at `offset` of the file still have their CRC-32 (read, not mapped)."""
    crc = 0
    buffer = bytearray(1 << 22)
    with open(path, "rb") as handle:
        handle.seek(offset)
        left = size
        while left > 0:
            read = handle.readinto(memoryview(buffer)[: min(left, len(buffer))])
            if not read:
                return False
            crc = zlib.crc32(memoryview(buffer)[:read], crc)
            left -= read
    return crc == checksum


def _aligned(size: int) -> int:
    return (size + ALIGN - 1) // ALIGN * ALIGN


def _count_rows(batch: array, lengths: array, first_row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, local term id, count) of one batch of rows, sorted by row then term."""
    terms = np.frombuffer(batch, dtype=np.int32) if len(batch) else np.empty(0, np.int32)
    row_lengths = np.frombuffer(lengths, dtype=np.int32)[first_row:]
    rows = np.repeat(np.arange(first_row, first_row + row_lengths.size, dtype=np.int64), row_lengths)
    keys, counts = np.unique((rows << 32) | terms.astype(np.int64), return_counts=True)
    return (keys >> 32).astype(np.int32), (keys & 0xFFFFFFFF).astype(np.int32), np.minimum(counts, MAX_COUNT).astype(np.uint16)


def _to_columns(
    rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, n_rows: int, n_terms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Postings given row by row → CSC arrays (indptr, row indices ascending per column, counts)."""
    if rows.size > SCIPY_FROM:  # a full build: scipy's linear-time transpose (imported only here)
        import scipy.sparse as sp

        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_rows))])
        matrix = sp.csr_matrix((counts, cols, indptr), shape=(n_rows, n_terms)).tocsc()
        return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32), matrix.data.astype(np.uint16)
    order = np.argsort(cols, kind="stable")  # rows arrive ascending, and stay so within each column
    indptr = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=n_terms))]).astype(np.int64)
    return indptr, rows[order].astype(np.int32), counts[order].astype(np.uint16)


def _append_rows(
    edits: ModuleType,
    indptr: np.ndarray,
    indices: np.ndarray,
    tf: np.ndarray,
    n_docs: int,
    new_indptr: np.ndarray,
    new_rows: np.ndarray,
    new_tf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSC arrays with new rows (numbered from 0) placed after the existing `n_docs` rows,
    column by column, by `edits` (the compiled or the numpy append_rows)."""
    new_indices = new_rows + np.int32(n_docs)
    fits = not new_tf.size or int(new_tf.max()) <= np.iinfo(np.uint8).max
    counts_dtype = np.uint8 if fits and (tf.dtype == np.uint8 or not indices.size) else np.uint16
    return edits.append_rows(indptr, indices, tf, new_indptr, new_indices, new_tf.astype(counts_dtype))
