"""Keeps the engine's chunk embeddings current: loaded at start, computed in the background.

Embedding a chunk costs about 0.1 s on two cores, a thousand times its morpheme analysis,
so a new document is answerable by BM25 as soon as it is stored and joins the semantic
side when its vectors are done: a background thread embeds pending chunks in batches and
swaps in a DenseSnapshot after each one. Vectors are kept in the store by text hash
(re-chunking and restarts reuse them) and the current matrix is saved beside the store,
read memory-mapped at the next start; chunks it lacks are taken from the store's vectors
or computed again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from corpus.store import Store, StoredChunk
from retrieval.embedding import EMBED_BATCH, Embedder, embedding_text
from retrieval.vectors import DenseSnapshot, embed_texts

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)
FETCH_BATCH = 512  # chunks read from the store at a time when filling in missing vectors


class SemanticIndex:
    def __init__(self, store: Store, embedder: Embedder, path: Path | None) -> None:
        self.store = store
        self.embedder = embedder
        self.path = path
        self.snapshot = self._load()
        self._pending: list[tuple[int, str]] = []  # (row id, doc id) waiting for a vector
        self._removed: set[str] = set()  # documents removed while their vectors were being computed
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None
        self._progress: tuple[int, int] = (0, 0)
        self._save_lock = threading.Lock()
        self.enqueue([(row, doc) for row, doc in store.chunk_rows() if row not in self.snapshot])

    def _tag(self) -> dict[str, object]:
        return {"generation": self.store.generation}

    def _load(self) -> DenseSnapshot:
        if self.path is not None:
            loaded = DenseSnapshot.load(self.path, self._tag(), self.embedder.model_id)
            if loaded is not None:
                return loaded
        return DenseSnapshot.empty(self.embedder.model_id, self.embedder.dim)

    @property
    def progress(self) -> tuple[int, int]:
        """(chunks embedded, chunks queued) since the queue was last empty."""
        return self._progress

    def enqueue(self, rows: Sequence[tuple[int, str]]) -> None:
        """Embed these chunks in the background; they join the snapshot batch by batch."""
        if not rows:
            return
        with self._lock:
            done, total = self._progress if self._pending else (0, 0)
            self._pending.extend(rows)
            self._progress = (done, total + len(rows))
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="embed-chunks", daemon=True)
                self._worker.start()

    def remove_document(self, doc_id: str) -> None:
        with self._lock:
            self.snapshot = self.snapshot.without_document(doc_id)
            self._removed.add(doc_id)
            idle = self._worker is None
        if idle:  # else the worker saves when its queue is done
            threading.Thread(target=self._save, name="vectors-save", daemon=True).start()

    def wait(self, progress: Progress | None = None, poll_s: float = 0.2) -> None:
        """Block until every queued chunk has its vector, reporting (done, total) as it goes."""
        with self._lock:
            while self._worker is not None:
                if progress is not None:
                    progress(*self._progress)
                self._idle.wait(poll_s)
        if progress is not None:
            progress(*self._progress)

    def _run(self) -> None:
        """Embed queued chunks until none are left, save the matrix, and only then report idle."""
        started = time.perf_counter()
        while True:
            with self._lock:
                batch, self._pending = self._pending[:FETCH_BATCH], self._pending[FETCH_BATCH:]
            if batch:
                try:
                    self._embed(batch)
                except Exception:  # the bot keeps answering by BM25; the next start tries again
                    log.exception("could not embed %d chunks; BM25 alone finds them until the next start", len(batch))
                    with self._lock:
                        self._pending.clear()
                continue
            log.info("embedded %d chunks in %.1f s", self._progress[1], time.perf_counter() - started)
            self._save()
            with self._lock:
                if not self._pending:
                    self._worker = None
                    self._idle.notify_all()
                    return

    def _embed(self, batch: list[tuple[int, str]]) -> None:
        found = self.store.chunks(row for row, _ in batch)
        rows = [found[row] for row, _ in batch if row in found]
        for start in range(0, len(rows), EMBED_BATCH):
            part = rows[start : start + EMBED_BATCH]
            vectors = embed_texts([embedding_text(chunk) for chunk in part], self.embedder, self.store)
            self._add(part, vectors)

    def _add(self, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        with self._lock:
            keep = [at for at, chunk in enumerate(chunks) if chunk.doc_id not in self._removed]
            self.snapshot = self.snapshot.with_rows(
                [chunks[at].row_id for at in keep], [chunks[at].doc_id for at in keep], vectors[keep]
            )
            done, total = self._progress
            self._progress = (done + len(chunks), total)

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            with self._save_lock:
                self.snapshot.save(self.path, self._tag())
        except OSError as error:
            log.warning("could not save the chunk vectors to %s: %s", self.path, error)
