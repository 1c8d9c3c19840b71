"""Group a document's blocks into retrieval chunks that follow its structure.

Rules, in order of strength:
- a chunk never crosses a section boundary, and a heading starts the chunk of what follows it;
- a paragraph that introduces a list ("다음과 같습니다", a trailing colon) stays with its list;
- paragraphs are packed whole up to the target size; a paragraph longer than the hard
  limit is split on sentence boundaries given by the caller (Kiwi, per paragraph, so
  list lines are never glued into sentences).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from corpus.blocks import Block, BlockKind

SentenceSplitter = Callable[[Block], Sequence[tuple[int, int]]]


@dataclass(frozen=True)
class ChunkingSettings:
    target_chars: int = 500
    max_chars: int = 900


DEFAULT_CHUNKING = ChunkingSettings()


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    start: int
    end: int
    text: str
    heading: str  # the section's heading, "" before the first one
    section: tuple[str, ...] = ()  # structural path, e.g. ("제4장 근로시간과 휴식", "제50조(근로시간)", "②")


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass
class _Section:
    heading: str
    heading_block: Block | None
    units: list[_Unit]


def chunk_blocks(
    text: str,
    blocks: Sequence[Block],
    split_sentences: SentenceSplitter,
    settings: ChunkingSettings = DEFAULT_CHUNKING,
    title: str = "",
) -> list[Chunk]:
    """Chunk `text`, already parsed into `blocks`; `title` is not repeated as a section name."""
    chunks: list[Chunk] = []
    for section in _sections(blocks, split_sentences, settings, title):
        spans = _pack(section.units, settings)
        heading = section.heading_block
        if heading is not None and section.heading:
            spans = spans or [(heading.start, heading.end)]
            spans[0] = (heading.start, spans[0][1])
        for start, end in spans:
            chunks.append(Chunk(len(chunks), start, end, text[start:end], section.heading))
    return chunks


def _sections(
    blocks: Sequence[Block], split_sentences: SentenceSplitter, settings: ChunkingSettings, title: str
) -> list[_Section]:
    sections = [_Section("", None, [])]
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if block.kind is BlockKind.HEADING:
            is_title = block.text.strip() == title.strip() and not sections[-1].units and len(sections) == 1
            sections.append(_Section("" if is_title else block.text, block, []))
            index += 1
            continue
        if block.kind is BlockKind.LIST_ITEM or block.introduces_list:
            group_end = index + 1
            while group_end < len(blocks) and blocks[group_end].kind is BlockKind.LIST_ITEM:
                group_end += 1
            sections[-1].units.extend(_list_units(blocks[index:group_end], settings))
            index = group_end
            continue
        sections[-1].units.extend(_paragraph_units(block, split_sentences, settings))
        index += 1
    return [s for s in sections if s.units or s.heading_block is not None]


def _list_units(group: Sequence[Block], settings: ChunkingSettings) -> list[_Unit]:
    """A list with its introduction is one unit unless it exceeds the hard limit."""
    units: list[_Unit] = []
    start = group[0].start
    end = group[0].end
    for block in group[1:]:
        if block.end - start > settings.max_chars:
            units.append(_Unit(start, end))
            start = block.start
        end = block.end
    units.append(_Unit(start, end))
    return units


def _paragraph_units(block: Block, split_sentences: SentenceSplitter, settings: ChunkingSettings) -> list[_Unit]:
    if block.end - block.start <= settings.max_chars:
        return [_Unit(block.start, block.end)]
    units: list[_Unit] = []
    start = end = block.start
    for sentence_start, sentence_end in split_sentences(block):
        if end > start and sentence_end - start > settings.target_chars:
            units.append(_Unit(start, end))
            start = sentence_start
        end = sentence_end
    if end > start:
        units.append(_Unit(start, end))
    return units


def _pack(units: Sequence[_Unit], settings: ChunkingSettings) -> list[tuple[int, int]]:
    """Greedily pack whole units into spans of at most `target_chars`."""
    spans: list[tuple[int, int]] = []
    for unit in units:
        if spans and unit.end - spans[-1][0] <= settings.target_chars:
            spans[-1] = (spans[-1][0], unit.end)
        else:
            spans.append((unit.start, unit.end))
    return spans
