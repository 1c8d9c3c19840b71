"""Normalisation shared by every loader: of the extracted text, and of titles.

One definition, so text from .txt, .html, .pdf and .docx reaches the chunker
with the same line ends, Unicode form and blank-line rules.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# C0/C1 controls except \t and \n, lone surrogates, BOM/zero-width space/word
# joiner/soft hyphen (invisible, break tokenisation), non-characters.
_STRIP_CHARS = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\u200b\u2060\u00ad\ufffe\uffff]"
)
_MANY_BLANK_LINES = re.compile(r"\n{4,}")


def normalize_text(text: str) -> str:
    """Normalise text the way every loader's output is normalised.

    \\n line ends, NFC, no control characters except \\n and \\t, trailing
    whitespace stripped from every line, at most two blank lines in a row, no
    leading blank lines and no trailing whitespace.
    """
    text = LINE_BREAKS.sub("\n", text)
    text = _STRIP_CHARS.sub("", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _MANY_BLANK_LINES.sub("\n\n\n", text)
    return text.lstrip("\n").rstrip()


def clean_title(title: Any) -> str | None:
    """A one-line title, or None if empty or obviously a placeholder."""
    if not isinstance(title, str):
        return None
    title = normalize_text(title)
    title = " ".join(title.split())
    if title.startswith("Microsoft Word - "):
        title = title[len("Microsoft Word - ") :].strip()
    lowered = title.lower()
    if not title or "\ufffd" in title:
        return None
    if lowered in {"untitled", "untitled document", "document", "제목 없음", "제목없음"}:
        return None
    if re.search(r"\.(docx?|hwpx?|pdf|txt|pptx?|xlsx?|rtf|odt)$", lowered):
        return None  # a file name, not a title
    if len(title) > 200:
        title = title[:200].rstrip()
    return title
