"""A document as the store keeps it: title, source, text and the hash that spots duplicates."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

from corpus.blocks import MARKDOWN_HEADING

TITLE_MAX_CHARS = 80
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Document:
    title: str
    source: str
    text: str
    sha256: str


def content_hash(text: str) -> str:
    """Hash of the text with Unicode and whitespace normalised, so re-saved copies match."""
    normalised = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def guess_title(text: str, filename: str, hint: str | None = None) -> str:
    """First Markdown heading, else a loader's hint (HTML <title>), else a short first line, else the file name."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        heading = MARKDOWN_HEADING.match(line)
        if heading:
            return heading.group(2).strip()
    if hint and hint.strip():
        return _WHITESPACE.sub(" ", hint).strip()[:TITLE_MAX_CHARS]
    if lines and len(lines[0]) <= TITLE_MAX_CHARS:
        return lines[0]
    return PurePath(filename).stem or filename


def make_document(text: str, source: str, title: str | None = None, title_hint: str | None = None) -> Document:
    """Build a Document; `title` overrides the guess, `source` is a file name, URL or label."""
    chosen = title.strip() if title and title.strip() else guess_title(text, PurePath(source).name, title_hint)
    return Document(title=chosen, source=source, text=text, sha256=content_hash(text))
