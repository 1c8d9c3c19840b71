"""Normalisation shared by every loader: of the extracted text, and of titles.

One definition, so text from .txt, .html, .pdf and .docx reaches the chunker
with the same line ends, Unicode form and blank-line rules.
"""

from __future__ import annotations

import re
from typing import Any

from corpus.normalize import normalize_characters

_MANY_BLANK_LINES = re.compile(r"\n{4,}")


def normalize_text(text: str) -> str:
    """Normalise text the way every loader's output is normalised.

    The characters as `corpus.normalize.normalize_characters` leaves them (the rules
    questions follow too), trailing whitespace stripped from every line, at most two
    blank lines in a row, no leading blank lines and no trailing whitespace.
    """
    text = normalize_characters(text)
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
