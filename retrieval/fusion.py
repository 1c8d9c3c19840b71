"""Fuse BM25's and the embedding's candidate lists into one ranking.

BM25 finds the passages that share the question's words; the embedding finds those that
say the same thing in other words (a paraphrase, an English question). Each list is
first put on a common scale over the union of both candidate lists:

- BM25 relative to its best score (0–1), 0 for a passage BM25 did not return;
- the cosine as its position between the lowest and the highest candidate (0–1): e5's
  cosines crowd into 0.75–0.90 whatever the question, so their raw values say little and
  their spread says much.

The fused score is (1 − w)·bm25 + w·cosine, with w = `semantic_weight`; ties keep BM25's order.
"""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.index import Hit


def fuse(
    lexical: Sequence[Hit], dense: dict[int, float], semantic_weight: float
) -> list[tuple[int, float]]:
    """(row id, fused score) best first: `lexical` are BM25's hits, `dense` the cosine of every candidate."""
    best = max((hit.score for hit in lexical), default=0.0)
    lexical_share = {hit.row_id: (hit.score / best if best > 0 else 0.0) for hit in lexical}
    order = {hit.row_id: at for at, hit in enumerate(lexical)}
    candidates = list(dict.fromkeys([*lexical_share, *dense]))
    low, high = min(dense.values(), default=0.0), max(dense.values(), default=0.0)
    spread = high - low

    def semantic_share(row_id: int) -> float:
        if row_id not in dense or spread <= 0:
            return 0.0
        return (dense[row_id] - low) / spread

    fused = [
        (row_id, (1 - semantic_weight) * lexical_share.get(row_id, 0.0) + semantic_weight * semantic_share(row_id))
        for row_id in candidates
    ]
    fused.sort(key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))
    return fused
