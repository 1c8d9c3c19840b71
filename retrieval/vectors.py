"""The dense side of retrieval: one immutable matrix of chunk embeddings, searched by brute force.

Like the BM25 IndexSnapshot, a DenseSnapshot never changes: adding or removing chunks
builds the next one, which the engine swaps in, so a question sees one corpus. Rows are
chunks (by store row id); a chunk whose vector is not computed yet is simply absent and
is found by BM25 alone meanwhile.

Vectors are held as float16 (768 bytes a chunk for 384 dimensions), so 1M chunks take
0.77 GB, not 1.5; the file beside the store is read memory-mapped at start. From
COMPILED_FROM chunks a compiled kernel scores the float16 rows directly, both halves at
once (1M chunks: 1.4–1.6 s with numpy's float32 blocks, 0.12 s compiled; the top-20 the
same); below, numpy converts blocks of rows to float32.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from retrieval.acceleration import COMPILED, use_compiled
from retrieval.embedding import EMBED_BATCH, Embedder, text_hash

VECTOR_DTYPE = np.float16
SCORE_BLOCK = 65_536  # rows converted to float32 at a time: 100 MB of scratch at 384 dimensions


class DenseSnapshot:
    def __init__(self, row_ids: np.ndarray, doc_ids: Sequence[str], matrix: np.ndarray, model_id: str) -> None:
        self.row_ids = np.asarray(row_ids, dtype=np.int64)
        self.doc_ids = list(doc_ids)
        self.matrix = matrix
        self.model_id = model_id
        self._position = {int(row): at for at, row in enumerate(self.row_ids.tolist())}

    @classmethod
    def empty(cls, model_id: str, dim: int) -> DenseSnapshot:
        return cls(np.zeros(0, np.int64), [], np.zeros((0, dim), VECTOR_DTYPE), model_id)

    def __len__(self) -> int:
        return len(self.row_ids)

    def __contains__(self, row_id: int) -> bool:
        return row_id in self._position

    def with_rows(self, row_ids: Sequence[int], doc_ids: Sequence[str], vectors: np.ndarray) -> DenseSnapshot:
        """The next snapshot with these rows added (rows already present are left as they are)."""
        fresh = [at for at, row in enumerate(row_ids) if row not in self._position]
        if not fresh:
            return self
        added = np.asarray(vectors, dtype=VECTOR_DTYPE)[fresh]
        return DenseSnapshot(
            np.concatenate([self.row_ids, np.asarray(row_ids, np.int64)[fresh]]),
            [*self.doc_ids, *(doc_ids[at] for at in fresh)],
            np.concatenate([self.matrix, added]) if len(self.matrix) else added,
            self.model_id,
        )

    def only_rows(self, row_ids: set[int]) -> DenseSnapshot:
        """The next snapshot holding only these rows (of those it has)."""
        keep = [at for at, row in enumerate(self.row_ids.tolist()) if row in row_ids]
        if len(keep) == len(self.row_ids):
            return self
        return DenseSnapshot(self.row_ids[keep], [self.doc_ids[at] for at in keep], self.matrix[keep], self.model_id)

    def without_document(self, doc_id: str) -> DenseSnapshot:
        keep = [at for at, owner in enumerate(self.doc_ids) if owner != doc_id]
        if len(keep) == len(self.doc_ids):
            return self
        return DenseSnapshot(self.row_ids[keep], [self.doc_ids[at] for at in keep], self.matrix[keep], self.model_id)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine of the query with every row (float32). A large matrix is scored by the compiled
        kernel once loaded (1M rows: 1.4 s → about 0.1 s), else in numpy blocks converted to
        float32 so no full float32 copy is made."""
        query = np.asarray(query, dtype=np.float32)
        compiled = COMPILED.ready() if use_compiled(len(self.row_ids)) else None
        if compiled is not None:
            halves = self.matrix.view(np.uint16)
            halves.flags.writeable = False  # one compiled signature, memory-mapped or not
            return compiled.kernels.dense_scores(halves, query)
        out = np.empty(len(self.row_ids), dtype=np.float32)
        for start in range(0, len(out), SCORE_BLOCK):
            block = self.matrix[start : start + SCORE_BLOCK]
            out[start : start + len(block)] = block.astype(np.float32) @ query
        return out

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k rows most similar to the query: (row id, cosine), best first, ties by lower row id."""
        if not len(self.row_ids) or k <= 0:
            return []
        scores = self.scores(query)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        order = sorted(top.tolist(), key=lambda at: (-scores[at], self.row_ids[at]))
        return [(int(self.row_ids[at]), float(scores[at])) for at in order]

    def similarity(self, query: np.ndarray, row_ids: Sequence[int]) -> dict[int, float]:
        """Cosine of the query with these rows (rows without a vector are absent)."""
        positions = [(row, self._position[row]) for row in row_ids if row in self._position]
        if not positions:
            return {}
        block = self.matrix[[at for _, at in positions]].astype(np.float32)
        values = block @ np.asarray(query, dtype=np.float32)
        return {row: float(value) for (row, _), value in zip(positions, values.tolist())}

    def save(self, path: Path, tag: dict[str, object]) -> None:
        """Write the matrix (.npy, memory-mappable), the row ids and the tag, each atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npy")
        np.save(temporary, np.ascontiguousarray(self.matrix))
        rows = path.with_suffix(".rows.json.tmp")
        rows.write_text(
            json.dumps({"tag": tag, "model": self.model_id, "rows": self.row_ids.tolist(), "docs": self.doc_ids}),
            encoding="utf-8",
        )
        os.replace(temporary, path)
        os.replace(rows, path.with_suffix(".rows.json"))

    @classmethod
    def load(cls, path: Path, tag: dict[str, object], model_id: str) -> DenseSnapshot | None:
        """The saved snapshot when its tag and model match, memory-mapped; None when absent, stale or unreadable."""
        try:
            meta = json.loads(path.with_suffix(".rows.json").read_text(encoding="utf-8"))
            if meta.get("tag") != tag or meta.get("model") != model_id:
                return None
            matrix = np.load(path, mmap_mode="r")
            if len(matrix) != len(meta["rows"]) or matrix.dtype != VECTOR_DTYPE:
                return None
            return cls(np.asarray(meta["rows"], np.int64), meta["docs"], matrix, model_id)
        except (OSError, ValueError, KeyError, TypeError):
            return None


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=VECTOR_DTYPE).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=VECTOR_DTYPE)


class VectorCache(Protocol):
    """Where computed embeddings are kept by text hash: the store, for the engine and `qabot eval`."""

    def vectors(self, model: str, text_hashes: Iterable[str]) -> dict[str, bytes]: ...

    def put_vectors(self, model: str, items: Iterable[tuple[str, bytes]]) -> None: ...


Progress = Callable[[int, int], None]  # (done, total)


def embed_texts(
    texts: Sequence[str], embedder: Embedder, cache: VectorCache | None = None, progress: Progress | None = None
) -> np.ndarray:
    """Embeddings of `texts` (float16 rows): cached ones read, the rest computed in batches and cached."""
    hashes = [text_hash(text) for text in texts]
    known = cache.vectors(embedder.model_id, hashes) if cache is not None else {}
    todo = list(dict.fromkeys(h for h in hashes if h not in known))
    by_hash = {h: from_bytes(v) for h, v in known.items()}
    text_of = dict(zip(hashes, texts))
    if progress is not None:
        progress(0, len(todo))
    for start in range(0, len(todo), EMBED_BATCH):
        batch = todo[start : start + EMBED_BATCH]
        computed = embedder.embed_passages([text_of[h] for h in batch]).astype(VECTOR_DTYPE)
        by_hash.update(zip(batch, computed))
        if cache is not None:
            cache.put_vectors(embedder.model_id, [(h, to_bytes(v)) for h, v in zip(batch, computed)])
        if progress is not None:
            progress(min(start + EMBED_BATCH, len(todo)), len(todo))
    if not texts:
        return np.zeros((0, embedder.dim), VECTOR_DTYPE)
    return np.stack([by_hash[h] for h in hashes]).astype(VECTOR_DTYPE)
