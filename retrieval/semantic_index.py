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
from retrieval.embedding import EMBED_BATCH, Embedder, embedding_text, text_hash
from retrieval.vectors import DenseSnapshot, embed_texts, from_bytes

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
        self._stopping = threading.Event()
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
    def busy(self) -> bool:
        """Chunks are being embedded now."""
        return self._worker is not None

    @property
    def progress(self) -> tuple[int, int]:
        """(chunks embedded, chunks queued) since the queue was last empty."""
        return self._progress

    def enqueue(self, rows: Sequence[tuple[int, str]]) -> None:
        """Take these chunks' vectors from the store's cache now, and embed the rest in the
        background, where they join the snapshot batch by batch."""
        rows = self._take_cached(rows)
        if not rows:
            return
        with self._lock:
            done, total = self._progress if self._worker is not None else (0, 0)
            self._pending.extend(rows)
            self._progress = (done, total + len(rows))
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="embed-chunks", daemon=True)
                self._worker.start()

    def sync(self, rechunked: bool = False) -> None:
        """Follow the store after another process changed it: drop rows it no longer has, embed
        new ones; after re-chunking, row ids may stand for new text, so every row is taken again
        (from the store's vectors, by text hash: nothing is computed twice)."""
        rows = self.store.chunk_rows()
        present = set() if rechunked else {row for row, _ in rows}
        with self._lock:
            self.snapshot = self.snapshot.only_rows(present)
            queued = {row for row, _ in self._pending}
        self.enqueue([(row, doc) for row, doc in rows if row not in self.snapshot and row not in queued])

    def _take_cached(self, rows: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
        """Add the rows whose text was embedded before (the bundled corpus, re-added or re-chunked
        text); returns the others."""
        missing: list[tuple[int, str]] = []
        for start in range(0, len(rows), FETCH_BATCH):
            part = rows[start : start + FETCH_BATCH]
            found = self.store.chunks(row for row, _ in part)
            chunks = [found[row] for row, _ in part if row in found]
            hashes = [text_hash(embedding_text(chunk)) for chunk in chunks]
            cached = self.store.vectors(self.embedder.model_id, hashes)
            ready = [(chunk, from_bytes(cached[h])) for chunk, h in zip(chunks, hashes) if h in cached]
            if ready:
                self._add([chunk for chunk, _ in ready], np.stack([vector for _, vector in ready]), count=False)
            missing.extend((chunk.row_id, chunk.doc_id) for chunk, h in zip(chunks, hashes) if h not in cached)
        return missing

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

    def stop(self) -> None:
        """Finish the batch being embedded, keep what is done, and leave the rest to the next start
        (a shutdown must not wait minutes for a large upload's vectors)."""
        self._stopping.set()
        with self._lock:
            worker = self._worker
        if worker is not None:
            worker.join()

    def _run(self) -> None:
        """Embed queued chunks until none are left, save the matrix, and only then report idle."""
        started = time.perf_counter()
        while True:
            with self._lock:
                if self._stopping.is_set():
                    self._pending.clear()
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
            if self._stopping.is_set():
                return
            part = rows[start : start + EMBED_BATCH]
            vectors = embed_texts([embedding_text(chunk) for chunk in part], self.embedder, self.store)
            self._add(part, vectors)

    def _add(self, chunks: Sequence[StoredChunk], vectors: np.ndarray, count: bool = True) -> None:
        with self._lock:
            keep = [at for at, chunk in enumerate(chunks) if chunk.doc_id not in self._removed]
            self.snapshot = self.snapshot.with_rows(
                [chunks[at].row_id for at in keep], [chunks[at].doc_id for at in keep], vectors[keep]
            )
            if count:
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
