"""An in-memory corpus for evaluation: chunked and analysed like the store's, never written anywhere.

`qabot eval` turns a SQuAD file's contexts into one of these (duplicates included: the
store would refuse them, and every context keeps its own position as its id), and
`--compare` re-chunks the store's documents into one per named setting. The chunks go
through the same `prepare_chunks` and `chunk_terms` as documents added to the store,
and Kiwi analyses each distinct text once, shared by every setting compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from corpus.chunker import ChunkingSettings
from corpus.store import StoredChunk, chunk_key
from retrieval.analyzer import Analysis, Analyzer, Token
from retrieval.answer import Answer
from retrieval.bm25 import BM25Params
from retrieval.index import IndexEntry, IndexSnapshot
from retrieval.embedding import Embedder, embedding_text
from retrieval.preparation import analysis_texts, prepare_chunks
from retrieval.qa import SemanticQuery, answer_question
from retrieval.settings import RetrievalSettings
from retrieval.terms import chunk_terms
from retrieval.vectors import DenseSnapshot, VectorCache, embed_texts

Progress = Callable[[int, int], None]  # (done, total)
ANALYSIS_BATCH = 64


@dataclass(frozen=True)
class SourceText:
    """One document of a temporary corpus; `doc_id` is what its passages report."""

    doc_id: str
    title: str
    text: str


class AnalysisCache:
    """Kiwi analyses by text, filled in batches: what `prepare_chunks` sees as the analyzer."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self._done: dict[str, Analysis] = {}

    def prefetch(self, texts: Iterable[str], progress: Progress | None = None) -> None:
        """Analyse every text not seen yet, in batches, reporting progress after each."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._done))
        for start in range(0, len(todo), ANALYSIS_BATCH):
            batch = todo[start : start + ANALYSIS_BATCH]
            self._done.update(zip(batch, self.analyzer.analyse_many(batch)))
            if progress is not None:
                progress(min(start + ANALYSIS_BATCH, len(todo)), len(todo))
        if progress is not None and not todo:
            progress(0, 0)

    def analyse_many(self, texts: Sequence[str]) -> list[Analysis]:
        self.prefetch(texts)
        return [self._done[text] for text in texts]

    def analyse(self, text: str) -> Analysis:
        return self.analyse_many([text])[0]

    def content_tokens(self, text: str) -> list[Token]:
        return list(self.analyse(text).tokens)

    def joins_without_space(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        return self.analyzer.joins_without_space(pairs)


def texts_to_analyse(sources: Iterable[SourceText], analyses: AnalysisCache, chunking: ChunkingSettings) -> list[str]:
    """What `prepare_chunks` will ask Kiwi for: every block of every source, titles and headings."""
    return [text for source in sources for text in analysis_texts(source.text, source.title, analyses, chunking)]


class MemoryCorpus:
    """Chunks of `sources` under one setting, with their BM25 snapshot and, when the setting
    matches by meaning, their embeddings; answers like the engine."""

    def __init__(
        self,
        chunks: dict[int, StoredChunk],
        snapshot: IndexSnapshot,
        settings: RetrievalSettings,
        vectors: DenseSnapshot | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.chunks = chunks
        self.snapshot = snapshot
        self.settings = settings
        self.vectors = vectors
        self.embedder = embedder
        self.reanalyse: Callable[[str], Sequence[Token]] | None = None  # set by the caller that analyses questions

    @classmethod
    def build(
        cls,
        sources: Sequence[SourceText],
        analyses: AnalysisCache,
        settings: RetrievalSettings,
        progress: Progress | None = None,
        embedder: Embedder | None = None,
        cache: VectorCache | None = None,
        embed_progress: Progress | None = None,
    ) -> MemoryCorpus:
        """Chunk and index `sources`; with an `embedder` (and a setting that uses it) embed
        every chunk too, reading and filling `cache`."""
        analyses.prefetch(texts_to_analyse(sources, analyses, settings.chunking), progress)
        chunks: dict[int, StoredChunk] = {}
        entries: list[IndexEntry] = []
        for source in sources:
            for analysed in prepare_chunks(source.text, source.title, analyses, settings.chunking):
                chunk = analysed.chunk
                row_id = len(chunks) + 1
                stored = StoredChunk(
                    row_id=row_id,
                    doc_id=source.doc_id,
                    chunk_id=chunk_key(source.doc_id, chunk.ordinal),
                    title=source.title,
                    heading=chunk.heading,
                    text=chunk.text,
                    start=chunk.start,
                    end=chunk.end,
                    tokens=list(analysed.tokens),
                    token_starts=np.asarray(analysed.token_starts, dtype=np.int32),
                    sentences=np.asarray(analysed.sentences, dtype=np.int32).reshape(-1, 2),
                    context_tokens=list(analysed.context_tokens),
                    section=chunk.section,
                )
                chunks[row_id] = stored
                terms = chunk_terms(
                    settings.tokenizer,
                    stored.tokens,
                    stored.text,
                    stored.context_tokens,
                    f"{source.title}\n{chunk.heading}",
                    settings.context_weight,
                )
                entries.append(IndexEntry(row_id, source.doc_id, terms))
        params = BM25Params(settings.bm25, settings.k1, settings.b, settings.delta)
        vectors = None
        if embedder is not None and settings.matching != "lexical":
            stored = list(chunks.values())
            matrix = embed_texts([embedding_text(c) for c in stored], embedder, cache, embed_progress)
            vectors = DenseSnapshot([c.row_id for c in stored], [c.doc_id for c in stored], matrix, embedder.model_id)
        return cls(chunks, IndexSnapshot.build(entries, params), settings, vectors, embedder)

    def __len__(self) -> int:
        return len(self.chunks)

    def fetch(self, row_ids: Iterable[int]) -> dict[int, StoredChunk]:
        return {row_id: self.chunks[row_id] for row_id in row_ids if row_id in self.chunks}

    def ask(self, question: str, text: str, tokens: Sequence[Token], top_k: int) -> Answer:
        semantic = None
        if self.vectors is not None and self.embedder is not None:
            semantic = SemanticQuery(self.vectors, self.embedder.embed_queries([text])[0], self.embedder)
        return answer_question(
            question, text, tokens, self.snapshot, self.fetch, self.settings, top_k, semantic, reanalyse=self.reanalyse
        )
