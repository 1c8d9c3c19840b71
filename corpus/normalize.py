"""One set of character rules for every text that is analysed or shown back: documents
(every loader), titles, file names and questions.

Invisible characters are deleted, not spaced, so "한\u200b국어" is still "한국어" whether
it comes in a document or a question; line breaks of every kind become "\\n"; other
control characters and lone surrogates (Kiwi and UTF-8 refuse them) are deleted; the
result is NFC, so composed and decomposed Hangul are the same text.
"""

from __future__ import annotations

import re
import unicodedata

LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# Soft hyphen; zero-width space, non-joiner and joiner; direction marks, embeddings,
# overrides and isolates (they can disguise a file name); word joiner and invisible
# operators; the byte-order mark; the non-characters U+FFFE and U+FFFF.
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufffe\uffff]")
# C0 and C1 controls except \t and \n, and lone surrogates (from a command-line argument
# in a non-UTF-8 locale, or a JSON "\ud800" escape).
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def normalize_characters(text: str) -> str:
    """`text` with "\\n" line ends, no invisible or control characters but \\t and \\n, in NFC."""
    text = CONTROLS.sub("", INVISIBLE.sub("", LINE_BREAKS.sub("\n", text)))
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text
