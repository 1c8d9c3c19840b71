"""The one Kiwi instance of the process, and the morpheme analysis built on it.

Kiwi takes about a second to load and its first call another two, so it is created
once, lazily, and shared by the chunker (sentence boundaries) and the tokenizer
(content morphemes). Documents and questions go through the same `content_tokens`
so the index and the queries always agree.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiwipiepy import Kiwi

log = logging.getLogger(__name__)

# Measured on Korean Wikipedia QA: nouns, numerals, pronouns, verb and adjective stems,
# roots, foreign words, numbers, Hanja and adverbs; particles and endings carry no topic.
CONTENT_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "SL", "SN", "SH", "MAG"})
NOUN_TAGS = frozenset({"NNG", "NNP", "SL", "SH", "XR"})
BATCH_TEXTS = 16  # texts per Kiwi call while holding the lock


@dataclass(frozen=True)
class Token:
    form: str
    tag: str
    start: int
    end: int


@dataclass(frozen=True)
class Analysis:
    """Content tokens and sentence spans of one text; offsets are relative to that text."""

    tokens: tuple[Token, ...]
    sentences: tuple[tuple[int, int], ...]

    @property
    def forms(self) -> list[str]:
        return [token.form for token in self.tokens]


def _normalise_tag(tag: str) -> str:
    """Kiwi marks irregular conjugations as VV-I/VA-R; the base tag is what matters."""
    return tag.split("-", 1)[0]


def _normalise_form(form: str, tag: str) -> str:
    form = form.replace(" ", "_")
    return form.lower() if tag == "SL" else form


class Analyzer:
    """Content-morpheme analysis and sentence splitting over a shared Kiwi."""

    def __init__(self, kiwi: Kiwi) -> None:
        self._kiwi = kiwi
        self._lock = threading.Lock()

    def analyse(self, text: str) -> Analysis:
        return self.analyse_many([text])[0]

    def analyse_many(self, texts: Sequence[str]) -> list[Analysis]:
        """Analyse many texts in Kiwi batches (it uses all its workers).

        The lock is taken per batch of BATCH_TEXTS, so a question analysed while a long
        document is being indexed waits for one batch, not for the whole document.
        """
        analyses: list[Analysis] = []
        for first in range(0, len(texts), BATCH_TEXTS):
            batch = list(texts[first : first + BATCH_TEXTS])
            with self._lock:
                results = self._kiwi.split_into_sents(batch, return_tokens=True)
                analyses.extend(_to_analysis(sentences) for sentences in results)
        return analyses

    def content_tokens(self, text: str) -> list[Token]:
        return list(self.analyse(text).tokens)

    def warm_up(self) -> None:
        """Pay Kiwi's slow first call now rather than on the first question."""
        self.analyse("형태소 분석기를 미리 깨웁니다.")


def _to_analysis(sentences: Iterable) -> Analysis:
    tokens: list[Token] = []
    spans: list[tuple[int, int]] = []
    for sentence in sentences:
        spans.append((sentence.start, sentence.end))
        for token in sentence.tokens:
            tag = _normalise_tag(token.tag)
            if tag in CONTENT_TAGS:
                tokens.append(Token(_normalise_form(token.form, tag), tag, token.start, token.start + token.len))
    return Analysis(tuple(tokens), tuple(spans))


def create_analyzer(user_dictionary: Path | None = None, num_workers: int = 0) -> Analyzer:
    """A new Kiwi with the user dictionary, when the file exists.

    The dictionary is Kiwi's tab-separated format (word, tag, score), for names it
    splits badly; it applies to documents and questions alike.
    """
    kiwi = Kiwi(num_workers=num_workers or None)
    if user_dictionary is not None and user_dictionary.is_file():
        added = kiwi.load_user_dictionary(str(user_dictionary))
        log.info("user dictionary %s: %d words", user_dictionary, added)
    return Analyzer(kiwi)


_shared: Analyzer | None = None
_shared_lock = threading.Lock()


def shared_analyzer(user_dictionary: Path | None = None, num_workers: int = 0) -> Analyzer:
    """The process-wide analyzer; the first caller's user dictionary is the one loaded."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = create_analyzer(user_dictionary, num_workers)
        return _shared
