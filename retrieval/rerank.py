"""Rerank BM25's best candidates by how much of the question one passage window holds.

BM25 counts a question's terms anywhere in a chunk; a question written about one
sentence finds its terms together. For each candidate, every window of
`rerank_window` consecutive sentences is scored by the idf-weighted share of the
question's morphemes and character bigrams it holds (title and heading terms count
for every window, at a discount), and the best window's share is added to the
candidate's BM25 score relative to the first candidate:

    score = bm25 / bm25_best + rerank_weight · best_window_share

The result is scaled back by bm25_best so scores stay in BM25's units.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence

from corpus.store import StoredChunk
from retrieval.analyzer import Token
from retrieval.answer import NOT_EVIDENCE
from retrieval.settings import RetrievalSettings
from retrieval.terms import bigram_terms

CONTEXT_SHARE = 0.5  # a term found only in the title or heading


def rerank(
    text: str,
    tokens: Sequence[Token],
    ranked: Sequence[tuple[float, StoredChunk]],
    idf: Callable[[str], float],
    settings: RetrievalSettings,
) -> list[tuple[float, StoredChunk]]:
    """`ranked` (best first) reordered by BM25 plus the best window's share of the question."""
    if not ranked or ranked[0][0] <= 0:
        return list(ranked)
    forms = {t.form: max(idf(t.form), 0.0) for t in tokens if t.form not in NOT_EVIDENCE}
    grams = {}
    if "bigrams" in settings.tokenizer:
        grams = {g: max(idf(g), 0.0) for g in bigram_terms(text) if len(g) == 3}
    total = sum(forms.values()) + sum(grams.values())
    if total <= 0:
        return list(ranked)
    best = ranked[0][0]
    rescored = []
    for order, (score, chunk) in enumerate(ranked):
        share = window_share(chunk, forms, grams, settings.rerank_window) / total
        rescored.append((score / best + settings.rerank_weight * share, order, chunk))
    rescored.sort(key=lambda item: (-item[0], item[1]))
    return [(combined * best, chunk) for combined, _, chunk in rescored]


def window_share(
    chunk: StoredChunk, forms: dict[str, float], grams: dict[str, float], window: int
) -> float:
    """The largest idf weight of question terms held by `window` consecutive sentences of the chunk."""
    context = set(chunk.context_tokens)
    spans = chunk.sentences.tolist() or [[0, len(chunk.text)]]
    starts = chunk.token_starts
    sentence_forms = []
    for start, end in spans:
        lo, hi = bisect_left(starts, start), bisect_left(starts, end)
        sentence_forms.append(set(chunk.tokens[lo:hi]))
    text = chunk.text.lower()
    best = 0.0
    for first in range(max(len(spans) - window + 1, 1)):
        last = min(first + window, len(spans))
        held = set().union(*sentence_forms[first:last])
        start, end = spans[first][0], spans[last - 1][1]
        piece = text[start:end]
        weight = sum(w if form in held else CONTEXT_SHARE * w if form in context else 0.0 for form, w in forms.items())
        weight += sum(w for gram, w in grams.items() if gram[1:] in piece)
        best = max(best, weight)
    return best
