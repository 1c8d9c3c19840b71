"""Chunk embeddings of the test corpora, cached in tests/data/vectors so the suite does not compute them.

Embedding the natural-question documents and the KorQuAD paragraphs takes minutes on two
cores; the quality gates need them under every setting they test. The file holds the
vectors by text hash and model id, like the store's vectors table, and is loaded into a
temporary store that `evaluate_in_memory` reads as its cache. A vector the file lacks (the
chunking or the model changed) is computed and the test still passes, only slower: run
`python -m tests.vector_cache` to write the file again.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from corpus.store import Store

CACHE_FILE = Path(__file__).parent / "data" / "vectors" / "test-corpora.npz"


def fill(store: Store, path: Path = CACHE_FILE) -> int:
    """Put the cached vectors into `store`; returns how many."""
    if not path.is_file():
        return 0
    with np.load(path, allow_pickle=False) as data:
        model = str(data["model"])
        hashes = data["hashes"].tolist()
        vectors = data["vectors"]
        store.put_vectors(model, ((digest, vector.tobytes()) for digest, vector in zip(hashes, vectors)))
    return len(hashes)


def write(store: Store, model: str, path: Path = CACHE_FILE) -> int:
    """Write every vector of `model` kept in `store` to the cache file."""
    with sqlite3.connect(store.path) as connection:
        rows = connection.execute(
            "SELECT text_sha256, vector FROM vectors WHERE model = ? ORDER BY text_sha256", (model,)
        ).fetchall()
    hashes = np.array([digest for digest, _ in rows])
    vectors = np.stack([np.frombuffer(vector, dtype=np.float16) for _, vector in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, model=np.array(model), hashes=hashes, vectors=vectors)
    return len(rows)


def main() -> None:
    """Embed every test corpus through the evaluation path, then write the file."""
    import tempfile

    from bot.eval_command import read_documents
    from bot.settings import load_settings
    from retrieval.analyzer import shared_analyzer
    from retrieval.embedding import shared_embedder
    from retrieval.evaluation import load_eval_file
    from retrieval.evaluation_corpus import AnalysisCache, MemoryCorpus
    from retrieval.settings import DEFAULT_SETTINGS

    data = Path(__file__).parent / "data"
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "cache.sqlite3")
        fill(store)
        embedder = shared_embedder()
        analyses = AnalysisCache(shared_analyzer())
        natural = read_documents([data / "natural" / "docs"], load_settings())
        korquad = load_eval_file(data / "korquad" / "KorQuAD_v1.0_dev_even.json").contexts
        for sources in (natural, korquad):
            MemoryCorpus.build(sources, analyses, DEFAULT_SETTINGS, embedder=embedder, cache=store)
        print(write(store, embedder.model_id), "vectors written to", CACHE_FILE)


if __name__ == "__main__":
    main()
