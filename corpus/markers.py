"""The line-start markers of Korean documents, shared by the cleanup and the block parser.

Statutes and regulations: 편/장/절/관 headings, articles 제N조 and 제N조의M with their
(제목), clauses ①–⑳, items `1.`, sub-items `가.`, 부칙 and 별표. Outlines and government
notices: `Ⅰ.`, `1.1`, `(1)` and the □ ○ - · bullet hierarchy. Tables: Markdown and
" | " rows, and lines of several columns aligned by runs of spaces.
"""

from __future__ import annotations

import re

# 제1편, 제2장, 제3절, 제1관, 제7절의2 followed by their name.
STATUTE_DIVISION = re.compile(r"^제\s*(\d+)\s*(편|장|절|관)(의\s*\d+)?(?:\s+(\S.*))?$")
DIVISION_RANK = {"편": 2, "장": 3, "절": 4, "관": 5}
ARTICLE_RANK = 6
SUPPLEMENT_RANK = 2  # 부칙 and 별표 close every chapter
# 제50조(근로시간) …, 제2조의2(…) …, and the Markdown shape "제50조 근로시간".
ARTICLE = re.compile(r"^제\s*(\d+)\s*조(?:\s*의\s*(\d+))?(?=[\s(（]|$)")
ARTICLE_TITLE = re.compile(r"^\s*[(（]([^()（）\n]{1,60})[)）]")
SUPPLEMENT = re.compile(r"^(?:부\s*칙|\[?별\s*표(?:\s*\d+)?\]?)(?=[\s<(\[]|$)")
CLAUSE = re.compile(r"^([\u2460-\u2473\u3251-\u325f])\s*")
ITEM = re.compile(r"^(\d{1,3})(?:-(\d{1,2})|의(\d{1,2}))?\.(?=\s)\s*")
SUB_ITEM = re.compile(r"^([가-하])\.(?=\s)\s*")
OUTLINE = re.compile(
    r"^(?:([IVX]{1,4}|[\u2160-\u216b])\.|(\d{1,2}(?:\.\d{1,2}){1,3})\.?|\((\d{1,3})\)|(\d{1,3})\)|([가-하])\)"
    r"|([□■◻◼○◦●◎▪▫◇◆∘※]|[-–·•*+]))(?=\s)\s*"
)
MARKDOWN_LIST = re.compile(r"^([ \t]*)(?:(\d{1,3})(?:-(\d{1,2}))?[.)]|[-*+])[ \t]+(?=\S)")
MARKDOWN_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
_PIPE_CELLS = re.compile(r"\s\|\s|^\s*\|")
_COLUMN_GAP = re.compile(r"\S(?: {4,}|\t+)(?=\S)")  # prose never puts four spaces between words

CIRCLED = "".join(chr(c) for c in range(0x2460, 0x2474)) + "".join(chr(c) for c in range(0x3251, 0x3260))
HANGUL_ORDER = "가나다라마바사아자차카타파하"


def circled(number: int) -> str:
    """Clause label of clause `number`: ① for 1; "제21항" past the circled digits."""
    return CIRCLED[number - 1] if 1 <= number <= len(CIRCLED) else f"제{number}항"


def hangul_ordinal(number: int) -> str:
    """Sub-item label of sub-item `number`: 가. for 1."""
    return f"{HANGUL_ORDER[number - 1]}." if 1 <= number <= len(HANGUL_ORDER) else f"{number}."


def is_table_line(line: str) -> bool:
    """A Markdown or " | " table row, a table rule, or a line of columns set apart by wide gaps
    (a side-by-side layout such as a 신·구조문대비표; the block parser wants two such lines)."""
    stripped = line.strip()
    if not stripped:
        return False
    if TABLE_RULE.match(stripped) and set(stripped) <= set("|:- \t"):
        return True
    if stripped.startswith("|") or len(_PIPE_CELLS.findall(stripped)) >= 2:
        return True
    return bool(_COLUMN_GAP.search(stripped))


def starts_unit(line: str) -> bool:
    """The line opens a structural unit (heading, article, clause, item, bullet, table row):
    a hard-wrapped line before it ends there."""
    stripped = line.lstrip()
    return bool(
        MARKDOWN_HEADING.match(stripped)
        or STATUTE_DIVISION.match(stripped)
        or ARTICLE.match(stripped)
        or SUPPLEMENT.match(stripped)
        or CLAUSE.match(stripped)
        or ITEM.match(stripped)
        or SUB_ITEM.match(stripped)
        or OUTLINE.match(stripped)
        or is_table_line(stripped)
    )


# A section-path element that only numbers a part of its article: "②", "②–③", "9.–12.", "가.".
_PART_LABEL = re.compile(r"^(?:[\u2460-\u2473\u3251-\u325f]|\d{1,3}\.|[가-하]\.|제\d+항)(?:\s*[–-]\s*\S+)?$")


def place(heading: str, section: tuple[str, ...] | list[str]) -> str:
    """Where a passage stands, for a citation: its innermost heading and the parts it covers,
    e.g. "제50조(근로시간) ②" for the section path ("제4장 근로시간과 휴식", "제50조(근로시간)", "②")."""
    path = [" ".join(part.split()) for part in section if part and part.strip()]
    labels: list[str] = []
    while path and _PART_LABEL.match(path[-1]):
        labels.insert(0, path.pop())
    innermost = path[-1] if path else " ".join((heading or "").split())
    return " ".join(part for part in (innermost, *labels) if part)
