"""Turn a document's text into analysed chunks: blocks → Kiwi (once per block) → chunks with tokens.

Each block is analysed on its own, so Kiwi's sentence splitter never glues list lines
together; the chunker takes its sentence boundaries from the same analysis, and each
chunk's tokens are the block tokens that fall inside it: one Kiwi pass per document.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from corpus.blocks import Block, BlockKind, parse_blocks
from corpus.chunker import ChunkingSettings, chunk_blocks
from corpus.store import AnalysedChunk
from retrieval.analyzer import Analysis, Analyzer, Token


def prepare_chunks(
    text: str, title: str, analyzer: Analyzer, chunking: ChunkingSettings
) -> list[AnalysedChunk]:
    return prepare_documents([(text, title)], analyzer, chunking)[0]


def prepare_documents(
    documents: Sequence[tuple[str, str]], analyzer: Analyzer, chunking: ChunkingSettings
) -> list[list[AnalysedChunk]]:
    """prepare_chunks for each (text, title), with every block of them in one analyse_many:
    Kiwi's workers share out the blocks of many small documents as they do one large one's."""
    parsed = [parse_blocks(text) for text, _ in documents]
    texts = [piece for (_, title), blocks in zip(documents, parsed) for piece in [*(b.text for b in blocks), title]]
    analyses = analyzer.analyse_many(texts)
    prepared = []
    at = 0
    for (text, title), blocks in zip(documents, parsed):
        own = analyses[at : at + len(blocks) + 1]
        at += len(blocks) + 1
        prepared.append(_chunks_of(text, title, blocks, own[:-1], own[-1].forms, chunking))
    return prepared


def _chunks_of(
    text: str, title: str, blocks: Sequence[Block], analyses: Sequence[Analysis], title_forms: list[str],
    chunking: ChunkingSettings,
) -> list[AnalysedChunk]:
    by_start = dict(zip((block.start for block in blocks), analyses))
    heading_forms: dict[str, list[str]] = {
        block.text: analysis.forms for block, analysis in zip(blocks, analyses) if block.kind is BlockKind.HEADING
    }
    tokens = _absolute_tokens(blocks, analyses)
    sentences = _absolute_sentences(blocks, analyses)

    def split_sentences(block: Block) -> Sequence[tuple[int, int]]:
        analysis = by_start[block.start]
        return [(block.start + s, block.start + e) for s, e in analysis.sentences]

    chunks = chunk_blocks(text, blocks, split_sentences, chunking, title)
    token_starts = [t.start for t in tokens]
    sentence_starts = [s for s, _ in sentences]
    prepared = []
    for chunk in chunks:
        inside = tokens[bisect_left(token_starts, chunk.start) : bisect_left(token_starts, chunk.end)]
        spans = [
            (max(s, chunk.start) - chunk.start, min(e, chunk.end) - chunk.start)
            for s, e in sentences[bisect_left(sentence_starts, chunk.start) : bisect_left(sentence_starts, chunk.end)]
        ]
        prepared.append(
            AnalysedChunk(
                chunk=chunk,
                tokens=[t.form for t in inside],
                token_starts=[t.start - chunk.start for t in inside],
                sentences=spans,
                context_tokens=title_forms + heading_forms.get(chunk.heading, []),
            )
        )
    return prepared


def _absolute_tokens(blocks: Sequence[Block], analyses: Sequence[Analysis]) -> list[Token]:
    return [
        Token(token.form, token.tag, block.start + token.start, block.start + token.end)
        for block, analysis in zip(blocks, analyses)
        for token in analysis.tokens
    ]


def _absolute_sentences(blocks: Sequence[Block], analyses: Sequence[Analysis]) -> list[tuple[int, int]]:
    return [
        (block.start + s, block.start + e) for block, analysis in zip(blocks, analyses) for s, e in analysis.sentences
    ]
