"""Group a document's blocks into retrieval chunks that follow its structure.

Rules, in order of strength:
- a chunk never crosses a section boundary (a heading, a statute article), and a heading
  starts the chunk of what follows it; a heading with nothing under it makes no chunk;
- a statute article is one chunk when it fits `max_chars`; a longer one is split at clause
  boundaries, every part citing the article (heading and section path);
- a list stays with the sentence or clause that introduces it; a list too long for one
  chunk is split between its items and every part repeats that lead-in, so an item is
  never read without the consequence its lead-in states;
- paragraphs are packed whole up to the target size; a paragraph longer than the hard
  limit is split on sentence boundaries given by the caller (Kiwi, per paragraph, so
  list lines are never glued into sentences).

Chunks are built on the cleaned text (corpus/cleanup.py) and cite the original one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from corpus.blocks import SENTENCE_FINAL, Block, BlockKind
from corpus.cleanup import CleanText
from corpus.errors import TooManyChunks

SentenceSplitter = Callable[[Block], Sequence[tuple[int, int]]]

# A document may make at most this many chunks. A document at the loaders' 5,000,000
# character limit makes about 10,000 chunks of prose (500 characters each); 1,000,000
# one-line headings would make a million, each a passage of its own.
MAX_CHUNKS_PER_DOCUMENT = 20_000


@dataclass(frozen=True)
class ChunkingSettings:
    target_chars: int = 500
    max_chars: int = 900
    max_chunks: int = MAX_CHUNKS_PER_DOCUMENT


DEFAULT_CHUNKING = ChunkingSettings()


@dataclass(frozen=True)
class Chunk:
    """A passage of a document.

    `text` is what is indexed and shown: the cleaned text of the passage (hard-wrapped
    lines reflowed, page furniture left out), preceded by its list's lead-in when a long
    list was split (the lead-in then lies before `start`). `start`/`end` are offsets into
    the stored document text (Document.text) of the passage's own content: equal to
    `text` for clean documents, spanning the original, wrapped lines otherwise.
    `pieces` are the spans of the cleaned text `text` is joined from ("\\n" between them).
    """

    ordinal: int
    start: int
    end: int
    text: str
    heading: str  # the innermost heading, "" before the first one
    section: tuple[str, ...] = ()  # structural path, e.g. ("제4장 근로시간과 휴식", "제50조(근로시간)", "②")
    pieces: tuple[tuple[int, int], ...] = ()
    tables: tuple[tuple[int, int], ...] = ()  # spans of `text` that are tables: never answer sentences


@dataclass
class _Node:
    """A block with what it introduces or contains (a clause with its items)."""

    block: Block | None
    children: list[_Node] = field(default_factory=list)
    start: int = 0
    end: int = 0

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def label(self) -> str:
        return self.block.label if self.block is not None and self.block.kind is BlockKind.LIST_ITEM else ""


@dataclass(frozen=True)
class _Part:
    """Spans of the cleaned text that make one chunk, and the labels it covers."""

    start: int
    end: int
    carried: tuple[tuple[int, int], ...] = ()  # lead-ins repeated before the part
    labels: tuple[str, ...] = ()  # the labels of the units in it, outermost level

    @property
    def size(self) -> int:
        return self.end - self.start + sum(e - s + 1 for s, e in self.carried)


@dataclass
class _Section:
    path: tuple[str, ...]
    heading_block: Block | None
    blocks: list[Block]


def chunk_blocks(
    text: str,
    blocks: Sequence[Block],
    split_sentences: SentenceSplitter,
    settings: ChunkingSettings = DEFAULT_CHUNKING,
    title: str = "",
    clean: CleanText | None = None,
) -> list[Chunk]:
    """Chunk `text`, already parsed into `blocks`; `title` is not repeated as a section name.

    `text` is the cleaned text the blocks index into and `clean` maps it to the original
    (None: `text` is the original). Raises TooManyChunks past `settings.max_chunks`.
    """
    tables = [(b.start, b.end) for b in blocks if b.kind is BlockKind.TABLE]
    chunks: list[Chunk] = []
    for section in _sections(blocks, title):
        for part in _section_parts(section, split_sentences, settings):
            chunks.append(_chunk(len(chunks), text, section, part, clean, tables))
            if len(chunks) > settings.max_chunks:
                raise TooManyChunks(settings.max_chunks)
    return chunks


def _chunk(
    ordinal: int, text: str, section: _Section, part: _Part, clean: CleanText | None, tables: list[tuple[int, int]]
) -> Chunk:
    pieces = (*part.carried, (part.start, part.end))
    joined = "\n".join(text[s:e] for s, e in pieces)
    table_spans = []
    at = 0
    for s, e in pieces:
        table_spans.extend((max(ts, s) - s + at, min(te, e) - s + at) for ts, te in tables if ts < e and te > s)
        at += e - s + 1
    start, end = (clean.origin(part.start), clean.origin_end(part.end)) if clean else (part.start, part.end)
    heading = section.path[-1] if section.path else ""
    return Chunk(ordinal, start, end, joined, heading, section.path + part.labels, pieces, tuple(table_spans))


def _sections(blocks: Sequence[Block], title: str) -> list[_Section]:
    sections = [_Section((), None, [])]
    stack: list[tuple[int, str]] = []  # (level, label) of the open headings
    for index, block in enumerate(blocks):
        if block.kind is not BlockKind.HEADING:
            if not (index == 0 and len(blocks) > 1 and _is_title_line(block, title)):
                sections[-1].blocks.append(block)
            continue
        is_title = block.text.strip() == title.strip() and not sections[-1].blocks and len(sections) == 1
        if is_title:
            sections.append(_Section((), block, []))
            continue
        while stack and stack[-1][0] >= block.level:
            stack.pop()
        stack.append((block.level, block.label or block.text))
        sections.append(_Section(tuple(label for _, label in stack), block, []))
    return [s for s in sections if s.blocks]


def _is_title_line(block: Block, title: str) -> bool:
    """A first line that only names the document ("근로기준법"), not a sentence that is also its title."""
    return block.text.strip() == title.strip() and not SENTENCE_FINAL.search(block.text.strip())


def _section_parts(section: _Section, split_sentences: SentenceSplitter, settings: ChunkingSettings) -> list[_Part]:
    nodes = _nodes(section.blocks)
    heading = section.heading_block
    start = heading.start if heading is not None and section.path else nodes[0].start
    end = nodes[-1].end
    if heading is not None and heading.is_article and end - start <= settings.max_chars:
        return [_Part(start, end)]
    parts = [part for node in nodes for part in _fit(node, split_sentences, settings)]
    packed = _pack(parts, settings, labelled=heading is not None and heading.is_article)
    first = packed[0]
    packed[0] = _Part(min(start, first.start), first.end, first.carried, first.labels)
    return packed


def _nodes(blocks: Sequence[Block]) -> list[_Node]:
    """Blocks as a forest: a list item owns the deeper items after it; a paragraph or item
    that introduces a list owns the list."""
    roots: list[_Node] = []
    stack: list[tuple[int, _Node]] = []  # (depth, node) of open list items
    for block in blocks:
        node = _Node(block, start=block.span_start, end=block.end)
        if block.kind is BlockKind.LIST_ITEM:
            while stack and stack[-1][0] >= block.depth:
                stack.pop()
            (stack[-1][1].children if stack else roots).append(node)
            stack.append((block.depth, node))
        else:
            stack.clear()
            roots.append(node)
            if block.introduces_list:
                stack.append((0, node))
    for root in roots:
        _close(root)
    return roots


def _close(node: _Node) -> int:
    for child in node.children:
        node.end = max(node.end, _close(child))
    return node.end


def _fit(node: _Node, split_sentences: SentenceSplitter, settings: ChunkingSettings) -> list[_Part]:
    """Parts of at most max_chars for one node: whole, or its children with the node's own
    block carried before each part, or (a long paragraph) its sentences."""
    label = (node.label,) if node.label else ()
    if node.size <= settings.max_chars:
        return [_Part(node.start, node.end, labels=label)]
    block = node.block
    if not node.children:
        return [_Part(s, e, labels=label) for s, e in _sentence_spans(block, split_sentences, settings)]
    head = _Part(node.start, block.end)
    children = [part for child in node.children for part in _fit(child, split_sentences, settings)]
    groups = _pack(children, settings, labelled=True, room=settings.target_chars - head.size)
    parts = []
    for index, group in enumerate(groups):
        if index == 0 and head.size + group.size <= settings.max_chars:
            parts.append(_Part(head.start, group.end, group.carried, label + group.labels))
        else:
            carried = ((head.start, head.end), *group.carried) if head.size <= settings.max_chars // 2 else group.carried
            if index == 0 and not carried:
                parts.append(_Part(head.start, head.end, labels=label))
            parts.append(_Part(group.start, group.end, carried, label + group.labels))
    return parts


def _sentence_spans(block: Block, split_sentences: SentenceSplitter, settings: ChunkingSettings) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = end = block.span_start
    for sentence_start, sentence_end in split_sentences(block):
        if end > start and sentence_end - start > settings.target_chars:
            spans.append((start, end))
            start = sentence_start
        end = sentence_end
    if end > start:
        spans.append((start, end))
    return spans or [(block.span_start, block.end)]


def _pack(parts: Sequence[_Part], settings: ChunkingSettings, labelled: bool, room: int | None = None) -> list[_Part]:
    """Greedily pack consecutive parts into spans of at most `target_chars`; a part that
    carries a lead-in starts a span of its own and takes only parts with the same lead-in."""
    packed: list[_Part] = []
    for part in parts:
        limit = room if room is not None and len(packed) == 1 else settings.target_chars
        if packed and packed[-1].carried == part.carried and part.end - packed[-1].start + _carried_size(part) <= max(limit, 0):
            last = packed[-1]
            packed[-1] = _Part(last.start, part.end, last.carried, _range(last.labels, part.labels) if labelled else ())
        else:
            packed.append(part if labelled else _Part(part.start, part.end, part.carried))
    return packed


def _carried_size(part: _Part) -> int:
    return sum(e - s + 1 for s, e in part.carried)


def _range(first: tuple[str, ...], last: tuple[str, ...]) -> tuple[str, ...]:
    """Labels of a span from units labelled `first` to units labelled `last`: "②–③"."""
    if not first or not last:
        return first or last
    if first[:-1] == last[:-1]:
        start = first[-1].split("–")[0]
        end = last[-1].split("–")[-1]
        return (*first[:-1], start if start == end else f"{start}–{end}")
    return (f"{first[0].split('–')[0]}–{last[0].split('–')[-1]}",)
