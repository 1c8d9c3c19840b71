"""Chunk embeddings of the test corpora, cached in tests/data/vectors so the suite does not compute them.

Embedding the natural-question documents and the KorQuAD paragraphs takes minutes on two
cores; the quality gates need them. The file holds vectors by text hash and model id and is
loaded into the vector cache the evaluation reads. A vector the file lacks (the chunking or
the model changed) is computed and the test still passes, only slower: then run
`python -m tests.vector_cache` to write the file again.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from corpus.store import Store
from retrieval.vector_file import fill_from_file, write_file

CACHE_FILE = Path(__file__).parent / "data" / "vectors" / "test-corpora.npz"


def main() -> None:
    """Embed every test corpus through the evaluation path, then write the file."""
    from bot.eval_command import read_documents
    from bot.settings import load_settings
    from retrieval.analyzer import shared_analyzer
    from retrieval.embedding import embedding_text, shared_embedder, text_hash
    from retrieval.evaluation import load_eval_file
    from retrieval.evaluation_corpus import AnalysisCache, MemoryCorpus
    from retrieval.settings import DEFAULT_SETTINGS

    data = Path(__file__).parent / "data"
    embedder = shared_embedder()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "cache.sqlite3")
        fill_from_file(store, CACHE_FILE, embedder.model_id)
        analyses = AnalysisCache(shared_analyzer())
        natural = read_documents([data / "natural" / "docs"], load_settings())
        korquad = load_eval_file(data / "korquad" / "KorQuAD_v1.0_dev_even.json").contexts
        wanted: set[str] = set()
        for sources in (natural, korquad):
            corpus = MemoryCorpus.build(sources, analyses, DEFAULT_SETTINGS, embedder=embedder, cache=store)
            wanted |= {text_hash(embedding_text(chunk)) for chunk in corpus.chunks.values()}
        print(write_file(store.path, embedder.model_id, CACHE_FILE, wanted), "vectors written to", CACHE_FILE)


if __name__ == "__main__":
    main()
