"""`qabot feedback --export FILE.jsonl`: users' 👍/👎 as evaluation cases (the JSONL of docs/architecture.md, "Evaluation files").

What each vote becomes (votes on the same question text are summed; the latest answer wins):

- 👍 on an answer: a regression case. `answers` are the lines of the approved answer
  (list markers dropped), so the answer must keep saying all of it; `evidence` is the
  answer's first line, a string of the cited passage, so retrieval is checked too.
- 👍 on a refusal: an unanswerable case (`"answerable": false`): the corpus does not say.
- 👎 (or a tie): nobody knows the right answer yet, so these are not written to FILE,
  where `answers: []` would count as correct. They go to FILE's sibling
  `<name>.review.jsonl` with `"needs_review": true`, the vote and the bot's answer; fill
  in `answers` (or set `"answerable": false`) and move them into FILE.

FILE can be passed to `qabot eval` as it is.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from rich.console import Console

from bot.settings import Settings
from corpus.errors import QabotError
from corpus.store import FeedbackCase
from corpus.stores import open_store

_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s+")


def _lines(answer: str) -> list[str]:
    lines = [_BULLET.sub("", line).strip() for line in answer.split("\n")]
    return [line for line in dict.fromkeys(lines) if line]


def merge(cases: list[FeedbackCase]) -> list[FeedbackCase]:
    """One case per question text: votes summed, the latest answer kept."""
    merged: dict[str, FeedbackCase] = {}
    for case in cases:
        key = " ".join(case.question.split())
        earlier = merged.get(key)
        score = case.score + (earlier.score if earlier else 0)
        merged[key] = FeedbackCase(key, case.answer, case.evidence, score)
    return list(merged.values())


def to_rows(cases: list[FeedbackCase]) -> tuple[list[dict], list[dict]]:
    """(evaluation cases, cases needing review)."""
    ready, review = [], []
    for number, case in enumerate(merge(cases), 1):
        row: dict = {"id": f"feedback-{number}", "question": case.question}
        if case.score > 0 and case.answer:
            row["answers"] = _lines(case.answer)
            if case.evidence:
                row["evidence"] = case.evidence
            ready.append(row)
        elif case.score > 0:
            ready.append({**row, "answers": [], "answerable": False})
        else:
            review.append(
                {**row, "answers": [], "needs_review": True, "feedback": case.score, "bot_answer": case.answer}
            )
    return ready, review


def review_path(path: Path) -> Path:
    stem = path.name[: -len(".jsonl")] if path.name.endswith(".jsonl") else path.name
    return path.with_name(f"{stem}.review.jsonl")


def _write(path: Path, rows: list[dict]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    except OSError as error:
        raise QabotError(f"파일을 쓸 수 없습니다: {path} ({error.strerror or error})") from error


def run_feedback(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    store = open_store(settings.store_target)
    try:
        ready, review = to_rows(store.feedback_cases())
    finally:
        store.close()
    path: Path = args.export
    _write(path, ready)
    console.print(f"평가 문항 {len(ready)}개를 썼습니다: {path}", markup=False)
    if review:
        _write(review_path(path), review)
        console.print(
            f"👎 받은 질문 {len(review)}개는 검토용으로 따로 썼습니다: {review_path(path)} "
            "(answers를 채운 뒤 평가 파일로 옮기세요)",
            markup=False,
        )
    elif not ready:
        console.print("아직 받은 피드백이 없습니다.", markup=False)
    return 0
