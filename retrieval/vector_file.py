"""Embeddings saved to a file by text hash, to fill a store's vector cache without computing them.

The bundled corpus ships its chunks' vectors (retrieval/bundled_vectors.npz), so the first
`qabot ask` after installing does not wait seconds for the model to embed it, and the test
suite keeps its corpora's vectors the same way. A vector the file lacks (other chunking,
another model) is simply computed when needed.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from retrieval.vectors import VECTOR_DTYPE, VectorCache

BUNDLED_VECTORS = Path(__file__).with_name("bundled_vectors.npz")


def fill_from_file(cache: VectorCache, path: Path, model: str) -> int:
    """Put the file's vectors into `cache` when they come from `model`; returns how many."""
    if not path.is_file():
        return 0
    with np.load(path, allow_pickle=False) as data:
        if str(data["model"]) != model:
            return 0
        hashes = data["hashes"].tolist()
        vectors = data["vectors"].astype(VECTOR_DTYPE)
    cache.put_vectors(model, ((digest, vector.tobytes()) for digest, vector in zip(hashes, vectors)))
    return len(hashes)


def write_file(store_path: Path, model: str, path: Path, only: set[str] | None = None) -> int:
    """Write the vectors of `model` kept in the SQLite store at `store_path` (or only those hashes)."""
    with sqlite3.connect(store_path) as connection:
        rows = connection.execute(
            "SELECT text_sha256, vector FROM vectors WHERE model = ? ORDER BY text_sha256", (model,)
        ).fetchall()
    rows = [(digest, vector) for digest, vector in rows if only is None or digest in only]
    hashes = np.array([digest for digest, _ in rows])
    vectors = np.stack([np.frombuffer(vector, dtype=VECTOR_DTYPE) for _, vector in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, model=np.array(model), hashes=hashes, vectors=vectors)
    return len(rows)


def main() -> None:
    """Write retrieval/bundled_vectors.npz for the bundled corpus under the current chunking and model."""
    import tempfile

    from corpus.store import Store
    from retrieval.analyzer import shared_analyzer
    from retrieval.embedding import embedding_text, shared_embedder, text_hash
    from retrieval.engine import Engine

    embedder = shared_embedder()
    with tempfile.TemporaryDirectory() as folder:
        with Engine(Store(Path(folder) / "s.sqlite3"), shared_analyzer(), embedder=embedder) as engine:
            engine.seed_if_new()
            engine.wait_for_vectors()
            rows = engine.store.chunk_rows()
            chunks = engine.store.chunks(row for row, _ in rows)
            wanted = {text_hash(embedding_text(chunk)) for chunk in chunks.values()}
            print(write_file(engine.store.path, embedder.model_id, BUNDLED_VECTORS, wanted), "vectors written")


if __name__ == "__main__":
    main()
