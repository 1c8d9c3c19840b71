"""One question against one snapshot: retrieve, rerank, extract — shared by the engine and the evaluator.

The engine answers from the store and `qabot eval` answers SQuAD files from an in-memory
corpus; both go through `answer_question`, so what is measured is what users get. The
caller supplies the analysed question, the snapshot and a way to fetch chunks by row id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from corpus.store import StoredChunk
from retrieval.analyzer import NOUN_TAGS, Token

NAME_TAGS = frozenset({"NNP", "SL"})
from retrieval.answer import NOT_EVIDENCE, Answer, extract_answer
from retrieval.embedding import Embedder
from retrieval.fusion import fuse
from retrieval.index import Hit, IndexSnapshot, TermStatistics
from retrieval.rerank import rerank
from retrieval.settings import RetrievalSettings
from retrieval.terms import bigram_terms, index_terms
from retrieval.typos import correct_typos
from retrieval.vectors import DenseSnapshot

ChunkFetcher = Callable[[Iterable[int]], dict[int, StoredChunk]]

MIN_CANDIDATES = 5
COPY_SIMILARITY = 0.95
UNEMBEDDED_CHECKED = 5  # BM25's best candidates that must all have vectors before fusing
# Units of the best passage compared by meaning: a Korean question's words still rank them,
# an English question's do not, so all (up to a dozen) are compared.
MEANING_CANDIDATES = 4
MEANING_CANDIDATES_OTHER_LANGUAGE = 12


@dataclass(frozen=True)
class SemanticQuery:
    """The question's embedding, the chunk vectors to compare it with, and the model to embed answer candidates."""

    vectors: DenseSnapshot
    query: np.ndarray
    embedder: Embedder

    def unit_similarity(self, texts: Sequence[str]) -> list[float]:
        return (self.embedder.embed_passages(texts, for_question=True) @ self.query).tolist()


def is_korean(text: str) -> bool:
    """Mostly Hangul among its letters: cosines across languages run lower than within Korean."""
    letters = [ch for ch in text if ch.isalpha()]
    hangul = sum(1 for ch in letters if "\uac00" <= ch <= "\ud7a3")
    return not letters or hangul >= len(letters) / 2


def answer_question(
    question: str,
    text: str,
    tokens: Sequence[Token],
    snapshot: IndexSnapshot,
    fetch: ChunkFetcher,
    settings: RetrievalSettings,
    top_k: int = 5,
    semantic: SemanticQuery | None = None,
    reanalyse: Callable[[str], Sequence[Token]] | None = None,
) -> Answer:
    """Answer `question` (cleaned to `text`, analysed to `tokens`) with its top_k passages.

    With `reanalyse`, words the corpus does not know are first read as their one-jamo
    neighbour it does know (retrieval/typos.py), and the answer says so."""
    corrections: tuple[tuple[str, str], ...] = ()
    if reanalyse is not None:
        text, corrections = correct_typos(
            text, lambda terms: _frequencies(snapshot, terms), lambda words: _known(snapshot, reanalyse(words))
        )
        if corrections:
            tokens = reanalyse(text)
    wanted = max(top_k, MIN_CANDIDATES)
    depth = max(wanted, settings.rerank_depth) if settings.rerank_depth else wanted
    grams = bigram_terms(text)
    stats = snapshot.term_statistics([*(t.form for t in tokens), *grams])
    hits = snapshot.search(index_terms(settings.tokenizer, [t.form for t in tokens], text), depth)
    scored = [(hit.row_id, hit.score) for hit in hits]
    cosines: dict[int, float] = {}
    if semantic is not None and settings.matching != "lexical":
        scored, cosines = _fused(hits, semantic, settings, depth, _semantic_weight(tokens, stats, settings))
    found = fetch(row_id for row_id, _ in scored)
    ranked: list[tuple[float, StoredChunk]] = [(score, found[row_id]) for row_id, score in scored if row_id in found]
    if settings.rerank_depth and ranked:
        ranked = rerank(text, tokens, ranked, stats.idf, settings)
    ranked, copies = collapse_copies(ranked) if settings.collapse_copies else (ranked, {})
    ranked = ranked[:wanted]
    missing = missing_terms(stats, tokens, settings)
    answer = extract_answer(
        question,
        text,
        tokens,
        ranked,
        context_forms=lambda chunk: chunk.context_tokens,
        idf=stats.idf,
        missing_terms=missing,
        min_coverage=settings.min_coverage,
        unseen={t.form for t in tokens if not stats.document_frequency(t.form)},
        seen_grams={gram for gram in grams if stats.document_frequency(gram)},
        support=cosines.get(ranked[0][1].row_id) if cosines and ranked else None,
        min_support=settings.min_support if is_korean(text) else settings.min_support_other_language,
        absent_names=absent_names(stats, tokens, missing),
        unit_similarity=semantic.unit_similarity if semantic is not None and cosines else None,
        meaning_candidates=MEANING_CANDIDATES if is_korean(text) else MEANING_CANDIDATES_OTHER_LANGUAGE,
    )
    passages = tuple(replace(p, same_as=copies.get(p.row_id, ())) for p in answer.passages[:top_k])
    return Answer(answer.question, answer.answered, answer.text, passages, answer.missing_terms, corrections)


def _known(snapshot: IndexSnapshot, tokens: Sequence[Token]) -> bool:
    forms = [t.form for t in tokens if t.form not in NOT_EVIDENCE]
    return bool(forms) and all(_frequencies(snapshot, forms))


def _frequencies(snapshot: IndexSnapshot, terms: list[str]) -> list[int]:
    stats = snapshot.term_statistics(terms)
    return [stats.document_frequency(term) for term in terms]


def collapse_copies(
    ranked: list[tuple[float, StoredChunk]],
) -> tuple[list[tuple[float, StoredChunk]], dict[int, tuple[str, ...]]]:
    """Passages without the near-copies of a better-ranked one from another document
    (bills that share their 제안이유, a notice re-posted under a new title), and for each
    kept passage the titles of the copies it stands for."""
    kept: list[tuple[float, StoredChunk, set[str]]] = []
    copies: dict[int, list[str]] = {}
    for score, chunk in ranked:
        grams = _text_grams(chunk.text)
        original = next(
            (k for k in kept if k[1].doc_id != chunk.doc_id and _similar(k[2], grams)), None
        )
        if original is None:
            kept.append((score, chunk, grams))
        elif chunk.title not in copies.setdefault(original[1].row_id, []) and chunk.title != original[1].title:
            copies[original[1].row_id].append(chunk.title)
    return [(score, chunk) for score, chunk, _ in kept], {row: tuple(titles) for row, titles in copies.items() if titles}


def _text_grams(text: str) -> set[str]:
    squashed = "".join(text.split())
    return {squashed[at : at + 2] for at in range(len(squashed) - 1)}


def _similar(one: set[str], other: set[str]) -> bool:
    """Character-bigram Jaccard of at least COPY_SIMILARITY: the same text give or take a few words."""
    if not one or not other:
        return False
    return len(one & other) >= COPY_SIMILARITY * len(one | other)


def _fused(
    lexical: list[Hit], semantic: SemanticQuery, settings: RetrievalSettings, depth: int, weight: float
) -> tuple[list[tuple[int, float]], dict[int, float]]:
    """(row id, score) of BM25's and the embedding's candidates in one ranking (the embedding's
    alone in `semantic` matching), and the cosine of every candidate."""
    nearest = semantic.vectors.search(semantic.query, depth)
    dense = dict(nearest)
    if settings.matching == "semantic":
        return nearest, dense
    dense.update(semantic.vectors.similarity(semantic.query, [hit.row_id for hit in lexical if hit.row_id not in dense]))
    if any(hit.row_id not in dense for hit in lexical[:UNEMBEDDED_CHECKED]):
        # BM25's best include chunks whose vectors are still being computed (a document just
        # added): fused, they would lose to any chunk that has one. BM25 answers until they are done.
        return [(hit.row_id, hit.score) for hit in lexical], {}
    return fuse(lexical, dense, weight)[:depth], dense


def _semantic_weight(tokens: Sequence[Token], stats: TermStatistics, settings: RetrievalSettings) -> float:
    """The embedding's share of the fused score, raised by the share of the question's words the corpus lacks.

    BM25 says nothing about a question written in other words than the documents' (English,
    everyday words for legal ones): there the embedding decides alone.
    """
    words = [t.form for t in tokens if t.form not in NOT_EVIDENCE]
    if not words:
        return settings.semantic_weight
    unknown = sum(1 for form in words if not stats.document_frequency(form)) / len(words)
    return settings.semantic_weight + (1 - settings.semantic_weight) * unknown


def absent_names(stats: TermStatistics, tokens: Sequence[Token], missing: Sequence[str]) -> list[str]:
    """Names (proper nouns, Latin words) of the question that no document holds, even split differently."""
    names = []
    for token in tokens:
        if token.form in missing and token.tag in NAME_TAGS:
            grams = bigram_terms(token.form)
            if not all(stats.document_frequency(gram) for gram in grams):
                names.append(token.form)
    return names


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
