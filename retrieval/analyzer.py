"""The one Kiwi instance of the process, and the morpheme analysis built on it.

Kiwi takes about a second to load and its first call another (it builds its
dictionaries then), so it is created once, lazily, and shared by the chunker (sentence
boundaries) and the tokenizer (content morphemes). Documents and questions go through
the same `content_tokens` so the index and the queries always agree.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

import kiwipiepy
import kiwipiepy_model
from kiwipiepy import Kiwi
from kiwipiepy import Token as KiwiToken

from retrieval.terms import fold_width

log = logging.getLogger(__name__)

# Measured on Korean Wikipedia QA: nouns, numerals, pronouns, verb and adjective stems,
# roots, foreign words, numbers, Hanja and adverbs; particles and endings carry no topic.
CONTENT_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "SL", "SN", "SH", "MAG"})
NOUN_TAGS = frozenset({"NNG", "NNP", "SL", "SH", "XR"})
# Our steps around Kiwi, part of every signature (2: full-width folding; 3: chunks follow
# statute and outline structure, exported text reflowed and page furniture dropped).
ANALYSIS_VERSION = 3
BATCH_CHARS = 64_000  # characters per Kiwi call while holding the lock: about 0.7 s on two workers
T = TypeVar("T")

# Kiwi's tag → our content tag; tags absent here are not content. Kiwi suffixes VV, VA, VX
# and XSA with -R (regular) or -I (irregular conjugation): the base tag is what matters.
_CONTENT_TAG_OF = {tag: tag for tag in CONTENT_TAGS} | {f"{tag}-{kind}": tag for tag in CONTENT_TAGS for kind in "IR"}


class Token(NamedTuple):
    """A content morpheme; a NamedTuple because documents make millions and it is the cheapest to build."""

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


def analysis_signature(user_dictionary: bytes | None = None) -> str:
    """What stored tokens depend on: our analysis steps, Kiwi and its model, the user dictionary."""
    words = hashlib.sha256(user_dictionary).hexdigest()[:16] if user_dictionary else "none"
    return (
        f"analysis {ANALYSIS_VERSION}; kiwipiepy {kiwipiepy.__version__}; "
        f"model {kiwipiepy_model.__version__}; user dictionary {words}"
    )


class Analyzer:
    """Content-morpheme analysis and sentence splitting over a shared Kiwi.

    `signature` names everything its tokens depend on; a store records it, so tokens
    stored under another one are analysed again.
    """

    def __init__(self, kiwi: Kiwi, signature: str | None = None) -> None:
        self._kiwi = kiwi
        self._lock = threading.Lock()
        self.signature = signature or analysis_signature()

    def analyse(self, text: str) -> Analysis:
        """One text (a question) in the calling thread: a batch call would hand it to a worker and wait."""
        with self._lock:
            return _to_analysis(self._kiwi.tokenize(fold_width(text)))

    def analyse_many(self, texts: Sequence[str]) -> list[Analysis]:
        """Analyse many texts in Kiwi batches (it uses all its workers).

        The lock is taken per batch of about BATCH_CHARS characters, so a question analysed
        while a long document is being indexed waits for one batch, not for the whole
        document. A batch is long so that Kiwi's workers seldom wait for each other at its
        end: batches of 16 texts lost about a tenth of Kiwi's throughput, and batches of
        32,000 characters 2.5% more than batches of 64,000 (3M characters, alternating runs).
        Kiwi's workers take a batch's texts in order, so it gets them longest first: the last
        text started is then a short one.
        """
        analyses: list[Analysis] = []
        for batch in batches(texts):
            order = sorted(range(len(batch)), key=lambda index: len(batch[index]), reverse=True)
            done: dict[int, Analysis] = {}
            with self._lock:
                for index, morphemes in zip(order, self._kiwi.tokenize([fold_width(batch[index]) for index in order])):
                    done[index] = _to_analysis(morphemes)
            analyses.extend(done[index] for index in range(len(batch)))
        return analyses

    def joins_without_space(self, pairs: Sequence[tuple[str, str]]) -> list[bool]:
        """For text cut at a line break, (before, after) pairs: True where Kiwi's spacing model
        writes the two sides as one word ("…정함으" + "로써"), False where it puts a space."""
        if not pairs:
            return []
        with self._lock:
            spaced = list(self._kiwi.space([left + right for left, right in pairs], reset_whitespace=False))
        return [_no_space_after(text, len(left.replace(" ", ""))) for (left, _), text in zip(pairs, spaced)]

    def content_tokens(self, text: str) -> list[Token]:
        return list(self.analyse(text).tokens)

    def warm_up(self) -> None:
        """Pay Kiwi's slow first call now rather than on the first question."""
        self.analyse("형태소 분석기를 미리 깨웁니다.")


def batches(items: Iterable[T], size: Callable[[T], int] = len) -> Iterator[list[T]]:
    """Consecutive runs of items whose sizes add up to at least BATCH_CHARS, but the last:
    what one Kiwi call should get."""
    run: list[T] = []
    total = 0
    for item in items:
        run.append(item)
        total += size(item)
        if total >= BATCH_CHARS:
            yield run
            run, total = [], 0
    if run:
        yield run


def _no_space_after(spaced: str, letters: int) -> bool:
    """No space follows the first `letters` non-space characters of `spaced`."""
    seen = 0
    for position, char in enumerate(spaced):
        if char == " ":
            continue
        seen += 1
        if seen == letters:
            return position + 1 >= len(spaced) or spaced[position + 1] != " "
    return True


def _to_analysis(morphemes: Sequence[KiwiToken]) -> Analysis:
    """Content tokens and sentence spans from one pass over Kiwi's morphemes.

    A sentence is a run of morphemes with the same `sent_position`, from its first
    morpheme's start to its last one's end: exactly what `Kiwi.split_into_sents` returns,
    without the sub-sentence and Sentence objects it builds in Python.
    """
    tokens: list[Token] = []
    firsts: list[int] = []  # index of each sentence's first morpheme
    position = -1
    content_tag = _CONTENT_TAG_OF.get
    new_token = tuple.__new__  # NamedTuple's own __new__ is Python code: this gave 3-4% more throughput
    for index, morpheme in enumerate(morphemes):
        if morpheme.sent_position != position:
            position = morpheme.sent_position
            firsts.append(index)
        tag = content_tag(morpheme.tag)
        if tag is not None:
            form = morpheme.form.replace(" ", "_")
            start = morpheme.start
            tokens.append(new_token(Token, (form.lower() if tag == "SL" else form, tag, start, start + morpheme.len)))
    ends = firsts[1:] + [len(morphemes)]
    sentences = tuple((morphemes[first].start, morphemes[end - 1].end) for first, end in zip(firsts, ends))
    return Analysis(tuple(tokens), sentences)


def new_kiwi(num_workers: int = 0) -> Kiwi:
    """A Kiwi as the analyzer uses it (num_workers 0: Kiwi's default, one per core).

    Without Kiwi's multi-word dictionary: it makes whole titles one proper noun ("해리 포터와
    마법사의 돌"), hiding their words from search, and it doubles Kiwi's start-up (4.2 → 2.1 s).
    KorQuAD dev-even without it: hit@1 0.938 → 0.939, answer accuracy 0.882 → 0.883.
    """
    return Kiwi(num_workers=num_workers or None, load_multi_dict=False)


def create_analyzer(user_dictionary: Path | None = None, num_workers: int = 0) -> Analyzer:
    """A new Kiwi with the user dictionary, when the file exists.

    The dictionary is Kiwi's tab-separated format (word, tag, score), for names it
    splits badly; it applies to documents and questions alike.
    """
    kiwi = new_kiwi(num_workers)
    words = None
    if user_dictionary is not None and user_dictionary.is_file():
        words = user_dictionary.read_bytes()
        added = kiwi.load_user_dictionary(str(user_dictionary))
        log.info("user dictionary %s: %d words", user_dictionary, added)
    return Analyzer(kiwi, analysis_signature(words))


_shared: Analyzer | None = None
_shared_lock = threading.Lock()


def shared_analyzer(user_dictionary: Path | None = None, num_workers: int = 0) -> Analyzer:
    """The process-wide analyzer; the first caller's user dictionary is the one loaded."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = create_analyzer(user_dictionary, num_workers)
        return _shared
