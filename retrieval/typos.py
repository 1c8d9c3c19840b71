"""Typos in questions: a word no document holds, matched to one that differs by one jamo.

"연차 유급휴까" finds nothing for 휴까, and the answer comes from whatever shares the
other words. A Hangul syllable is three jamo (initial, medial, final); a typo on a phone
keyboard changes one of them (까 for 가, 계 for 게, 건 for 간). For each question word of
four syllables or more whose character bigrams are not all in the corpus, every variant
with one jamo changed is tried, and the one whose bigrams all occur in the corpus, most
often, replaces it. The reply says what was read instead ("‘유급휴까’ → ‘유급휴가’").

Words of fewer than four syllables (particles included) are left alone: too many of their
variants are real words, and a question about something the corpus lacks must stay one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from retrieval.terms import bigram_terms

MIN_WORD_SYLLABLES = 4  # shorter words are too often real words the corpus lacks ("투자는" is not "주자는")
MIN_SYLLABLES = 3
PARTICLE_SYLLABLES = 2  # a word may end in up to two syllables of particles ("보호기간은", "유급휴가를")
_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]+")
_BASE, _INITIALS, _MEDIALS, _FINALS = 0xAC00, 19, 21, 28

VARIANTS_CHECKED = 3  # the best variants by their bigrams whose morphemes are then checked
DocumentFrequency = Callable[[list[str]], list[int]]  # terms -> how many chunks hold each
KnownWords = Callable[[str], bool]  # True when every content morpheme of the text occurs in the corpus


def correct_typos(
    text: str, frequencies: DocumentFrequency, known: KnownWords
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """`text` with each unknown word replaced by its one-jamo neighbour the corpus knows, and the (was, now) pairs.

    A neighbour must pass two tests: all its character bigrams occur in the corpus (cheap,
    over a few hundred variants), and its morphemes do (`known`, a Kiwi analysis, for the
    best few), while the word as typed fails the second: bigrams alone take "음주운전" for
    "음주문전" in a corpus that has 주문 and 문전."""
    corrections: list[tuple[str, str]] = []
    for match in _HANGUL_WORD.finditer(text):
        word = match.group()
        if len(word) < MIN_WORD_SYLLABLES or all(frequencies(bigram_terms(word))) or known(word):
            continue  # as written, the corpus knows it: the bigram test is cheap, Kiwi's only when needed
        fixed = _best_stem_fix(word, frequencies, known)
        if fixed is not None:
            corrections.append(fixed)
    for was, now in corrections:
        text = text.replace(was, now, 1)
    return text, tuple(corrections)


def _best_stem_fix(word: str, frequencies: DocumentFrequency, known: KnownWords) -> tuple[str, str] | None:
    """(stem, corrected stem) for the word or the word without its last one or two syllables."""
    for cut in range(0, PARTICLE_SYLLABLES + 1):
        stem = word[: len(word) - cut]
        if len(stem) < MIN_SYLLABLES:
            break
        grams = bigram_terms(stem)
        counts = frequencies(grams)
        if all(counts):
            return None  # the corpus knows it as written
        unknown = {at for at, count in enumerate(counts) if not count}
        for variant in _variants_by_bigrams(stem, unknown, frequencies)[:VARIANTS_CHECKED]:
            if known(variant + word[len(stem) :]):
                return stem, variant
    return None


def _variants_by_bigrams(stem: str, unknown: set[int], frequencies: DocumentFrequency) -> list[str]:
    """One-jamo variants of `stem` whose bigrams are all known, the most common first; only
    syllables inside an unknown bigram are changed."""
    positions = sorted({at for gram in unknown for at in (gram, gram + 1)})
    variants = [stem[:at] + syllable + stem[at + 1 :] for at in positions for syllable in _neighbours(stem[at])]
    if not variants:
        return []
    grams = [bigram_terms(variant) for variant in variants]
    flat = sorted({gram for own in grams for gram in own})
    counts = dict(zip(flat, frequencies(flat)))
    scored = [(min(counts[g] for g in own), variant) for variant, own in zip(variants, grams) if all(counts[g] for g in own)]
    return [variant for _, variant in sorted(scored, reverse=True)]


def _neighbours(syllable: str) -> list[str]:
    """Every syllable that differs from `syllable` in exactly one of its three jamo."""
    code = ord(syllable) - _BASE
    if not 0 <= code < _INITIALS * _MEDIALS * _FINALS:
        return []
    initial, rest = divmod(code, _MEDIALS * _FINALS)
    medial, final = divmod(rest, _FINALS)

    def compose(i: int, m: int, f: int) -> str:
        return chr(_BASE + (i * _MEDIALS + m) * _FINALS + f)

    return (
        [compose(i, medial, final) for i in range(_INITIALS) if i != initial]
        + [compose(initial, m, final) for m in range(_MEDIALS) if m != medial]
        + [compose(initial, medial, f) for f in range(_FINALS) if f != final]
    )
