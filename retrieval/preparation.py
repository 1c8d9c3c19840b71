"""Turn a document's text into analysed chunks: cleanup → blocks → Kiwi (once per block) → chunks with tokens.

Exported text is cleaned first (corpus/cleanup.py: page furniture dropped, hard-wrapped
lines joined, Kiwi's spacing model deciding where a cut word joins without a space).
Each block is analysed on its own, so Kiwi's sentence splitter never glues list lines
together; the chunker takes its sentence boundaries from the same analysis, and each
chunk's tokens are the block tokens that fall inside its pieces: one Kiwi pass per
document. A chunk's context tokens are those of the document title and of the headings
on its section path (chapter, article), each counted once.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from corpus.blocks import Block, BlockKind, parse_blocks
from corpus.chunker import Chunk, ChunkingSettings, chunk_blocks
from corpus.cleanup import CleanText, clean_text
from corpus.errors import DocumentRejected, TooManyChunks
from corpus.store import AnalysedChunk
from retrieval.analyzer import Analysis, Analyzer, Token


@dataclass(frozen=True)
class _Parsed:
    clean: CleanText
    blocks: list[Block]
    headings: list[str]  # distinct heading labels: what section paths are made of


def prepare_chunks(
    text: str, title: str, analyzer: Analyzer, chunking: ChunkingSettings
) -> list[AnalysedChunk]:
    """Chunks of one document; raises the DocumentRejected that refuses it."""
    [prepared] = prepare_documents([(text, title)], analyzer, chunking)
    if isinstance(prepared, DocumentRejected):
        raise prepared
    return prepared


def prepare_documents(
    documents: Sequence[tuple[str, str]], analyzer: Analyzer, chunking: ChunkingSettings
) -> list[list[AnalysedChunk] | DocumentRejected]:
    """prepare_chunks for each (text, title), with every block of them in one analyse_many:
    Kiwi's workers share out the blocks of many small documents as they do one large one's.
    A document that cannot be chunked (too many chunks) gets its error in its place and
    costs no analysis."""
    parsed: list[_Parsed | DocumentRejected] = [_parse(text, title, analyzer, chunking) for text, title in documents]
    texts: list[str] = []
    for (_, title), item in zip(documents, parsed):
        if isinstance(item, _Parsed):
            texts.extend([*(b.text for b in item.blocks), title, *item.headings])
    analyses = analyzer.analyse_many(texts)
    prepared: list[list[AnalysedChunk] | DocumentRejected] = []
    at = 0
    for (_, title), item in zip(documents, parsed):
        if not isinstance(item, _Parsed):
            prepared.append(item)
            continue
        count = len(item.blocks) + 1 + len(item.headings)
        own = analyses[at : at + count]
        at += count
        blocks_analyses = own[: len(item.blocks)]
        heading_forms = dict(zip(item.headings, (a.forms for a in own[len(item.blocks) + 1 :])))
        try:
            prepared.append(_chunks_of(item, title, blocks_analyses, own[len(item.blocks)].forms, heading_forms, chunking))
        except TooManyChunks as refused:
            prepared.append(refused)
    return prepared


def analysis_texts(text: str, title: str, analyzer: Analyzer, chunking: ChunkingSettings) -> list[str]:
    """The texts prepare_chunks asks the analyzer for, in its order (to analyse them ahead in batches)."""
    parsed = _parse(text, title, analyzer, chunking)
    return [*(b.text for b in parsed.blocks), title, *parsed.headings] if isinstance(parsed, _Parsed) else []


def _parse(text: str, title: str, analyzer: Analyzer, chunking: ChunkingSettings) -> _Parsed | DocumentRejected:
    clean = clean_text(text, analyzer.joins_without_space)
    blocks = parse_blocks(clean.text)
    if len(blocks) > chunking.max_chunks:
        try:  # a cheap count first: each block one sentence, so no analysis is spent on a refused document
            chunk_blocks(clean.text, blocks, lambda block: [(block.start, block.end)], chunking, title)
        except TooManyChunks as refused:
            return refused
    headings = list(dict.fromkeys(b.label or b.text for b in blocks if b.kind is BlockKind.HEADING))
    return _Parsed(clean, blocks, headings)


def _chunks_of(
    parsed: _Parsed, title: str, analyses: Sequence[Analysis], title_forms: list[str],
    heading_forms: dict[str, list[str]], chunking: ChunkingSettings,
) -> list[AnalysedChunk]:
    blocks = parsed.blocks
    by_start = dict(zip((block.start for block in blocks), analyses))
    tokens = _absolute_tokens(blocks, analyses)
    sentences = _absolute_sentences(blocks, analyses)

    def split_sentences(block: Block) -> Sequence[tuple[int, int]]:
        analysis = by_start[block.start]
        return [(block.start + s, block.start + e) for s, e in analysis.sentences]

    chunks = chunk_blocks(parsed.clean.text, blocks, split_sentences, chunking, title, parsed.clean)
    token_starts = [t.start for t in tokens]
    sentence_starts = [s for s, _ in sentences]
    prepared = []
    for chunk in chunks:
        chunk_tokens: list[Token] = []
        spans: list[tuple[int, int]] = []
        at = 0
        for start, end in chunk.pieces:
            inside = tokens[bisect_left(token_starts, start) : bisect_left(token_starts, end)]
            chunk_tokens.extend(t._replace(start=t.start - start + at) for t in inside)
            spans.extend(
                (max(s, start) - start + at, min(e, end) - start + at)
                for s, e in sentences[bisect_left(sentence_starts, start) : bisect_left(sentence_starts, end)]
            )
            at += end - start + 1
        prepared.append(
            AnalysedChunk(
                chunk=chunk,
                tokens=[t.form for t in chunk_tokens],
                token_starts=[t.start for t in chunk_tokens],
                sentences=spans,
                context_tokens=_context_tokens(chunk, title_forms, heading_forms),
            )
        )
    return prepared


def _context_tokens(chunk: Chunk, title_forms: list[str], heading_forms: dict[str, list[str]]) -> list[str]:
    """The title's tokens and those of each heading on the section path, each heading once."""
    forms = list(title_forms)
    for heading in dict.fromkeys(chunk.section):
        forms.extend(heading_forms.get(heading, ()))
    return forms


def _absolute_tokens(blocks: Sequence[Block], analyses: Sequence[Analysis]) -> list[Token]:
    return [
        Token(token.form, token.tag, block.start + token.start, block.start + token.end)
        for block, analysis in zip(blocks, analyses)
        for token in analysis.tokens
    ]


def _absolute_sentences(blocks: Sequence[Block], analyses: Sequence[Analysis]) -> list[tuple[int, int]]:
    """Sentence spans of every block but tables: a table's fragments never make an answer."""
    return [
        (block.start + s, block.start + e)
        for block, analysis in zip(blocks, analyses)
        if block.kind is not BlockKind.TABLE
        for s, e in analysis.sentences
    ]
