"""Split a document's text into structural blocks: headings, paragraphs, list items.

Plain-text articles mark structure with lines, not markup: a short line without
final punctuation followed by a longer paragraph is a heading, a line starting with
"-", "•" or "1." is a list item. Markdown `#` headings are read as such. Every block
keeps character offsets into the source text, so chunks can cite exact spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class BlockKind(str, Enum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    start: int  # offset of the block's content (markers like "## " excluded)
    end: int
    text: str
    level: int = 0  # heading level; 0 for other blocks

    @property
    def introduces_list(self) -> bool:
        """True for a sentence like "…다음과 같습니다." or one ending in a colon."""
        return self.kind is BlockKind.PARAGRAPH and bool(LIST_INTRO.search(self.text))


MARKDOWN_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
LIST_MARKER = re.compile(
    r"^[ \t]*(?:[-*+•·▪◦●○■□►▶※]|\d{1,3}[.)]|[①-⑳]|[가-하][.)]|\(\d{1,3}\))[ \t]+(?=\S)"
)
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
LIST_INTRO = re.compile(
    r"(?:[:：]|(?:다음|아래|이하)[과와]?\s*같(?:습니다|다|음|이|은)[^\n]{0,12}?[.。]?)\s*$"
)
SENTENCE_FINAL = re.compile(r"[.。!?！？…:;,)\]\"'”’]$|(?:다|요|죠|음|임|함)$")
HEADING_MAX_CHARS = 60
WRAPPED_MIN_CHARS = 20


def parse_blocks(text: str) -> list[Block]:
    """Read `text` line by line into blocks, merging wrapped paragraph lines."""
    lines = _lines_with_offsets(text)
    raw: list[Block] = []
    for start, end, line in lines:
        stripped = line.strip()
        if not stripped or TABLE_RULE.match(stripped):
            raw.append(Block(BlockKind.PARAGRAPH, start, start, ""))
            continue
        lead = len(line) - len(line.lstrip())
        content_start = start + lead
        content_end = start + len(line.rstrip())
        heading = MARKDOWN_HEADING.match(stripped)
        if heading:
            inner = heading.group(2)
            inner_start = content_start + stripped.index(inner)
            raw.append(
                Block(BlockKind.HEADING, inner_start, inner_start + len(inner), inner, len(heading.group(1)))
            )
            continue
        marker = LIST_MARKER.match(line)
        if marker:
            item_start = start + marker.end()
            raw.append(Block(BlockKind.LIST_ITEM, item_start, content_end, text[item_start:content_end]))
            continue
        raw.append(Block(BlockKind.PARAGRAPH, content_start, content_end, stripped))
    return _merge_and_classify(raw, text)


def _lines_with_offsets(text: str) -> list[tuple[int, int, str]]:
    lines = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line), line))
        pos += len(line) + 1
    return lines


def _merge_and_classify(raw: list[Block], text: str) -> list[Block]:
    """Join wrapped lines into paragraphs and promote short title-like lines to headings."""
    blocks: list[Block] = []
    for index, block in enumerate(raw):
        if not block.text:
            blocks.append(block)
            continue
        if block.kind is BlockKind.PARAGRAPH and _looks_like_heading(raw, index):
            blocks.append(Block(BlockKind.HEADING, block.start, block.end, block.text, 2))
            continue
        previous = blocks[-1] if blocks else None
        if (
            block.kind is BlockKind.PARAGRAPH
            and previous is not None
            and previous.kind is BlockKind.PARAGRAPH
            and previous.text
            and _is_wrapped(previous.text)
        ):
            blocks[-1] = Block(BlockKind.PARAGRAPH, previous.start, block.end, text[previous.start : block.end])
            continue
        blocks.append(block)
    return [block for block in blocks if block.text]


def _is_wrapped(line: str) -> bool:
    """A line cut mid-sentence (PDF or hard-wrapped text) continues on the next line."""
    return len(line) >= WRAPPED_MIN_CHARS and not SENTENCE_FINAL.search(line)


def _looks_like_heading(raw: list[Block], index: int) -> bool:
    line = raw[index].text
    if len(line) > HEADING_MAX_CHARS or line.startswith("|"):
        return False
    if SENTENCE_FINAL.search(line) and not line.endswith(("?", "？")):
        return False
    following = next((b for b in raw[index + 1 :] if b.text), None)
    if following is None:
        return False
    if following.kind is BlockKind.LIST_ITEM:
        return not line.endswith(("?", "？"))
    return following.kind is BlockKind.PARAGRAPH and len(following.text) > len(line) * 1.5
