"""Limits a load must stay within, and the text a load returns.

Kept apart from the loaders so callers (the bot, the engine) can build one
`LoadLimits` at start-up and hand it down without importing any parser.
`fmt_size` lives here because every size limit message uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class LoadLimits:
    max_bytes: int = 20 * MB  # raw file size
    max_pdf_pages: int = 500
    # docx (zip) total uncompressed size, read from the zip directory before
    # anything is decompressed (zip bombs).
    max_unpacked_bytes: int = 100 * MB
    max_chars: int = 5_000_000  # extracted text


@dataclass(frozen=True)
class LoadedText:
    # Normalised: \n line ends, NFC, no NUL/control chars except \n and \t,
    # trailing spaces stripped, at most 2 blank lines in a row.
    text: str
    # <title>/<h1> of HTML, docx core title, PDF metadata title, Markdown
    # front-matter title or leading `# ` heading; None if nothing reliable.
    title_hint: str | None
    format: str  # "txt" | "md" | "html" | "pdf" | "docx"


def fmt_size(n: int) -> str:
    """A byte count for a limit message: "1.5MB", "12KB", "300B"."""
    if n >= MB:
        return f"{n / MB:.1f}".rstrip("0").rstrip(".") + "MB"
    if n >= 1024:
        return f"{n / 1024:.1f}".rstrip("0").rstrip(".") + "KB"
    return f"{n}B"
