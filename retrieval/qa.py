"""One question against one snapshot: retrieve, rerank, extract — shared by the engine and the evaluator.

The engine answers from the store and `qabot eval` answers SQuAD files from an in-memory
corpus; both go through `answer_question`, so what is measured is what users get. The
caller supplies the analysed question, the snapshot and a way to fetch chunks by row id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from corpus.store import StoredChunk
from retrieval.analyzer import NOUN_TAGS, Token
from retrieval.answer import NOT_EVIDENCE, Answer, extract_answer
from retrieval.fusion import fuse
from retrieval.index import Hit, IndexSnapshot, TermStatistics
from retrieval.rerank import rerank
from retrieval.settings import RetrievalSettings
from retrieval.terms import bigram_terms, index_terms
from retrieval.vectors import DenseSnapshot

ChunkFetcher = Callable[[Iterable[int]], dict[int, StoredChunk]]

MIN_CANDIDATES = 5


@dataclass(frozen=True)
class SemanticQuery:
    """The question's embedding and the chunk vectors to compare it with."""

    vectors: DenseSnapshot
    query: np.ndarray


def answer_question(
    question: str,
    text: str,
    tokens: Sequence[Token],
    snapshot: IndexSnapshot,
    fetch: ChunkFetcher,
    settings: RetrievalSettings,
    top_k: int = 5,
    semantic: SemanticQuery | None = None,
) -> Answer:
    """Answer `question` (cleaned to `text`, analysed to `tokens`) with its top_k passages."""
    wanted = max(top_k, MIN_CANDIDATES)
    depth = max(wanted, settings.rerank_depth) if settings.rerank_depth else wanted
    hits = snapshot.search(index_terms(settings.tokenizer, [t.form for t in tokens], text), depth)
    scored = [(hit.row_id, hit.score) for hit in hits]
    if semantic is not None and settings.matching != "lexical":
        scored = _fused(hits, semantic, settings, depth)
    found = fetch(row_id for row_id, _ in scored)
    ranked: list[tuple[float, StoredChunk]] = [(score, found[row_id]) for row_id, score in scored if row_id in found]
    grams = bigram_terms(text)
    stats = snapshot.term_statistics([*(t.form for t in tokens), *grams])
    if settings.rerank_depth and ranked:
        ranked = rerank(text, tokens, ranked, stats.idf, settings)
    ranked = ranked[:wanted]
    answer = extract_answer(
        question,
        text,
        tokens,
        ranked,
        context_forms=lambda chunk: chunk.context_tokens,
        idf=stats.idf,
        missing_terms=missing_terms(stats, tokens, settings),
        min_coverage=settings.min_coverage,
        unseen={t.form for t in tokens if not stats.document_frequency(t.form)},
        seen_grams={gram for gram in grams if stats.document_frequency(gram)},
    )
    return Answer(answer.question, answer.answered, answer.text, answer.passages[:top_k], answer.missing_terms)


def _fused(lexical: list[Hit], semantic: SemanticQuery, settings: RetrievalSettings, depth: int) -> list[tuple[int, float]]:
    """(row id, score) of BM25's and the embedding's candidates in one ranking (the embedding's alone in `semantic` matching)."""
    nearest = semantic.vectors.search(semantic.query, depth)
    if settings.matching == "semantic":
        return nearest
    dense = dict(nearest)
    dense.update(semantic.vectors.similarity(semantic.query, [hit.row_id for hit in lexical if hit.row_id not in dense]))
    return fuse(lexical, dense, settings.semantic_weight)[:depth]


def missing_terms(stats: TermStatistics, tokens: Sequence[Token], settings: RetrievalSettings) -> list[str]:
    """Nouns and names of the question that occur nowhere in the corpus."""
    if "morphemes" not in settings.tokenizer:
        return []
    missing: list[str] = []
    for token in tokens:
        meaningful = token.tag in NOUN_TAGS and len(token.form) > 1
        new = meaningful and token.form not in NOT_EVIDENCE and token.form not in missing
        if new and not stats.document_frequency(token.form):
            missing.append(token.form)
    return missing
