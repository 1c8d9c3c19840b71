"""Cleanup of exported text (PDF, HWP) before its structure is read, keeping offsets.

Text pulled out of a PDF is hard-wrapped at a fixed width, often mid-word, and carries
page furniture: page-number lines ("- 3 -", "3 / 12", "Page 3") and running headers or
footers repeated on every page. `clean_text` drops the furniture and, in a document
that is hard-wrapped, joins a full-width line with the next one unless that opens a
unit of structure (an article, a clause, an item, a bullet, a table row). Whether the
join needs a space is a question of Korean spacing ("…정함으" + "로써" → "정함으로써",
"…이바지함을" + "목적으로" → with a space): plain rules settle punctuation and numbers,
the rest is asked of the caller's `JoinDecider` (Kiwi's spacing model, passed down by
retrieval/preparation.py: corpus knows nothing of Kiwi).

The result keeps a map from every offset of the cleaned text to the original, so
chunks built on the cleaned text still cite exact spans of the stored document. Text
that needs no cleanup comes back unchanged, with the identity map.
"""

from __future__ import annotations

import re
import statistics
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from corpus.markers import is_table_line, starts_unit

# (text before the break, text after it) pairs → True where the words join without a space.
JoinDecider = Callable[[Sequence[tuple[str, str]]], list[bool]]

PAGE_NUMBER = re.compile(
    r"^\s*(?:[-–—]\s*\d{1,4}\s*[-–—]|\d{1,4}\s*/\s*\d{1,4}|(?:page|p\.)\s*\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?"
    r"|\d{1,4}\s*(?:쪽|페이지))\s*$",
    re.IGNORECASE,
)
FURNITURE_MAX_CHARS = 80  # a running header or footer is one short line
FURNITURE_MIN_REPEATS = 3  # ...repeated on at least this many pages
FURNITURE_GAP_SPREAD = 0.35  # without page numbers: gaps between repeats vary at most this much
WRAP_MIN_LINES = 8  # fewer lines than this are never judged hard-wrapped
WRAP_FULL_SHARE = 0.4  # hard-wrapped: this share of lines at least WRAP_FULL_RATIO of the width
WRAP_FULL_RATIO = 0.8
WRAP_WIDTH_RANGE = (20, 200)  # widths a hard wrap is made at
CONTEXT_CHARS = 12  # characters each side of a break shown to the JoinDecider
_JOINS_BEFORE = frozenset(",.;:!?)]}」』〉》%ㆍ·")  # never a space before these
_JOINS_AFTER = frozenset("([{「『〈《ㆍ·")  # never a space after these


def _is_korean_word_char(char: str) -> bool:
    return "가" <= char <= "힣" or "\u4e00" <= char <= "\u9fff"


@dataclass(frozen=True)
class CleanText:
    """Cleaned text and where each of its runs came from in the original text.

    Runs are (clean start, original start, length, copied): a copied run is the
    original text, another (a space or a newline put in) maps to one original offset.
    """

    text: str
    _runs: tuple[tuple[int, int, int, bool], ...]
    _starts: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(run[0] for run in self._runs))

    @classmethod
    def unchanged(cls, text: str) -> CleanText:
        return cls(text, ((0, 0, len(text), True),))

    def origin(self, offset: int) -> int:
        """Original offset of the cleaned text's `offset` (a start)."""
        if not self._runs:
            return 0
        run = self._runs[max(bisect_right(self._starts, offset) - 1, 0)]
        clean_start, original_start, length, copied = run
        return original_start + min(offset - clean_start, length) if copied else original_start

    def origin_end(self, offset: int) -> int:
        """Original offset just after the cleaned text's character at `offset - 1` (an end)."""
        return self.origin(offset - 1) + 1 if offset > 0 else 0


class _Builder:
    def __init__(self, original: str) -> None:
        self.original = original
        self.parts: list[str] = []
        self.runs: list[tuple[int, int, int, bool]] = []
        self.length = 0

    def copy(self, start: int, end: int) -> None:
        if end <= start:
            return
        last = self.runs[-1] if self.runs else None
        if last and last[3] and last[1] + last[2] == start and last[0] + last[2] == self.length:
            self.runs[-1] = (last[0], last[1], last[2] + end - start, True)
        else:
            self.runs.append((self.length, start, end - start, True))
        self.parts.append(self.original[start:end])
        self.length += end - start

    def insert(self, text: str, at: int) -> None:
        if text:
            self.runs.append((self.length, at, len(text), False))
            self.parts.append(text)
            self.length += len(text)

    def build(self) -> CleanText:
        return CleanText("".join(self.parts), tuple(self.runs))


def clean_text(text: str, decide_joins: JoinDecider | None = None) -> CleanText:
    """`text` without page furniture and with hard-wrapped lines joined; see the module doc."""
    lines = _lines(text)
    furniture = furniture_lines([line for _, _, line in lines])
    width = wrap_width([line for index, (_, _, line) in enumerate(lines) if index not in furniture])
    if not furniture and width is None:
        return CleanText.unchanged(text)
    kept = [index for index, (_, _, line) in enumerate(lines) if index not in furniture]
    # A blank line next to page furniture is part of the page break, not a paragraph break.
    page_break_blank = {
        index
        for index in kept
        if not lines[index][2].strip() and _next_to(index, furniture, lines)
    }
    kept = [index for index in kept if index not in page_break_blank]
    joins = _joins(lines, kept, width, decide_joins) if width is not None else {}
    builder = _Builder(text)
    for position, index in enumerate(kept):
        start, end, line = lines[index]
        if position > 0 and kept[position - 1] in joins:
            start += len(line) - len(line.lstrip())
        builder.copy(start, end)
        if position + 1 == len(kept):
            builder.copy(end, min(end + 1, len(text)))
            break
        if index in joins:
            builder.insert(joins[index], end)
            continue
        builder.copy(end, end + 1)  # the line's own newline
        if kept[position + 1] != index + 1 and lines[index][2].strip() and lines[kept[position + 1]][2].strip():
            gap = range(index + 1, kept[position + 1])
            if any(not lines[i][2].strip() for i in gap):
                builder.insert("\n", end)  # the page break stood between paragraphs
    return builder.build()


def _lines(text: str) -> list[tuple[int, int, str]]:
    lines = []
    position = 0
    for line in text.split("\n"):
        lines.append((position, position + len(line), line))
        position += len(line) + 1
    return lines


def _next_to(index: int, furniture: set[int], lines: list[tuple[int, int, str]]) -> bool:
    """A blank line in a run of blank lines that touches a furniture line."""
    for step in (-1, 1):
        at = index + step
        while 0 <= at < len(lines) and not lines[at][2].strip() and at not in furniture:
            at += step
        if at in furniture:
            return True
    return False


def furniture_lines(lines: Sequence[str]) -> set[int]:
    """Indexes of page-number lines and of running headers or footers.

    A header or footer is a short line repeated on several pages: next to page-number
    lines when there are any, else at gaps of nearly equal length. The document's first
    line is its title even when a header repeats it.
    """
    numbers = {index for index, line in enumerate(lines) if PAGE_NUMBER.match(line)}
    by_text: dict[str, list[int]] = defaultdict(list)
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped and len(stripped) <= FURNITURE_MAX_CHARS and index not in numbers and not starts_unit(stripped):
            by_text[stripped].append(index)
    first = next((index for index, line in enumerate(lines) if line.strip()), None)
    found = set(numbers) if len(numbers) >= 2 else set()
    for indexes in by_text.values():
        if len(indexes) < FURNITURE_MIN_REPEATS - (1 if len(found) >= 2 else 0):
            continue
        if found:
            near = [i for i in indexes if _within_lines(i, found, lines, 2)]
            repeated = len(near) >= max(2, len(indexes) // 2)
        else:
            gaps = [b - a for a, b in zip(indexes, indexes[1:])]
            mean = statistics.fmean(gaps)
            repeated = len(indexes) >= FURNITURE_MIN_REPEATS and mean >= 10 and (
                statistics.pstdev(gaps) <= FURNITURE_GAP_SPREAD * mean
            )
        if repeated:
            found.update(i for i in indexes if i != first)
    return found


def _within_lines(index: int, targets: set[int], lines: Sequence[str], distance: int) -> bool:
    """`index` is at most `distance` non-blank lines away from one of `targets`."""
    for step in (-1, 1):
        at, seen = index + step, 0
        while 0 <= at < len(lines) and seen < distance:
            if at in targets:
                return True
            if lines[at].strip():
                seen += 1
            at += step
        if 0 <= at < len(lines) and at in targets:
            return True
    return False


def wrap_width(lines: Sequence[str]) -> int | None:
    """The width a hard-wrapped document was cut at, or None when it is not hard-wrapped."""
    lengths = sorted(len(line.strip()) for line in lines if line.strip() and not is_table_line(line))
    if len(lengths) < WRAP_MIN_LINES:
        return None
    width = lengths[int(len(lengths) * 0.9)]
    if not WRAP_WIDTH_RANGE[0] <= width <= WRAP_WIDTH_RANGE[1]:
        return None
    full = sum(1 for length in lengths if WRAP_FULL_RATIO * width <= length <= width * 1.1)
    return width if full >= WRAP_FULL_SHARE * len(lengths) else None


def _joins(
    lines: list[tuple[int, int, str]], kept: list[int], width: int, decide: JoinDecider | None
) -> dict[int, str]:
    """Line index → what replaces its line break ("" or " ") for every line joined to the next."""
    joins: dict[int, str] = {}
    asked: list[tuple[int, tuple[str, str]]] = []
    for index, following in zip(kept, kept[1:]):
        line, after = lines[index][2], lines[following][2]
        if not line.strip() or not after.strip() or len(line.strip()) < WRAP_FULL_RATIO * width:
            continue
        if is_table_line(line) or starts_unit(after):
            continue
        if after[0].isspace() or line[-1].isspace():
            joins[index] = " "
            continue
        left, right = line[-1], after[0]
        if right in _JOINS_BEFORE or left in _JOINS_AFTER or (left.isdigit() and (right.isdigit() or _is_korean_word_char(right))):
            joins[index] = ""
        elif _is_korean_word_char(left) and (_is_korean_word_char(right) or right.isalnum()):
            joins[index] = " "
            asked.append((index, (line.strip()[-CONTEXT_CHARS:], after.strip()[:CONTEXT_CHARS])))
        else:
            joins[index] = " "
    if asked and decide is not None:
        for (index, _), joined in zip(asked, decide([pair for _, pair in asked])):
            joins[index] = "" if joined else " "
    return joins
