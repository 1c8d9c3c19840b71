"""Retrieval and answer accuracy: evaluation files, the hit and correctness rules, the measures.

Two file formats (docs/architecture.md, "Evaluation files"):
- JSONL, one case a line, answered from the current corpus; a passage is a hit when its
  text contains the case's `evidence` (without evidence: every answer); an answer is
  correct when it contains every expected answer.
- SQuAD JSON (KorQuAD, KLUE-MRC): its paragraphs become a temporary corpus; a passage is
  a hit when it comes from the question's own paragraph and contains one of its answers;
  an answer is correct when it contains any of them (they are variants of one).

The measures are the standard ones over the rank of the first hit: hit@k (success@k)
and MRR@k over answerable questions, plus answer accuracy and the refusal rates. They
are small pure functions, tested against hand-computed values.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus.errors import QabotError
from retrieval.answer import Answer
from retrieval.embedding import Embedder
from retrieval.engine import MAX_QUESTION_CHARS, clean_question
from retrieval.evaluation_corpus import AnalysisCache, MemoryCorpus, SourceText
from retrieval.settings import RetrievalSettings
from retrieval.vectors import VectorCache

HIT_KS = (1, 3, 5, 10)
MRR_K = 10


class EvaluationFileError(QabotError):
    """An evaluation file that cannot be read as JSONL or SQuAD JSON."""


@dataclass(frozen=True)
class EvalCase:
    id: str | int
    question: str
    answers: tuple[str, ...]
    evidence: str | None = None
    answerable: bool = True
    context_id: int | None = None  # SQuAD: the position of the question's own paragraph
    category: str | None = None  # JSONL: the kind of question; measures are also given per category
    split: str | None = None  # JSONL: "dev" (tuned on) or "test" (reported on), when the file is split
    document: str | None = None  # JSONL: the file the question is about; measures are also given per document


@dataclass(frozen=True)
class EvalSet:
    """Cases, and for SQuAD files the paragraphs that form their corpus (doc_id = position)."""

    kind: str  # "jsonl" | "squad"
    cases: tuple[EvalCase, ...]
    contexts: tuple[SourceText, ...] = ()

    def only_split(self, split: str | None) -> EvalSet:
        """The cases of one split ("dev", "test"); all of them when `split` is None."""
        if split is None:
            return self
        cases = tuple(case for case in self.cases if case.split == split)
        if not cases:
            raise EvaluationFileError(f"split이 '{split}'인 질문이 없습니다.")
        return EvalSet(self.kind, cases, self.contexts)

    def sample(self, limit: int | None, seed: int = 0) -> EvalSet:
        """`limit` cases drawn with `seed`, in file order; the corpus stays whole."""
        if limit is None or limit >= len(self.cases):
            return self
        chosen = sorted(random.Random(seed).sample(range(len(self.cases)), max(limit, 0)))
        return EvalSet(self.kind, tuple(self.cases[i] for i in chosen), self.contexts)


@dataclass(frozen=True)
class RankedPassage:
    rank: int
    text: str
    context_id: int | None
    matched: tuple[str, ...] = ()  # the passage's words that match the question


@dataclass(frozen=True)
class QuestionResult:
    case: EvalCase
    answered: bool
    answer: str | None
    passages: tuple[RankedPassage, ...]
    seconds: float
    hit_rank: int | None = field(init=False)
    correct: bool = field(init=False)

    def __post_init__(self) -> None:
        rank = next((p.rank for p in self.passages if is_hit(self.case, p)), None)
        object.__setattr__(self, "hit_rank", rank)
        object.__setattr__(self, "correct", self.answered and answer_is_correct(self.case, self.answer))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "question": self.case.question,
            "answerable": self.case.answerable,
            "answers": list(self.case.answers),
            "evidence": self.case.evidence,
            "context_id": self.case.context_id,
            "answered": self.answered,
            "answer": self.answer,
            "hit_rank": self.hit_rank,
            "correct": self.correct if self.case.answerable else None,
            "category": self.case.category,
            "document": self.case.document,
            "passages": [{"rank": p.rank, "text": p.text, "context_id": p.context_id} for p in self.passages],
        }


# --- loading -----------------------------------------------------------------------------


def load_eval_file(path: Path) -> EvalSet:
    """Read JSONL or SQuAD JSON, told apart by content (a SQuAD file is one object with `data`)."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise EvaluationFileError(f"평가 파일을 읽을 수 없습니다: {path} ({error.strerror or error})") from error
    stripped = raw.lstrip()
    if stripped.startswith("{"):
        try:
            document = json.loads(raw)
        except json.JSONDecodeError:
            document = None
        if isinstance(document, dict) and "data" in document:
            return parse_squad(document, path.name)
    return parse_jsonl(raw, path.name)


def parse_jsonl(raw: str, name: str = "JSONL") -> EvalSet:
    cases: list[EvalCase] = []
    for number, line in enumerate(raw.splitlines()):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise EvaluationFileError(f"{name} {number + 1}번째 줄이 JSON이 아닙니다: {error.msg}") from error
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise EvaluationFileError(f"{name} {number + 1}번째 줄에 question(문자열)이 없습니다.")
        answers = item.get("answers") or []
        if isinstance(answers, str):
            answers = [answers]
        evidence = item.get("evidence")
        cases.append(
            EvalCase(
                id=item.get("id", number),
                question=item["question"],
                answers=tuple(str(a) for a in answers),
                evidence=str(evidence) if evidence else None,
                answerable=bool(item.get("answerable", True)),
                category=_optional_text(item.get("category")),
                split=_optional_text(item.get("split")),
                document=_optional_text(item.get("document")),
            )
        )
    if not cases:
        raise EvaluationFileError(f"{name}에 평가할 질문이 없습니다.")
    return EvalSet("jsonl", tuple(cases))


def _optional_text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def parse_squad(document: dict[str, Any], name: str = "SQuAD") -> EvalSet:
    """Paragraphs in file order across all articles, duplicates included, are the corpus."""
    contexts: list[SourceText] = []
    cases: list[EvalCase] = []
    try:
        for article in document["data"]:
            title = str(article.get("title", "")).replace("_", " ").strip()
            for paragraph in article["paragraphs"]:
                context_id = len(contexts)
                contexts.append(SourceText(str(context_id), title, paragraph["context"]))
                for number, qa in enumerate(paragraph.get("qas", [])):
                    answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a.get("text")))
                    impossible = bool(qa.get("is_impossible", False)) or not answers
                    cases.append(
                        EvalCase(
                            id=qa.get("id") or qa.get("guid") or f"{context_id}-{number}",
                            question=qa["question"],
                            answers=answers,
                            answerable=not impossible,
                            context_id=context_id,
                        )
                    )
    except (KeyError, TypeError) as error:
        raise EvaluationFileError(f"{name}은(는) SQuAD 형식이 아닙니다 (빠진 항목: {error}).") from error
    if not cases:
        raise EvaluationFileError(f"{name}에 평가할 질문이 없습니다.")
    return EvalSet("squad", tuple(cases), tuple(contexts))


# --- rules -------------------------------------------------------------------------------


def squash(text: str) -> str:
    """Text without whitespace: a line break where a document wrapped must not decide a comparison."""
    return "".join(text.split())


def contains(text: str, piece: str) -> bool:
    return squash(piece) in squash(text)


def is_hit(case: EvalCase, passage: RankedPassage) -> bool:
    if not case.answerable:
        return False
    if case.context_id is not None:
        return passage.context_id == case.context_id and any(contains(passage.text, a) for a in case.answers)
    if case.evidence:
        return contains(passage.text, case.evidence)
    return bool(case.answers) and all(contains(passage.text, a) for a in case.answers)


def answer_is_correct(case: EvalCase, answer: str | None) -> bool:
    if not case.answerable or not answer or not case.answers:
        return False
    if case.context_id is not None:
        return any(contains(answer, a) for a in case.answers)
    return all(contains(answer, a) for a in case.answers)


# --- measures ----------------------------------------------------------------------------


def hit_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first hit ranks within k (success@k); None without questions."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Mean reciprocal rank of the first hit, counting ranks beyond k as 0."""
    if not ranks:
        return None
    return sum(1 / r for r in ranks if r is not None and r <= k) / len(ranks)


def share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def summarise(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """The measures of docs/architecture.md ("Evaluation files"), and the same per category when the questions carry one."""
    summary = measures(results)
    for key, of in (("by_category", lambda case: case.category), ("by_document", lambda case: case.document)):
        groups = sorted({of(r.case) for r in results if of(r.case)})
        if groups:
            summary[key] = {group: measures([r for r in results if of(r.case) == group]) for group in groups}
    return summary


def measures(results: Sequence[QuestionResult]) -> dict[str, Any]:
    answerable = [r for r in results if r.case.answerable]
    unanswerable = [r for r in results if not r.case.answerable]
    ranks = [r.hit_rank for r in answerable]
    summary: dict[str, Any] = {"questions": len(results), "answerable": len(answerable)}
    for k in HIT_KS:
        summary[f"hit@{k}"] = hit_at(ranks, k)
    summary[f"mrr@{MRR_K}"] = mrr_at(ranks, MRR_K)
    summary["answer_accuracy"] = share([r.correct for r in answerable])
    summary["no_answer_accuracy"] = share([not r.answered for r in unanswerable])
    summary["answerable_refused"] = share([not r.answered for r in answerable])
    summary["ms_per_question"] = 1000 * sum(r.seconds for r in results) / len(results) if results else None
    return summary


def category_score(measures: dict[str, Any]) -> float | None:
    """One number per category: answer accuracy for answerable questions, the refusal rate for the rest."""
    if measures["answerable"]:
        return measures["answer_accuracy"]
    return measures["no_answer_accuracy"]


# --- running -----------------------------------------------------------------------------

Asker = Callable[[str], Answer | None]  # None: the question was rejected (empty, too long)
ContextOf = Callable[[str], int | None]  # a passage's doc_id -> its SQuAD paragraph position


def squad_context(doc_id: str) -> int | None:
    return int(doc_id)


def no_context(doc_id: str) -> int | None:
    return None


def run_case(case: EvalCase, ask: Asker, context_of: ContextOf) -> QuestionResult:
    started = time.perf_counter()
    answer = ask(case.question)
    seconds = time.perf_counter() - started
    if answer is None:
        return QuestionResult(case, False, None, (), seconds)
    passages = tuple(
        RankedPassage(
            rank=p.rank,
            text=p.text,
            context_id=context_of(p.doc_id),
            matched=tuple(dict.fromkeys(p.text[s:e] for s, e in p.highlights)),
        )
        for p in answer.passages
    )
    return QuestionResult(case, answer.answered, answer.text if answer.answered else None, passages, seconds)


def run_cases(
    cases: Sequence[EvalCase],
    ask: Asker,
    context_of: ContextOf,
    progress: Callable[[int, int], None] | None = None,
) -> list[QuestionResult]:
    results = []
    for done, case in enumerate(cases, start=1):
        results.append(run_case(case, ask, context_of))
        if progress is not None:
            progress(done, len(cases))
    return results


@dataclass(frozen=True)
class EvalRun:
    """One setting's results on one file, with how long its index took to build."""

    name: str
    results: tuple[QuestionResult, ...]
    index_seconds: float
    chunks: int
    settings: RetrievalSettings | None = None

    @property
    def summary(self) -> dict[str, Any]:
        return {**summarise(self.results), "index_seconds": round(self.index_seconds, 3), "chunks": self.chunks}

    def to_json(self) -> dict[str, Any]:
        return {"settings": self.name, **self.summary, "results": [r.to_json() for r in self.results]}

    def describe(self) -> str:
        """The setting in one line: what `--compare` varies."""
        s = self.settings
        if s is None:
            return self.name
        rerank = f"재순위 상위 {s.rerank_depth}개(문장 {s.rerank_window}개 창, 가중 {s.rerank_weight})" if s.rerank_depth else "재순위 없음"
        return (
            f"{self.name}: {s.tokenizer}, {s.bm25} k1={s.k1} b={s.b}, 제목·소제목 ×{s.context_weight}, {rerank}, "
            f"청크 {s.chunking.target_chars}/{s.chunking.max_chars}자, 거절 기준 {s.min_coverage}"
        )


def worst_misses(results: Sequence[QuestionResult], count: int) -> list[QuestionResult]:
    """Answerable questions with no hit first, then the lowest-ranked hits, then wrong answers."""
    def badness(result: QuestionResult) -> tuple[float, int]:
        rank = result.hit_rank
        rank_cost = 1000 if rank is None else rank - 1
        return (-(rank_cost + (0 if result.correct else 0.5)), 0)

    misses = [r for r in results if r.case.answerable and (r.hit_rank != 1 or not r.correct)]
    misses += [r for r in results if not r.case.answerable and r.answered]
    return sorted(misses, key=badness)[:count]


def evaluate_in_memory(
    cases: Sequence[EvalCase],
    sources: Sequence[SourceText],
    analyses: AnalysisCache,
    settings: RetrievalSettings,
    name: str,
    top_k: int,
    context_of: ContextOf,
    index_progress: Callable[[int, int], None] | None = None,
    question_progress: Callable[[int, int], None] | None = None,
    embedder: Embedder | None = None,
    cache: VectorCache | None = None,
    embed_progress: Callable[[int, int], None] | None = None,
) -> EvalRun:
    """Chunk and index `sources` under `settings` in memory (embedding them when the setting
    matches by meaning), then ask every case."""
    started = time.perf_counter()
    corpus = MemoryCorpus.build(sources, analyses, settings, index_progress, embedder, cache, embed_progress)
    corpus.reanalyse = analyses.analyzer.content_tokens
    index_seconds = time.perf_counter() - started

    def ask(question: str) -> Answer | None:
        text = clean_question(question)
        if not text or len(question) > MAX_QUESTION_CHARS:
            return None
        return corpus.ask(question, text, analyses.analyzer.content_tokens(text), top_k)

    results = run_cases(cases, ask, context_of, question_progress)
    return EvalRun(name, tuple(results), index_seconds, len(corpus), settings)
