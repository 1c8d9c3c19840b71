"""Decode the bytes of a plain-text upload (.txt, .md, fallback for .html).

Korean users upload UTF-8, CP949/EUC-KR and BOM-less UTF-16 files without
saying which, so the encoding is worked out from the bytes: an ordered list
of strict decodings, each checked to read like text, with charset-normalizer
as a last resort. Binary files renamed to .txt are refused here.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from corpus.errors import BinaryContent
from corpus.loaders.names import safe_filename

BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 before UTF-16: the UTF-32 LE BOM starts with the UTF-16 LE BOM.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Headers of binary formats that are never the start of a text file. Headers
# made of printable ASCII only ("GIF89a", "ID3", "RIFF") are left to the
# control-character test, since a text could start with them.
_BINARY_MAGIC: tuple[bytes, ...] = (
    b"\x89PNG\r\n\x1a\n",
    b"PK\x03\x04",  # zip, docx, xlsx, hwpx, jar ...
    b"PK\x05\x06",  # empty zip
    b"PK\x07\x08",  # spanned zip
    b"%PDF-",
    b"\x7fELF",
    b"\xff\xd8\xff",  # JPEG
    b"\x1f\x8b",  # gzip
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # OLE2: .doc, .hwp, .xls
    b"\xca\xfe\xba\xbe",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"\x00asm",
)

# Controls that do not belong in text (\t \n \r \v \f and ESC are tolerated).
_BAD_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
_MAX_BAD_CONTROL_SHARE = 0.02
_MAX_ODD_CHAR_SHARE = 0.10
_CATEGORY_SAMPLE = 20_000
_CHARSET_NORMALIZER_MAX_CHAOS = 0.10
_CHARSET_NORMALIZER_SAMPLE = 256 * 1024


def looks_like_text(text: str, *, strict_repertoire: bool = True) -> bool:
    """False for decoded bytes that are really binary (or a wrong decoding).

    Too many control characters always fail. With `strict_repertoire`, so do
    too many unassigned or private-use characters, typical of a wrong guess;
    that test is skipped for valid UTF-8, which is rarely valid by accident.
    """
    if not text:
        return True
    if "\x00" in text:
        return False
    bad = _BAD_CONTROLS.subn("", text)[1]
    if bad > len(text) * _MAX_BAD_CONTROL_SHARE:
        return False
    if not strict_repertoire:
        return True
    sample = text[:_CATEGORY_SAMPLE]  # keeps this cheap for huge files
    odd = sum(1 for ch in sample if unicodedata.category(ch) in ("Cn", "Co", "Cs"))
    return odd <= len(sample) * _MAX_ODD_CHAR_SHARE


def _korean_text_score(text: str) -> float:
    """Share of characters typical of Korean/ASCII text (0..1).

    Used to choose between CP949 and BOM-less UTF-16 when both decode: a wrong
    decoding yields Hanja, Yi syllables, private-use or stray ASCII symbols.
    """
    if not text:
        return 0.0
    sample = text[:_CATEGORY_SAMPLE]
    good = 0
    for ch in sample:
        o = ord(ch)
        if (
            0xAC00 <= o <= 0xD7A3  # Hangul syllables
            or ch.isalnum() and o < 0x80
            or ch in " \t\n\r.,!?'\"()-:;%·…“”‘’「」『』〈〉《》、。"
        ):
            good += 1
    return good / len(sample)


def strict_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf16_by_nul_pattern(data: bytes) -> str | None:
    """Decode BOM-less UTF-16 recognised by its NUL bytes.

    ASCII characters (spaces, digits, newlines) in UTF-16 have a NUL high
    byte, so the half of the byte pairs holding most NULs suggests the byte
    order. Hangul syllables such as 가 (U+AC00) put NULs in the other half,
    so both orders are decoded and the one reading more like Korean/ASCII text
    wins, with a bonus for the order the NUL pattern suggests. A decoding that
    reads like neither (e.g. ASCII with a stray NUL) is refused unless the NUL
    pattern alone is unmistakable.
    """
    if len(data) < 2 or len(data) % 2:
        return None
    units = len(data) // 2
    nul_even = data[0::2].count(0)
    nul_odd = data[1::2].count(0)
    favoured = "utf-16-le" if nul_odd >= nul_even else "utf-16-be"
    clear_pattern = max(nul_even, nul_odd) >= 0.25 * units and min(nul_even, nul_odd) == 0
    candidates: list[tuple[float, str]] = []
    for encoding in ("utf-16-le", "utf-16-be"):
        text = strict_decode(data, encoding)
        if text is None or not looks_like_text(text):
            continue
        score = _korean_text_score(text)
        if encoding == favoured:
            if score < 0.5 and not clear_pattern:
                continue
            score += 0.1
        elif score < 0.5:
            continue
        candidates.append((score, text))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[0])[1]


def _best_legacy_korean(data: bytes) -> str | None:
    """CP949 (superset of EUC-KR), or BOM-less UTF-16 of pure Hangul text.

    UTF-16 Korean text without any ASCII has no NULs, so `_utf16_by_nul_pattern`
    cannot see it; CP949 is preferred unless UTF-16 is clearly more Korean.
    """
    candidates: list[tuple[float, str]] = []
    cp949 = strict_decode(data, "cp949")
    if cp949 is not None and looks_like_text(cp949):
        candidates.append((_korean_text_score(cp949) + 0.05, cp949))
    if len(data) % 2 == 0:
        for encoding in ("utf-16-le", "utf-16-be"):
            text = strict_decode(data, encoding)
            if text is not None and looks_like_text(text):
                score = _korean_text_score(text)
                if score >= 0.8:
                    candidates.append((score, text))
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[0])[1]


def _charset_normalizer_guess(data: bytes) -> str | None:
    """Last resort for other legacy encodings (e.g. cp1251, Shift_JIS).

    The guess is made on a prefix cut at a line end (a character boundary in
    every ASCII-compatible encoding) to bound the time, then the whole input
    is decoded strictly. UTF-16/32 guesses are refused: those were handled
    above with stricter tests, and the guesser reads odd control bytes as
    UTF-16.
    """
    sample = data
    if len(sample) > _CHARSET_NORMALIZER_SAMPLE:
        cut = sample.rfind(b"\n", 0, _CHARSET_NORMALIZER_SAMPLE)
        sample = sample[: cut + 1] if cut > 0 else sample[:_CHARSET_NORMALIZER_SAMPLE]
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(sample).best()
        if best is None or best.chaos > _CHARSET_NORMALIZER_MAX_CHAOS:
            return None
        encoding = best.encoding
    except Exception:  # noqa: BLE001 - a guesser failure means "no guess"
        return None
    if encoding.replace("-", "_").startswith(("utf_16", "utf_32")):
        return None
    text = strict_decode(data, encoding)
    return text if text is not None and looks_like_text(text) else None


def decode_text(data: bytes, filename: str) -> str:
    """Decode the bytes of a plain-text file (.txt, .md) to str.

    Order: binary magic headers are rejected; BOM (UTF-32, UTF-8, UTF-16);
    strict UTF-8; BOM-less UTF-16 recognised by its NUL pattern; CP949 (which
    also covers EUC-KR), or BOM-less pure-Hangul UTF-16 if that reads as far
    more Korean; charset-normalizer if it is confident. Anything else raises
    BinaryContent. The result is decoded only (BOM removed), not normalised:
    pass it through `normalize_text` or use `load_bytes`.
    """
    name = safe_filename(filename)
    data = bytes(data)
    if not data:
        return ""
    if data.startswith(_BINARY_MAGIC):
        raise BinaryContent(name)
    for bom, encoding in BOMS:
        if data.startswith(bom):
            text = strict_decode(data[len(bom) :], encoding)
            if text is None or not looks_like_text(
                text, strict_repertoire=encoding != "utf-8"
            ):
                raise BinaryContent(name)
            return text
    if b"\x00" in data:
        # Only UTF-16 text legitimately contains NUL bytes.
        text = _utf16_by_nul_pattern(data)
        if text is None:
            raise BinaryContent(name)
        return text
    text = strict_decode(data, "utf-8")
    if text is not None and looks_like_text(text, strict_repertoire=False):
        return text
    # Valid UTF-8 full of C1 controls is most likely a short CP949 text.
    text = _best_legacy_korean(data)
    if text is not None:
        return text
    text = _charset_normalizer_guess(data)
    if text is not None:
        return text
    raise BinaryContent(name)
