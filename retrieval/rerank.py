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

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence

from corpus.store import StoredChunk
from retrieval.analyzer import Token
from retrieval.answer import CONTEXT_SHARE, NOT_EVIDENCE
from retrieval.settings import RetrievalSettings
from retrieval.terms import bigram_terms, fold_width



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
    """The largest idf weight of question terms held by `window` consecutive sentences of the chunk.

    A window holds a morpheme or a bigram when one of its sentences does. Each term gets a
    bit mask of the sentences holding it, so a window is scored by its own mask; terms
    worth nothing in this chunk are skipped, the others summed in the question's order.
    """
    context = set(chunk.context_tokens)
    spans = chunk.sentences.tolist() or [[0, len(chunk.text)]]
    starts = chunk.token_starts.tolist()
    masks: dict[str, int] = {}
    for index, (start, end) in enumerate(spans):
        for form in chunk.tokens[bisect_left(starts, start) : bisect_left(starts, end)]:
            if form in forms:
                masks[form] = masks.get(form, 0) | 1 << index
    morphemes = [(w, masks.get(form, 0), CONTEXT_SHARE * w if form in context else 0.0) for form, w in forms.items()]
    morphemes = [term for term in morphemes if term[1] or term[2]]
    text, firsts = fold_width(chunk.text).lower(), [start for start, _ in spans]
    bigrams = [(w, mask) for gram, w in grams.items() if (mask := _sentence_mask(text, gram[1:], firsts, spans))]
    best = 0.0
    for first in range(max(len(spans) - window + 1, 1)):
        held = (1 << min(first + window, len(spans))) - (1 << first)
        weight = 0.0
        for w, mask, outside in morphemes:
            weight += w if mask & held else outside
        in_window = 0.0
        for w, mask in bigrams:
            if mask & held:
                in_window += w
        best = max(best, weight + in_window)
    return best


def _sentence_mask(text: str, piece: str, firsts: list[int], spans: list[list[int]]) -> int:
    """Bit i set when sentence i of `spans` (sorted; `firsts` are their starts) holds `piece`."""
    mask = 0
    at = text.find(piece)
    while at >= 0:
        index = bisect_right(firsts, at) - 1
        if index >= 0 and at + len(piece) <= spans[index][1]:
            mask |= 1 << index
        at = text.find(piece, at + 1)
    return mask
