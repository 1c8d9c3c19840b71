"""One question against one snapshot: retrieve, rerank, extract — shared by the engine and the evaluator.

The engine answers from the store and `qabot eval` answers SQuAD files from an in-memory
corpus; both go through `answer_question`, so what is measured is what users get. The
caller supplies the analysed question, the snapshot and a way to fetch chunks by row id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from corpus.store import StoredChunk
from retrieval.analyzer import NOUN_TAGS, Token
from retrieval.answer import NOT_EVIDENCE, Answer, extract_answer
from retrieval.index import IndexSnapshot, TermStatistics
from retrieval.rerank import rerank
from retrieval.settings import RetrievalSettings
from retrieval.terms import bigram_terms, index_terms

ChunkFetcher = Callable[[Iterable[int]], dict[int, StoredChunk]]

MIN_CANDIDATES = 5


def answer_question(
    question: str,
    text: str,
    tokens: Sequence[Token],
    snapshot: IndexSnapshot,
    fetch: ChunkFetcher,
    settings: RetrievalSettings,
    top_k: int = 5,
) -> Answer:
    """Answer `question` (cleaned to `text`, analysed to `tokens`) with its top_k passages."""
    wanted = max(top_k, MIN_CANDIDATES)
    depth = max(wanted, settings.rerank_depth) if settings.rerank_depth else wanted
    hits = snapshot.search(index_terms(settings.tokenizer, [t.form for t in tokens], text), depth)
    found = fetch(hit.row_id for hit in hits)
    ranked: list[tuple[float, StoredChunk]] = [(h.score, found[h.row_id]) for h in hits if h.row_id in found]
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
