"""Refuse zip bombs before a .docx is handed to python-docx.

python-docx decompresses parts as it pleases, so the only safe point to check
sizes is the zip central directory, read before anything is unpacked. The
same check also rejects zips that are not Word documents.
"""

from __future__ import annotations

import io
import zipfile

from corpus.errors import DamagedFile, TooLarge
from corpus.loaders.limits import MB, LoadLimits, fmt_size

_MAX_ZIP_ENTRIES = 10_000
_ZIP_RATIO_LIMIT = 100
_ZIP_RATIO_MIN_SIZE = 4 * MB


def check_zip_directory(data: bytes, name: str, limits: LoadLimits) -> None:
    """Reject zip bombs from the central directory, before decompressing.

    The declared sizes can be trusted as an upper bound: zipfile stops reading
    a member at its declared size.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {info.filename for info in entries}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise DamagedFile(name) from exc
    if len(entries) > _MAX_ZIP_ENTRIES:
        raise TooLarge(name, f"압축 항목 {len(entries):,}개, 최대 {_MAX_ZIP_ENTRIES:,}개")
    total = sum(info.file_size for info in entries)
    if total > limits.max_unpacked_bytes:
        raise TooLarge(
            name,
            f"압축을 푼 크기 {fmt_size(total)}, 최대 {fmt_size(limits.max_unpacked_bytes)}",
        )
    for info in entries:
        if (
            info.file_size > _ZIP_RATIO_MIN_SIZE
            and info.file_size > _ZIP_RATIO_LIMIT * max(info.compress_size, 1)
        ):
            ratio = info.file_size // max(info.compress_size, 1)
            raise TooLarge(name, f"비정상적인 압축률 {ratio:,}:1")
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise DamagedFile(name)
