"""Turn an uploaded file (bytes + file name) into normalised plain text.

Entry points: `load_bytes`, `load_path`, `decode_text`, `safe_filename`.

Every failure a user can cause surfaces as a `corpus.errors.DocumentRejected`
subclass with a Korean message; parser exceptions from pypdf, python-docx,
BeautifulSoup or charset-normalizer are wrapped into `BinaryContent`, so a bad
upload never crashes the caller.

Output text keeps light Markdown structure (`# ` headings, `- ` list items,
" | " table cells) because the chunker reads it.

This module only dispatches on the format; each job has its own module:

    limits.py       LoadLimits, LoadedText; sizes in limit messages
    names.py        safe_filename; extension -> format
    text.py         normalize_text; titles
    decoding.py     decode_text: bytes of a text file -> str
    markdown.py     .md, .markdown
    html.py         .html, .htm: charset, title, main content
    html_render.py  parsed HTML -> Markdown-ish text
    pdf.py          .pdf
    zipcheck.py     zip bomb check for .docx
    docx.py         .docx
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable

from corpus.errors import (
    BinaryContent,
    DamagedFile,
    DocumentRejected,
    EmptyDocument,
    NoTextLayer,
    TooLarge,
    UnsupportedFormat,
)
from corpus.loaders.decoding import decode_text
from corpus.loaders.docx import docx_to_text
from corpus.loaders.html import html_to_text
from corpus.loaders.limits import LoadedText, LoadLimits, fmt_size
from corpus.loaders.markdown import md_to_text
from corpus.loaders.names import SUPPORTED_EXTENSIONS, format_of, safe_filename
from corpus.loaders.pdf import pdf_to_text
from corpus.loaders.text import normalize_text

STRUCTURED_FORMATS = frozenset({"pdf", "docx"})  # parsed, not decoded: a failure means a damaged file

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "LoadLimits",
    "LoadedText",
    "load_bytes",
    "load_path",
    "decode_text",
    "safe_filename",
    "normalize_text",
]


def _txt_to_text(data: bytes, name: str) -> tuple[str, str | None]:
    """Decoded plain text; it has no title."""
    return decode_text(data, name), None


def _extract(fmt: str, data: bytes, name: str, limits: LoadLimits) -> tuple[str, str | None]:
    loaders: dict[str, Callable[[], tuple[str, str | None]]] = {
        "txt": lambda: _txt_to_text(data, name),
        "md": lambda: md_to_text(data, name),
        "html": lambda: html_to_text(data, name),
        "pdf": lambda: pdf_to_text(data, name, limits),
        "docx": lambda: docx_to_text(data, name, limits),
    }
    return loaders[fmt]()


def load_bytes(data: bytes, filename: str, limits: LoadLimits = LoadLimits()) -> LoadedText:
    """Extract normalised text from an uploaded file's bytes.

    The format comes from the extension of `safe_filename(filename)`; pass
    "x.txt" for text without a file name. Raises only DocumentRejected
    subclasses (UnsupportedFormat, TooLarge, EmptyDocument, BinaryContent,
    DamagedFile, NoTextLayer, or DocumentRejected itself for encrypted PDFs).
    """
    name = safe_filename(filename)
    fmt = format_of(name)
    if fmt is None:
        raise UnsupportedFormat(name, SUPPORTED_EXTENSIONS)
    data = bytes(data)
    if len(data) > limits.max_bytes:
        raise TooLarge(name, f"{fmt_size(len(data))}, 최대 {fmt_size(limits.max_bytes)}")
    if not data:
        raise EmptyDocument(name)
    try:
        raw, title = _extract(fmt, data, name, limits)
        if len(raw) > 2 * limits.max_chars:  # skip normalising absurd sizes
            raise TooLarge(name, f"텍스트 {len(raw):,}자, 최대 {limits.max_chars:,}자")
        text = normalize_text(raw)
    except DocumentRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - a bad upload must never crash the caller
        raise (DamagedFile(name) if fmt in STRUCTURED_FORMATS else BinaryContent(name)) from exc
    if len(text) > limits.max_chars:
        raise TooLarge(name, f"텍스트 {len(text):,}자, 최대 {limits.max_chars:,}자")
    if not text.strip():
        if fmt == "pdf":
            raise NoTextLayer(name)
        raise EmptyDocument(name)
    return LoadedText(text=text, title_hint=title, format=fmt)


def load_path(path: str | os.PathLike[str], limits: LoadLimits = LoadLimits()) -> LoadedText:
    """Load a local file; its size is checked with stat before it is read.

    Only regular files are read (no devices or FIFOs). File-system problems
    raise DocumentRejected with a Korean message.
    """
    raw_path = os.fspath(path)
    name = safe_filename(os.path.basename(os.fsdecode(raw_path)))
    if format_of(name) is None:
        raise UnsupportedFormat(name, SUPPORTED_EXTENSIONS)
    try:
        info = os.stat(raw_path)
    except FileNotFoundError as exc:
        raise DocumentRejected(f"파일을 찾을 수 없습니다: {name}") from exc
    except OSError as exc:
        raise DocumentRejected(f"파일을 읽을 수 없습니다: {name}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise DocumentRejected(f"일반 파일이 아니어서 읽을 수 없습니다: {name}")
    if info.st_size > limits.max_bytes:
        raise TooLarge(name, f"{fmt_size(info.st_size)}, 최대 {fmt_size(limits.max_bytes)}")
    try:
        with open(raw_path, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)  # the file may have grown
    except OSError as exc:
        raise DocumentRejected(f"파일을 읽을 수 없습니다: {name}") from exc
    return load_bytes(data, name, limits)
