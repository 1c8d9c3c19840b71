"""Pick the sentence(s) that answer a question from the best passages, or refuse.

Every sentence of the top passages is scored by the idf of the question's morphemes it
holds (its section heading and document title count half), plus a bonus for question
phrases it repeats in order ("선정된 기업" rather than "기업이 선정"), plus the passage's
retrieval score; a question asking "몇/얼마/언제" favours sentences that bring a number
the question does not hold. The answer is the best sentence and, when nearly as good,
its neighbour (questions are often written about one sentence while the answer sits in
the next), else a close runner-up: one or two sentences, never the passage. When the
chosen sentence introduces a list, or is followed by one that does, the list comes with
it: lists are where enumerating answers live. The answer is refused when the best
passage covers too little of the question's weight; interrogatives and request verbs
("알려줘") are never evidence.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise

from corpus.blocks import LIST_INTRO, LIST_MARKER, STATUTE_LIST_INTRO
from corpus.store import StoredChunk
from retrieval.analyzer import Token
from retrieval.terms import bigram_terms, fold_width

# Interrogatives ask for the answer; they are never evidence and never "missing".
QUESTION_WORDS = frozenset(
    {"어디", "무엇", "누구", "언제", "몇", "며칠", "얼마", "어느", "어떻", "어떤", "왜", "뭐", "무슨", "어찌", "얼마나", "어때"}
)
# Verbs that ask for an answer ("알려줘", "말해 줘"): like interrogatives, never evidence.
REQUEST_WORDS = frozenset({"알리", "말하", "가르치"})
NOT_EVIDENCE = QUESTION_WORDS | REQUEST_WORDS
# Sentence scoring weights, each a share of the question's total idf weight (so independent of
# the corpus size). They were set by hand on KorQuAD's even articles, before the natural-question
# set existed, and kept when it came: only RETRIEVAL_SHARE was tried again on its dev half.
SENTENCES_CONSIDERED_PASSAGES = 5  # passages whose sentences may answer
CONTEXT_SHARE = 0.5  # a question term held only by the title or section heading (shared with rerank)
PHRASE_SHARE = 0.5  # two adjacent question words found in the same order
RETRIEVAL_SHARE = 0.3  # the passage's retrieval score relative to the best (0.6 and 1.0 tried: no better)
LIST_ANSWER_BONUS = 0.15  # a sentence that introduces a list, for 어디/누구/무엇 questions
SECOND_SENTENCE_RATIO = 0.9  # a runner-up this close joins the answer
ADJACENT_SENTENCE_RATIO = 0.7  # a neighbour this close joins the answer (the answer often sits next door)
NUMBER_ANSWER_BONUS = 0.2  # a sentence bringing a number the question lacks, for 몇/얼마/언제
MEANING_CHARS = 160  # of each unit of the best passage compared by meaning when its words do not decide
# Interrogatives whose answer is a number or a date: a sentence without a new number cannot answer them.
NUMBER_QUESTION_WORDS = frozenset({"몇", "며칠", "얼마", "얼마나", "언제"})
# Weight of question words the corpus never holds (see _absent_share).
MISSING_TERM_SHARE = 0.5  # a noun or name: often the topic, sometimes the kind of answer ("어떤 항목")
UNSEEN_WORD_SHARE = 0.25  # a verb, adverb or one-letter noun: usually the asker's own wording


@dataclass(frozen=True)
class Passage:
    rank: int
    row_id: int
    doc_id: str
    chunk_id: str
    title: str
    heading: str
    text: str
    start: int
    end: int
    score: float
    highlights: tuple[tuple[int, int], ...]  # spans of `text` that match the question
    cited: bool  # the answer was taken from this passage
    section: tuple[str, ...] = ()  # structural path in the document, e.g. ("제2장 …", "제50조(근로시간)", "②")
    same_as: tuple[str, ...] = ()  # titles of other documents holding the same text (not listed again)


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    text: str | None
    passages: tuple[Passage, ...]
    missing_terms: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...] = ()  # (as typed, as read) for words taken as typos

    @property
    def cited_passages(self) -> tuple[Passage, ...]:
        return tuple(p for p in self.passages if p.cited)


@dataclass(frozen=True)
class _Candidate:
    passage_index: int
    start: int
    end: int  # extended over the list the sentence introduces
    score: float
    has_list: bool
    lead_in: tuple[int, int] | None = None  # for a list item: the sentence that introduces its list


@dataclass(frozen=True)
class _Unit:
    """A span that may answer: a sentence, or a list item with the sentence that introduces its list.

    An item alone rarely answers ("11. (쓰레기 등 투기) 담배꽁초 … 버린 사람"): what happens to
    such a person is in the lead-in ("다음 각 호의 … 사람은 10만원 이하의 벌금 …에 처한다").
    """

    start: int
    end: int
    lead_in: tuple[int, int] | None = None


def extract_answer(
    question: str,
    text: str,
    query_tokens: Sequence[Token],
    hits: Sequence[tuple[float, StoredChunk]],
    context_forms: Callable[[StoredChunk], Sequence[str]],
    idf: Callable[[str], float],
    missing_terms: Sequence[str],
    min_coverage: float,
    unseen: Collection[str] = (),
    seen_grams: Collection[str] = (),
    support: float | None = None,
    min_support: float = 1.0,
    absent_names: Sequence[str] = (),
    unit_similarity: Callable[[Sequence[str]], Sequence[float]] | None = None,
    meaning_candidates: int = 4,
) -> Answer:
    """Build the Answer to `question` (cleaned to `text`, which `query_tokens` index into) from ranked (score, chunk) pairs."""
    forms = [t.form for t in query_tokens if t.form not in NOT_EVIDENCE]
    absent = set(missing_terms)
    weights = {form: max(idf(form), 0.1) * _absent_share(form, absent, unseen) for form in forms}
    total = sum(weights.values())
    asks_for_entities = any(t.form in QUESTION_WORDS for t in query_tokens)
    asks_for_number = any(t.form in NUMBER_QUESTION_WORDS for t in query_tokens)
    question_forms = {t.form for t in query_tokens}
    phrases = _phrase_pairs(query_tokens)
    question_grams = _evidence_bigrams(text, query_tokens)
    best_score = hits[0][0] if hits else 0.0

    candidates: list[_Candidate] = []
    coverage = 0.0
    for index, (retrieval_score, chunk) in enumerate(hits[:SENTENCES_CONSIDERED_PASSAGES]):
        context = set(context_forms(chunk))
        if index == 0 and total:
            coverage = _coverage(question_grams, seen_grams, chunk, context, weights, idf)
        prior = RETRIEVAL_SHARE * (retrieval_score / best_score if best_score > 0 else 0.0)
        starts = chunk.token_starts.tolist()
        new_numbers = {f for f in set(chunk.tokens) if _is_number(f)} - question_forms if asks_for_number else set()
        for unit in _answer_units(chunk):
            start, end = unit.start, unit.end
            sentence_forms = chunk.tokens[bisect_left(starts, start) : bisect_left(starts, end)]
            if unit.lead_in is not None:
                sentence_forms = chunk.tokens[bisect_left(starts, unit.lead_in[0]) : bisect_left(starts, unit.lead_in[1])] + sentence_forms
            held = set(sentence_forms)
            score = sum(w for form, w in weights.items() if form in held)
            score += CONTEXT_SHARE * sum(w for form, w in weights.items() if form in context and form not in held)
            score += PHRASE_SHARE * sum(
                min(weights[a], weights[b]) for a, b in phrases if a in held and b in held and _in_order(sentence_forms, a, b)
            )
            if not new_numbers.isdisjoint(held):
                score += NUMBER_ANSWER_BONUS * total
            extended_end = end if unit.lead_in is not None else _list_end(chunk.text, start, end)
            if asks_for_entities and extended_end > end:
                score += LIST_ANSWER_BONUS * total
            relative = (score / total if total else 0.0) + prior
            candidates.append(_Candidate(index, start, extended_end, relative, extended_end > end, unit.lead_in))

    supported = support is not None and support >= min_support
    answered = bool(candidates) and total > 0 and (coverage >= min_coverage or supported)
    if absent_names and support is not None and not supported:  # BM25 alone cannot tell a name from a spelling
        answered = False
    chosen = _choose(candidates) if answered else []
    if answered and coverage < min_coverage and unit_similarity is not None:
        chosen = _choose_by_meaning(candidates, hits, unit_similarity, meaning_candidates) or chosen
    cited = {c.passage_index for c in chosen}
    passages = tuple(
        _passage(rank, score, chunk, set(forms), rank - 1 in cited) for rank, (score, chunk) in enumerate(hits, start=1)
    )
    text = "\n".join(_answer_text(hits[c.passage_index][1], c) for c in chosen) if chosen else None
    return Answer(question, answered, text, passages, tuple(missing_terms))


def _absent_share(form: str, missing: Collection[str], unseen: Collection[str]) -> float:
    """Weight share of a question word: a missing name or noun still counts (half), other unseen words barely.

    A noun the corpus never mentions is usually what the question is about ("날씨",
    "비트코인"); an unseen verb, adverb or one-letter noun is usually the asker's wording
    for something the corpus says otherwise ("떨어진" for "불합격한", "곳" for "기관").
    """
    if form in missing:
        return MISSING_TERM_SHARE
    return UNSEEN_WORD_SHARE if form in unseen else 1.0


def _evidence_bigrams(text: str, tokens: Sequence[Token]) -> list[str]:
    """Bigrams of the question's content words as written, without particles and interrogatives.

    Adjacent content morphemes are joined first, so a name Kiwi splits in the question
    ("소버린" → 소 + 버리) still yields the bigrams of the whole name.
    """
    segments: list[tuple[int, int]] = []
    for token in tokens:
        if token.form in NOT_EVIDENCE:
            continue
        if segments and segments[-1][1] == token.start:
            segments[-1] = (segments[-1][0], token.end)
        else:
            segments.append((token.start, token.end))
    return [gram for start, end in segments for gram in bigram_terms(text[start:end]) if len(gram) == 3]


def _coverage(
    grams: Sequence[str],
    seen_grams: Collection[str],
    chunk: StoredChunk,
    context: set[str],
    weights: dict[str, float],
    idf: Callable[[str], float],
) -> float:
    """How much of the question the passage holds: the mean of its morphemes' and its bigrams' idf shares.

    Morphemes alone miss names Kiwi splits differently in question and passage; bigrams
    alone match fragments. Their mean separates answerable questions from questions about
    absent articles better than either. Bigrams found nowhere in the corpus count half, as
    missing nouns do.
    """
    present = set(chunk.tokens) | context
    morphemes = sum(w for form, w in weights.items() if form in present) / sum(weights.values())
    gram_weights = {gram: max(idf(gram), 0.0) * (1.0 if gram in seen_grams else MISSING_TERM_SHARE) for gram in grams}
    total = sum(gram_weights.values())
    if not total:
        return morphemes
    text = fold_width(f"{chunk.title}\n{chunk.heading}\n{chunk.text}").lower()
    return (morphemes + sum(w for gram, w in gram_weights.items() if gram[1:] in text) / total) / 2


def _is_number(form: str) -> bool:
    return any(ch.isdigit() for ch in form)


def _phrase_pairs(tokens: Sequence[Token]) -> list[tuple[str, str]]:
    """Adjacent content morphemes of the question that sit in different words."""
    pairs = []
    for left, right in pairwise(tokens):
        if left.end < right.start and left.form not in NOT_EVIDENCE and right.form not in NOT_EVIDENCE:
            pairs.append((left.form, right.form))
    return pairs


def _in_order(forms: Sequence[str], first: str, second: str, window: int = 2) -> bool:
    for i, form in enumerate(forms):
        if form == first and second in forms[i + 1 : i + 1 + window]:
            return True
    return False


def _answer_units(chunk: StoredChunk) -> list[_Unit]:
    """Sentences that may answer, and list items with their lead-in; never a heading line alone."""
    units: list[_Unit] = []
    lead_in: tuple[int, int] | None = None
    for start, end in chunk.sentences.tolist():
        if end <= start:
            continue
        line_start = chunk.text.rfind("\n", 0, start) + 1
        line_end = chunk.text.find("\n", start)
        line = chunk.text[line_start : line_end if line_end >= 0 else len(chunk.text)]
        if _is_heading_line(chunk, start, end):
            continue
        if LIST_MARKER.match(line):
            units.append(_Unit(start, end, lead_in))
            continue
        units.append(_Unit(start, end))
        opens_line = not chunk.text[line_start:start].strip()
        if _introduces_list(chunk.text[start : line_end if line_end >= 0 else len(chunk.text)]):
            lead_in = (start, end)
        elif opens_line:
            lead_in = None
    return units


def _is_heading_line(chunk: StoredChunk, start: int, end: int) -> bool:
    """The chunk's first line when it only names its section ("제7조 보호받지 못하는 저작물")."""
    if start > 0 and chunk.text[:start].strip():
        return False
    first = chunk.text[start:end].strip()
    labels = {part.strip() for part in (chunk.heading, *chunk.section) if part}
    return first in labels or (bool(chunk.heading) and _squashed(first) == _squashed(chunk.heading))


def _squashed(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _introduces_list(rest_of_line: str) -> bool:
    return bool(LIST_INTRO.search(rest_of_line.rstrip()) or STATUTE_LIST_INTRO.search(rest_of_line))


def _list_end(text: str, start: int, end: int) -> int:
    """End of the list introduced by this sentence, or by the sentence right after it in the same line."""
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if not _introduces_list(text[start:line_end]):
        return end
    position = line_end
    list_end = end
    while position < len(text):
        next_end = text.find("\n", position + 1)
        next_end = len(text) if next_end < 0 else next_end
        line = text[position + 1 : next_end]
        if not LIST_MARKER.match(line):
            break
        list_end = next_end
        position = next_end
    return max(end, list_end)


def _choose_by_meaning(
    candidates: Sequence[_Candidate],
    hits: Sequence[tuple[float, StoredChunk]],
    unit_similarity: Callable[[Sequence[str]], Sequence[float]],
    count: int,
) -> list[_Candidate]:
    """The best passage's unit closest in meaning to the question: for an answer the words did not find.

    Only when the question shares too few words with the passage to pick a sentence by
    them, and only its `count` best units by those words, each cut to MEANING_CHARS:
    embedding costs about 1 ms a character, and a clause's start says what it is about.
    """
    own = sorted((c for c in candidates if c.passage_index == 0), key=lambda c: -c.score)[:count]
    if not own:
        return []
    chunk = hits[0][1]
    similarities = unit_similarity([_answer_text(chunk, c)[:MEANING_CHARS] for c in own])
    best = max(range(len(own)), key=lambda at: (similarities[at], -at))
    return [own[best]]


def _choose(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """The best sentence, and a second one: its neighbour when nearly as good, else a close runner-up."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    best = ranked[0]
    chosen = [best]
    if not best.has_list:
        same = sorted((c for c in candidates if c.passage_index == best.passage_index), key=lambda c: c.start)
        at = same.index(best)
        neighbours = [c for c in same[max(at - 1, 0) : at + 2] if c is not best and not _overlaps(c, best)]
        neighbour = max(neighbours, key=lambda c: c.score, default=None)
        if neighbour is not None and neighbour.score >= ADJACENT_SENTENCE_RATIO * best.score:
            chosen.append(neighbour)
        else:
            for other in ranked[1:2]:
                if other.score >= SECOND_SENTENCE_RATIO * best.score and not _overlaps(other, best):
                    chosen.append(other)
    return sorted(chosen, key=lambda c: (c.passage_index, c.start))


def _overlaps(one: _Candidate, other: _Candidate) -> bool:
    return one.passage_index == other.passage_index and one.start < other.end and other.start < one.end


def _answer_text(chunk: StoredChunk, candidate: _Candidate) -> str:
    spans = [candidate.lead_in, (candidate.start, candidate.end)] if candidate.lead_in else [(candidate.start, candidate.end)]
    lines = [line.strip() for start, end in spans for line in chunk.text[start:end].split("\n")]
    return "\n".join(line for line in lines if line)


def _passage(rank: int, score: float, chunk: StoredChunk, query_forms: set[str], cited: bool) -> Passage:
    highlights = tuple(
        (at, at + len(form))
        for form, at in zip(chunk.tokens, chunk.token_starts.tolist())
        if form in query_forms and fold_width(chunk.text[at : at + len(form)]).lower() == form
    )
    return Passage(
        rank=rank,
        row_id=chunk.row_id,
        doc_id=chunk.doc_id,
        chunk_id=chunk.chunk_id,
        title=chunk.title,
        heading=chunk.heading,
        text=chunk.text,
        start=chunk.start,
        end=chunk.end,
        score=round(score, 4),
        highlights=highlights,
        cited=cited,
        section=chunk.section,
    )
