"""The quality gate: the bundled corpus answers its seed questions, and a fixed KorQuAD sample holds its level.

The KorQuAD sample is 300 questions of the development file (tests/data/korquad), asked
against all of its 575 paragraphs, as `qabot eval FILE --limit 300 --seed 7` does. The
floors are the levels measured with the default settings minus a small margin: a
change that drops below them is a regression to explain, not noise.
"""

from __future__ import annotations

import pytest

from corpus.errors import InvalidQuestion
from retrieval.evaluation import (
    evaluate_in_memory,
    load_eval_file,
    no_context,
    run_cases,
    squad_context,
    summarise,
)
from retrieval.evaluation_corpus import AnalysisCache
from retrieval.settings import DEFAULT_SETTINGS
from tests.conftest import DATA

KORQUAD = DATA / "korquad" / "KorQuAD_v1.0_dev_even.json"
SAMPLE, SEED = 300, 7
# Measured on this sample with the default settings: hit@1 0.923, hit@5 0.990, MRR@10 0.955,
# answer_accuracy 0.883, answerable_refused 0.027. The floors sit 1–2 points below.
FLOORS = {"hit@1": 0.90, "hit@5": 0.975, "mrr@10": 0.935, "answer_accuracy": 0.87}
CEILINGS = {"answerable_refused": 0.035}


def test_seed_questions_on_the_bundled_corpus(bundled_engine):
    cases = load_eval_file(DATA / "seed_qa.jsonl").cases

    def ask(question: str):
        try:
            return bundled_engine.ask(question, top_k=10)
        except InvalidQuestion:
            return None

    summary = summarise(run_cases(cases, ask, no_context))
    assert summary["hit@3"] == 1.0
    assert summary["answer_accuracy"] == 1.0
    assert summary["no_answer_accuracy"] == 1.0


@pytest.mark.parametrize("question", ["오늘 서울 날씨 알려줘", "비트코인 시세는 얼마야?", "내일 부산 가는 기차표 예매해 줘", "삼성전자 주가 알려줘"])
def test_questions_the_bundled_corpus_cannot_answer_are_refused(bundled_engine, question: str):
    assert not bundled_engine.ask(question).answered


@pytest.mark.slow
def test_korquad_sample_holds_its_level(analyzer):
    eval_set = load_eval_file(KORQUAD).sample(SAMPLE, SEED)
    assert len(eval_set.cases) == SAMPLE and len(eval_set.contexts) == 575
    run = evaluate_in_memory(
        eval_set.cases, eval_set.contexts, AnalysisCache(analyzer), DEFAULT_SETTINGS, "default", 10, squad_context
    )
    summary = run.summary
    failed = {k: summary[k] for k, floor in FLOORS.items() if summary[k] < floor}
    failed |= {k: summary[k] for k, ceiling in CEILINGS.items() if summary[k] > ceiling}
    assert not failed, f"below the measured level: {failed} (all: {summary})"


def test_korquad_file_is_the_unmodified_copy():
    assert KORQUAD.stat().st_size == 1369783
    assert "CC BY-ND 2.0 KR" in (KORQUAD.parent / "README.md").read_text(encoding="utf-8")
