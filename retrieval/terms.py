"""Index terms: the same function turns a chunk and a question into the terms BM25 counts.

Morphemes find the stem behind Korean endings; character bigrams catch compounds and
names Kiwi splits differently in a document and a question. Bigram terms carry a `#`
prefix so they never collide with a morpheme of the same letters.

Full-width letters, digits and signs ("ＡＩ", "２０２５년", common in older Korean documents)
are read as their ASCII forms, in the analysis and in the bigrams alike: Kiwi tags
full-width letters as symbols, so without this a chunk writing "ＡＩ" is never found by "AI".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"[0-9A-Za-z\uac00-\ud7a3\u3131-\u318e\u4e00-\u9fff]+")
_WIDE = re.compile("[\uff01-\uff5e\u3000]")
_NARROW = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
TERMS_VERSION = 2  # part of an index file's fingerprint: a file from other term rules is rebuilt


def fold_width(text: str) -> str:
    """Full-width ASCII and the ideographic space as ASCII, one character for one, so
    offsets into the folded text are offsets into the original."""
    return text.translate(_NARROW) if _WIDE.search(text) else text


def whitespace_terms(text: str) -> list[str]:
    return fold_width(text).lower().split()


def bigram_terms(text: str) -> list[str]:
    """Character bigrams inside each word (never across a space); one-letter words as they are."""
    terms: list[str] = []
    for word in _WORD.findall(fold_width(text).lower()):
        if len(word) == 1:
            terms.append("#" + word)
        else:
            terms.extend("#" + word[i : i + 2] for i in range(len(word) - 1))
    return terms


def index_terms(tokenizer: str, morphemes: Sequence[str], text: str) -> list[str]:
    """Terms of one text under the named tokenizer (see RetrievalSettings.tokenizer)."""
    if tokenizer == "whitespace":
        return whitespace_terms(text)
    if tokenizer == "morphemes":
        return list(morphemes)
    if tokenizer == "bigrams":
        return bigram_terms(text)
    return [*morphemes, *bigram_terms(text)]


def chunk_terms(
    tokenizer: str,
    tokens: Sequence[str],
    text: str,
    context_tokens: Sequence[str],
    context_text: str,
    context_weight: int,
) -> list[str]:
    """A chunk's terms: its own, plus its title and heading's, counted `context_weight` times."""
    context = index_terms(tokenizer, context_tokens, context_text)
    return index_terms(tokenizer, tokens, text) + context * context_weight
