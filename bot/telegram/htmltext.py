"""Small helpers for Telegram HTML built from plain text: escaping and visible length.

Every message is assembled from escaped plain pieces and a few fixed tags, so cutting
is always done on plain text, never on markup.
"""

from __future__ import annotations

import html
import re

MAX_MESSAGE_CHARS = 4096  # Telegram counts UTF-16 code units after entity parsing
_TAG = re.compile(r"<[^<>]*>")


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_len(markup: str) -> int:
    """Length Telegram counts: tags removed, entities decoded, surrounding spaces trimmed."""
    return utf16_len(html.unescape(_TAG.sub("", markup)).strip())


def _prefix_within(text: str, units: int) -> str:
    """The longest prefix of `text` of at most `units` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return text[:index]
    return text


def shorten(text: str, limit: int, ellipsis: str = "…") -> str:
    """At most `limit` UTF-16 units, cut at a space when one is near, with an ellipsis."""
    text = text.strip()
    if utf16_len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[: max(limit, 0)]
    cut = _prefix_within(text, limit - len(ellipsis))
    space = cut.rfind(" ")
    if space > len(cut) * 0.6:
        cut = cut[:space]
    return cut.rstrip() + ellipsis


def bold_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Escape `text`, wrapping the (sorted, merged here) spans in <b>."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        start, end = max(0, start), min(len(text), end)
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts, position = [], 0
    for start, end in merged:
        parts.append(escape(text[position:start]))
        parts.append(f"<b>{escape(text[start:end])}</b>")
        position = end
    parts.append(escape(text[position:]))
    return "".join(parts)
