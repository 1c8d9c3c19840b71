"""Split a document's text into structural blocks: headings, paragraphs, list items, tables.

Plain-text articles mark structure with lines, not markup: a short line without
final punctuation followed by a longer paragraph is a heading, a line starting with
"-", "•" or "1." is a list item. Markdown `#` headings are read as such.

Statutes and regulations are read by their own units (corpus/markers.py): 편/장/절/관
and 부칙/별표 are headings ranked by the statute's hierarchy, an article 제N조(제목) is a
heading whose label is normalised, so "### 제50조 근로시간" (Markdown) and "제50조(근로시간) …"
(official layout) both read "제50조(근로시간)"; clauses ①, items 1. and sub-items 가. are
list items with a depth (1, 2, 3) and a label. In a Markdown statute, clauses are written
as a numbered list and items as a nested one: they get the same labels and depths.
Government-notice bullets (□ ○ - ·) nest in the order they first appear in a section.
Tables (Markdown or " | " rows, aligned columns) are blocks of their own.

Every block keeps character offsets into the text it was parsed from, so chunks can
cite exact spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum

from corpus.markers import (
    ARTICLE,
    ARTICLE_RANK,
    ARTICLE_TITLE,
    CLAUSE,
    DIVISION_RANK,
    ITEM,
    MARKDOWN_HEADING,
    MARKDOWN_LIST,
    OUTLINE,
    STATUTE_DIVISION,
    SUB_ITEM,
    SUPPLEMENT,
    SUPPLEMENT_RANK,
    TABLE_RULE,
    circled,
    hangul_ordinal,
    is_table_line,
)

__all__ = ["Block", "BlockKind", "LIST_INTRO", "LIST_MARKER", "MARKDOWN_HEADING", "TABLE_RULE", "parse_blocks"]


class BlockKind(str, Enum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    LIST_ITEM = "list_item"
    TABLE = "table"  # rows of a table or columns side by side: indexed, never an answer sentence


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    start: int  # offset of the block's content (markers like "## " or "① " excluded)
    end: int
    text: str
    level: int = 0  # heading level (statute headings: 편 2 … 조 6, see markers); 0 for other blocks
    label: str = ""  # heading: its normalised name; list item: "②", "3.", "가." (statute units only)
    depth: int = 0  # list item nesting, 1 = outermost; statute clauses 1, items 2, sub-items 3
    marker_start: int = -1  # where the line's marker ("① ", "- ") starts; -1: at `start`

    @property
    def introduces_list(self) -> bool:
        """True for a sentence like "…다음과 같습니다." or one ending in a colon."""
        if self.kind not in (BlockKind.PARAGRAPH, BlockKind.LIST_ITEM):
            return False
        return bool(LIST_INTRO.search(self.text) or STATUTE_LIST_INTRO.search(self.text))

    @property
    def is_article(self) -> bool:
        return self.kind is BlockKind.HEADING and self.level == ARTICLE_RANK

    @property
    def span_start(self) -> int:
        """Where the block's line starts, marker included."""
        return self.marker_start if self.marker_start >= 0 else self.start


LIST_MARKER = re.compile(
    r"^[ \t]*(?:[-*+•·▪◦●○■□►▶※]|\d{1,3}[.)]|[①-⑳]|[가-하][.)]|\(\d{1,3}\))[ \t]+(?=\S)"
)
LIST_INTRO = re.compile(
    r"(?:[:：]|(?:다음|아래|이하)[과와]?\s*같(?:습니다|다|음|이|은)[^\n]{0,12}?[.。]?)\s*$"
)
STATUTE_LIST_INTRO = re.compile(r"다음\s*각\s*(?:호|목)")  # "다음 각 호의 어느 하나에 해당하는 …"
SENTENCE_FINAL = re.compile(r"[.。!?！？…:;,)\]\"'”’]$|(?:다|요|죠|음|임|함)$")
HEADING_MAX_CHARS = 60
WRAPPED_MIN_CHARS = 20
STATUTE_DEPTH = {"clause": 1, "item": 2, "sub_item": 3}
_SPACES = re.compile(r"\s+")


def parse_blocks(text: str) -> list[Block]:
    """Read `text` line by line into blocks, merging wrapped paragraph lines."""
    reader = _Reader(text)
    for start, end, line in _lines_with_offsets(text):
        reader.line(start, end, line)
    return _merge_and_classify(reader.raw, text)


class _Reader:
    """Line-by-line state: the article being read and the list shapes seen in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.raw: list[Block] = []
        self.markdown_article = False  # the current article came from a `#` heading
        self.article_has_clauses = False  # its body opened with a numbered list: clauses
        self.article_body_seen = False
        self.indents: list[int] = []  # Markdown list indents seen in the current article
        self.bullets: list[str] = []  # bullet families seen in the current section, outermost first

    def line(self, start: int, end: int, line: str) -> None:
        stripped = line.strip()
        if not stripped or (TABLE_RULE.match(stripped) and not is_table_line(stripped)):
            self.raw.append(Block(BlockKind.PARAGRAPH, start, start, ""))
            return
        lead = len(line) - len(line.lstrip())
        content_start = start + lead
        content_end = start + len(line.rstrip())
        if is_table_line(stripped):
            self.raw.append(Block(BlockKind.TABLE, content_start, content_end, stripped))
            return
        heading = MARKDOWN_HEADING.match(stripped)
        if heading:
            inner = heading.group(2)
            inner_start = content_start + stripped.index(inner)
            self._heading(inner_start, inner_start + len(inner), len(heading.group(1)), markdown=True)
            return
        if self._statute_line(content_start, content_end):
            return
        self._list_or_paragraph(start, content_start, content_end, line)

    def _heading(self, start: int, end: int, level: int, markdown: bool) -> None:
        text = self.text[start:end]
        if ARTICLE.match(text):
            self._start_article(start, end, _article_label(text), markdown)
            return
        self.bullets = []
        division = STATUTE_DIVISION.match(text)
        if division:
            level = DIVISION_RANK[division.group(2)]
        elif SUPPLEMENT.match(text):
            level = SUPPLEMENT_RANK
        self.raw.append(Block(BlockKind.HEADING, start, end, text, level, _SPACES.sub(" ", text)))

    def _start_article(self, start: int, end: int, label: str, markdown: bool) -> None:
        self.markdown_article = markdown
        self.article_has_clauses = False
        self.article_body_seen = False
        self.indents = []
        self.bullets = []
        self.raw.append(Block(BlockKind.HEADING, start, end, self.text[start:end], ARTICLE_RANK, label))

    def _statute_line(self, start: int, end: int) -> bool:
        """Headings, articles and clauses of the official statute layout; False for other lines."""
        line = self.text[start:end]
        short_title = len(line) <= HEADING_MAX_CHARS and not SENTENCE_FINAL.search(line)
        if (STATUTE_DIVISION.match(line) or SUPPLEMENT.match(line)) and short_title:
            self._heading(start, end, 0, markdown=False)
            return True
        article = ARTICLE.match(line)
        if article:
            header_end = _article_header_end(line)
            if header_end is not None:
                self._start_article(start, start + header_end, _article_label(line[:header_end]), markdown=False)
                rest = len(line) - len(line[header_end:].lstrip())
                if rest < len(line):
                    self._statute_line(start + rest, end) or self._list_or_paragraph(
                        start + rest, start + rest, end, line[rest:]
                    )
                return True
        clause = CLAUSE.match(line)
        if clause:
            self._item(start, start + clause.end(), end, clause.group(1), STATUTE_DEPTH["clause"])
            return True
        return False

    def _list_or_paragraph(self, line_start: int, start: int, end: int, line: str) -> None:
        stripped = self.text[start:end]
        markdown = MARKDOWN_LIST.match(line)
        if markdown and markdown.group(2) and self.markdown_article:
            self._markdown_statute_item(start, line_start + markdown.end(), end, markdown)
            return
        item = ITEM.match(stripped)
        if item:
            number = item.group(1) + (f"-{item.group(2) or item.group(3)}" if item.group(2) or item.group(3) else "")
            self._item(start, start + item.end(), end, f"{number}.", STATUTE_DEPTH["item"])
            return
        sub_item = SUB_ITEM.match(stripped)
        if sub_item:
            self._item(start, start + sub_item.end(), end, f"{sub_item.group(1)}.", STATUTE_DEPTH["sub_item"])
            return
        outline = OUTLINE.match(stripped)
        if outline:
            self._outline(start, start + outline.end(), end, outline)
            return
        marker = LIST_MARKER.match(line)
        if marker:
            self._item(start, line_start + marker.end(), end, "", self._bullet_depth("list"))
            return
        self.article_body_seen = True
        self.raw.append(Block(BlockKind.PARAGRAPH, start, end, stripped))

    def _markdown_statute_item(self, marker_start: int, start: int, end: int, found: re.Match[str]) -> None:
        """A numbered Markdown list inside a Markdown article: clauses when the article's body
        opens with it, else items; each nesting level one statute level deeper."""
        indent = len(found.group(1).expandtabs(4))
        if indent not in self.indents:
            self.indents = sorted([*self.indents, indent])
        if not self.article_body_seen:
            self.article_has_clauses = indent == self.indents[0]
        nesting = self.indents.index(indent) + (1 if self.article_has_clauses else 2)
        number = int(found.group(2))
        if nesting == STATUTE_DEPTH["clause"]:
            label = circled(number)
        elif nesting == STATUTE_DEPTH["item"]:
            label = f"{number}-{found.group(3)}." if found.group(3) else f"{number}."
        else:
            label = hangul_ordinal(number)
        self._item(marker_start, start, end, label, nesting)

    def _outline(self, marker_start: int, start: int, end: int, found: re.Match[str]) -> None:
        """Outline numbers (Ⅰ., 1.1, (1), 1), 가)) and notice bullets (□ ○ - ·)."""
        text = self.text[start:end]
        family = next(kind for kind, group in zip(("roman", "decimal", "paren", "half", "hangul", "bullet"), found.groups()) if group)
        symbol = found.group(6) or family
        title_like = len(text) <= HEADING_MAX_CHARS and not SENTENCE_FINAL.search(text)
        if family in ("roman", "decimal") and title_like:
            self.raw.append(Block(BlockKind.HEADING, marker_start, end, self.text[marker_start:end], 2 if family == "roman" else 3, _SPACES.sub(" ", self.text[marker_start:end])))
            self.bullets = []
            return
        if symbol in "□■◻◼" and title_like:
            self.raw.append(Block(BlockKind.HEADING, start, end, text, 4, text))
            self.bullets = [symbol]
            return
        self._item(marker_start, start, end, "", self._bullet_depth(symbol))

    def _bullet_depth(self, family: str) -> int:
        if family in self.bullets:
            del self.bullets[self.bullets.index(family) + 1 :]
        else:
            self.bullets.append(family)
        return len(self.bullets)

    def _item(self, marker_start: int, start: int, end: int, label: str, depth: int) -> None:
        self.article_body_seen = True
        self.raw.append(Block(BlockKind.LIST_ITEM, start, end, self.text[start:end], 0, label, depth, marker_start))


def _article_header_end(line: str) -> int | None:
    """Length of an article header at the start of `line` ("제3조(목적)"), or None when the
    line only starts with an article number (a sentence such as "제20조 단서에도 불구하고 …")."""
    found = ARTICLE.match(line)
    if found is None:
        return None
    rest = line[found.end() :]
    title = ARTICLE_TITLE.match(rest)
    if title:
        return found.end() + title.end()
    if rest.strip().startswith("삭제"):
        return found.end()
    if not rest.strip() or (len(line) <= HEADING_MAX_CHARS // 2 and not SENTENCE_FINAL.search(line)):
        return len(line)
    return None


def _article_label(text: str) -> str:
    """"제50조(근로시간)" for the headers "제50조(근로시간)", "제50조 근로시간" or "제 50 조 (근로시간)"."""
    found = ARTICLE.match(text.strip())
    if found is None:
        return _SPACES.sub(" ", text.strip())
    number = f"제{found.group(1)}조" + (f"의{found.group(2)}" if found.group(2) else "")
    rest = text.strip()[found.end() :].strip()
    title = ARTICLE_TITLE.match(rest)
    name = title.group(1).strip() if title else rest
    if not name or name.startswith("삭제"):
        return number
    return f"{number}({_SPACES.sub(' ', name)})"


def _lines_with_offsets(text: str) -> list[tuple[int, int, str]]:
    lines = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line), line))
        pos += len(line) + 1
    return lines


def _merge_and_classify(raw: list[Block], text: str) -> list[Block]:
    """Join wrapped lines into paragraphs and table rows into tables; promote short
    title-like lines to headings."""
    blocks: list[Block] = []
    for index, block in enumerate(raw):
        if not block.text:
            blocks.append(block)
            continue
        previous = blocks[-1] if blocks else None
        if block.kind is BlockKind.TABLE:
            if previous is not None and previous.kind is BlockKind.TABLE:
                blocks[-1] = replace(previous, end=block.end, text=text[previous.start : block.end])
            else:
                blocks.append(block)
            continue
        if block.kind is BlockKind.PARAGRAPH and _looks_like_heading(raw, index):
            blocks.append(Block(BlockKind.HEADING, block.start, block.end, block.text, 2, block.text))
            continue
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
    return [_single_aligned_row(block) for block in blocks if block.text]


def _single_aligned_row(block: Block) -> Block:
    """A lone line of aligned columns is no table: tables of that kind need two rows."""
    if block.kind is BlockKind.TABLE and "\n" not in block.text and "|" not in block.text:
        return replace(block, kind=BlockKind.PARAGRAPH)
    return block


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
