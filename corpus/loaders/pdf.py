"""PDF to text with pypdf, page by page, within the page and text limits.

A page that fails to extract is skipped rather than failing the file; a PDF
that yields no text at all is told apart as scanned images (NoTextLayer) or
broken (DamagedFile). Encrypted PDFs open only without a user password; AES
encryption needs the `cryptography` package.
"""

from __future__ import annotations

import io

from corpus.errors import DamagedFile, DocumentRejected, NoTextLayer, TooLarge
from corpus.loaders.limits import LoadLimits
from corpus.loaders.text import clean_title, normalize_text


def pdf_to_text(data: bytes, name: str, limits: LoadLimits) -> tuple[str, str | None]:
    """Text of every readable page, blank-line separated, and the metadata title."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except Exception as exc:
        raise DamagedFile(name) from exc

    if reader.is_encrypted:
        try:
            opened = bool(reader.decrypt(""))
        except Exception:  # noqa: BLE001 - e.g. AES without a crypto library
            opened = False
        if not opened:
            raise DocumentRejected(f"암호로 보호된 PDF는 읽을 수 없습니다: {name}")

    try:
        page_count = len(reader.pages)
    except Exception as exc:
        raise DamagedFile(name) from exc
    if page_count <= 0:
        raise DamagedFile(name)
    if page_count > limits.max_pdf_pages:
        raise TooLarge(name, f"{page_count:,}쪽, 최대 {limits.max_pdf_pages:,}쪽")

    title: str | None = None
    try:
        metadata = reader.metadata
        if metadata is not None:
            title = clean_title(metadata.title)
    except Exception:  # noqa: BLE001 - broken metadata is no reason to reject
        title = None

    pages: list[str] = []
    total = 0
    failed = 0
    for index in range(page_count):
        try:
            page_text = reader.pages[index].extract_text() or ""
        except Exception:  # noqa: BLE001 - keep the readable pages
            failed += 1
            continue
        total += len(page_text)
        if total > limits.max_chars:
            raise TooLarge(name, f"텍스트 {total:,}자 이상, 최대 {limits.max_chars:,}자")
        pages.append(page_text)
    text = "\n\n".join(p.strip("\n") for p in pages)
    if not normalize_text(text):
        if failed:
            raise DamagedFile(name)
        raise NoTextLayer(name)
    return text, title
