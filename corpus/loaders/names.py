"""Uploaded file names: made safe to show, and mapped to a format.

Names come from Telegram clients on any platform and are shown back to users,
so they are cleaned before anything else; the format is chosen from the
extension of the cleaned name only, never from the content.
"""

from __future__ import annotations

import re

from corpus.normalize import normalize_characters

_FORMAT_BY_EXTENSION: dict[str, str] = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(_FORMAT_BY_EXTENSION)

_FALLBACK_FILENAME = "document"
_MAX_FILENAME_BYTES = 255


def safe_filename(name: str) -> str:
    """Return a displayable base name: no directories, no control characters.

    Both "/" and "\\" count as separators whatever the OS, because names come
    from Telegram clients on any platform. The result is never empty, never
    "." or "..", and at most 255 UTF-8 bytes (the extension is kept).
    """
    name = normalize_characters(str(name)).replace("\t", "").replace("\n", "")  # a name is one line
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"^[A-Za-z]:", "", name)  # drive-relative "C:x.txt"
    # Windows drops trailing dots and spaces; so do we.
    name = name.strip().rstrip(". ").strip()
    if name in ("", ".", ".."):
        return _FALLBACK_FILENAME
    if len(name.encode("utf-8")) > _MAX_FILENAME_BYTES:
        dot = name.rfind(".")
        ext = name[dot:] if 0 < dot and len(name) - dot <= 16 else ""
        stem = name[: len(name) - len(ext)]
        budget = _MAX_FILENAME_BYTES - len(ext.encode("utf-8"))
        stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
        name = (stem + ext).strip() or _FALLBACK_FILENAME
    return name


def format_of(name: str) -> str | None:
    """"txt", "md", "html", "pdf" or "docx" from the extension, or None."""
    dot = name.rfind(".")
    if dot < 0:
        return None
    return _FORMAT_BY_EXTENSION.get(name[dot:].lower())
