"""`qabot eval`: file formats, the hit and correctness rules, the measures, the JSON contract, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from retrieval.evaluation import (
    EvalCase,
    EvalRun,
    QuestionResult,
    RankedPassage,
    answer_is_correct,
    hit_at,
    is_hit,
    load_eval_file,
    mrr_at,
    parse_jsonl,
    summarise,
    worst_misses,
)
from retrieval.report import write_report
from retrieval.settings import COMPARISONS, DEFAULT_SETTINGS, parse_variant

# Two articles, three paragraphs; paragraphs 0 and 2 are the same text (KorQuAD has such duplicates).
SAME = "대한제국의 수도는 한성이었다. 고종은 1897년에 황제로 즉위하였다."
SQUAD = {
    "version": "test",
    "data": [
        {
            "title": "대한_제국",
            "paragraphs": [
                {"context": SAME, "qas": [{"id": "a", "question": "고종이 황제로 즉위한 해는?", "answers": [{"text": "1897년", "answer_start": 0}]}]},
                {
                    "context": "경복궁은 조선의 법궁으로 1395년에 지어졌다. 임진왜란 때 불탔다가 흥선대원군이 다시 지었다.",
                    "qas": [{"id": "b", "question": "경복궁을 다시 지은 사람은 누구인가?", "answers": [{"text": "흥선대원군", "answer_start": 0}]}],
                },
            ],
        },
        {
            "title": "복제",
            "paragraphs": [
                {"context": SAME, "qas": [{"id": "c", "question": "대한제국의 수도는 어디인가?", "answers": [{"text": "한성", "answer_start": 0}]}]}
            ],
        },
    ],
}


@pytest.fixture
def squad_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_squad.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    monkeypatch.setenv("QABOT_DATA_DIR", str(directory))
    monkeypatch.chdir(tmp_path)
    return directory


def result(case: EvalCase, passages: list[tuple[str, int | None]], answer: str | None) -> QuestionResult:
    ranked = tuple(RankedPassage(rank, text, context) for rank, (text, context) in enumerate(passages, start=1))
    return QuestionResult(case, answer is not None, answer, ranked, 0.01)


# --- measures against hand-computed values ------------------------------------------------


def test_hit_and_mrr_match_hand_computed_values():
    ranks = [1, None, 3, 2, 11]
    assert hit_at(ranks, 1) == pytest.approx(1 / 5)
    assert hit_at(ranks, 3) == pytest.approx(3 / 5)
    assert hit_at(ranks, 10) == pytest.approx(3 / 5)
    assert mrr_at(ranks, 10) == pytest.approx((1 + 1 / 3 + 1 / 2) / 5)
    assert hit_at([], 1) is None and mrr_at([], 10) is None


def test_summary_counts_answerable_and_unanswerable_separately():
    answerable = EvalCase(0, "q", ("가",), "근거")
    unanswerable = EvalCase(1, "r", (), answerable=False)
    results = [
        result(answerable, [("다른 글", None), ("이 근거 글", None)], "가 입니다"),
        result(EvalCase(2, "s", ("나",), "근거"), [("근거", None)], None),
        result(unanswerable, [("아무 글", None)], None),
        result(EvalCase(3, "t", (), answerable=False), [], "답"),
    ]
    summary = summarise(results)
    assert summary["questions"] == 4 and summary["answerable"] == 2
    assert summary["hit@1"] == 0.5 and summary["hit@3"] == 1.0
    assert summary["mrr@10"] == pytest.approx((1 / 2 + 1) / 2)
    assert summary["answer_accuracy"] == 0.5
    assert summary["answerable_refused"] == 0.5
    assert summary["no_answer_accuracy"] == 0.5
    assert summarise([results[2]])["hit@1"] is None


def test_jsonl_hit_rule_uses_evidence_else_all_answers():
    with_evidence = EvalCase(0, "q", ("A", "B"), "근거 문장")
    assert is_hit(with_evidence, RankedPassage(1, "… 근거 문장 …", None))
    assert not is_hit(with_evidence, RankedPassage(1, "A와 B", None))
    without = EvalCase(1, "q", ("A", "B"))
    assert is_hit(without, RankedPassage(1, "A와 B", None))
    assert not is_hit(without, RankedPassage(1, "A만", None))


def test_squad_hit_needs_the_own_paragraph_and_an_answer():
    case = EvalCase("x", "q", ("1897년", "1897"), context_id=2)
    assert is_hit(case, RankedPassage(1, "1897년에 즉위", 2))
    assert not is_hit(case, RankedPassage(1, "1897년에 즉위", 0))  # same text, another paragraph
    assert not is_hit(case, RankedPassage(1, "즉위", 2))


def test_answer_correctness_every_answer_for_jsonl_any_for_squad():
    assert answer_is_correct(EvalCase(0, "q", ("A", "B")), "A, B")
    assert not answer_is_correct(EvalCase(0, "q", ("A", "B")), "A")
    assert answer_is_correct(EvalCase(0, "q", ("A", "B"), context_id=0), "A")
    assert not answer_is_correct(EvalCase(0, "q", ("A",), context_id=0), None)


def test_worst_misses_put_unfound_gold_first():
    found_late = result(EvalCase(0, "late", ("가",), "가"), [("x", None), ("가", None)], "가")
    not_found = result(EvalCase(1, "none", ("나",), "나"), [("x", None)], None)
    perfect = result(EvalCase(2, "ok", ("다",), "다"), [("다", None)], "다")
    assert [r.case.id for r in worst_misses([found_late, not_found, perfect], 5)] == [1, 0]


# --- files -----------------------------------------------------------------------------------


def test_jsonl_ids_are_the_id_field_else_the_line_number():
    cases = parse_jsonl('{"id": "s1", "question": "가?", "answers": ["A"]}\n\n{"question": "나?", "answerable": false}\n').cases
    assert [c.id for c in cases] == ["s1", 2]
    assert cases[1].answerable is False and cases[0].answerable is True


def test_squad_paragraphs_count_every_duplicate(squad_file: Path):
    loaded = load_eval_file(squad_file)
    assert loaded.kind == "squad"
    assert [c.doc_id for c in loaded.contexts] == ["0", "1", "2"]
    assert loaded.contexts[0].text == loaded.contexts[2].text
    assert [(c.id, c.context_id) for c in loaded.cases] == [("a", 0), ("b", 1), ("c", 2)]
    assert loaded.contexts[0].title == "대한 제국"


def test_sample_is_fixed_by_seed_and_keeps_file_order(squad_file: Path):
    loaded = load_eval_file(squad_file)
    first, again = loaded.sample(2, seed=3), loaded.sample(2, seed=3)
    assert [c.id for c in first.cases] == [c.id for c in again.cases]
    assert [c.id for c in first.cases] == sorted(c.id for c in first.cases)
    assert len(first.contexts) == 3  # the corpus stays whole


def test_named_settings_and_changes_parse():
    assert parse_variant("whitespace")[1].tokenizer == "whitespace"
    _, changed = parse_variant("default:k1=1.2,b=0.3,target_chars=300")
    assert (changed.k1, changed.b, changed.chunking.target_chars) == (1.2, 0.3, 300)
    assert parse_variant("k1=2")[1].k1 == 2.0
    assert set(COMPARISONS) >= {"whitespace", "default"} and COMPARISONS["default"] == DEFAULT_SETTINGS
    with pytest.raises(ValueError):
        parse_variant("nonsense")
    with pytest.raises(ValueError):
        parse_variant("default:colour=red")


# --- the command -----------------------------------------------------------------------------


def test_squad_eval_json_follows_the_contract_and_never_touches_the_store(
    squad_file: Path, data_dir: Path, analyzer, capsys: pytest.CaptureFixture[str]
):
    assert main(["eval", str(squad_file), "--json", "--top", "3"]) == 0
    output = json.loads(capsys.readouterr().out)
    for key in ("questions", "answerable", "hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "answer_accuracy",
                "no_answer_accuracy", "answerable_refused", "ms_per_question", "results"):
        assert key in output
    assert output["questions"] == 3 and output["no_answer_accuracy"] is None
    by_id = {r["id"]: r for r in output["results"]}
    assert set(by_id) == {"a", "b", "c"}
    for item in output["results"]:
        assert set(item) >= {"id", "question", "answerable", "answers", "evidence", "answered", "answer", "passages"}
        assert all(set(p) >= {"rank", "text", "context_id"} for p in item["passages"])
        assert all(p["context_id"] in (0, 1, 2) for p in item["passages"])
    # re-score independently from the results: the strict rule gives the reported hit@3
    gold = {"a": 0, "b": 1, "c": 2}
    hits = [
        any(p["context_id"] == gold[r["id"]] and any(a in p["text"] for a in r["answers"]) for p in r["passages"])
        for r in output["results"]
    ]
    assert output["hit@3"] == pytest.approx(sum(hits) / 3)
    assert by_id["b"]["passages"][0]["context_id"] == 1 and "흥선대원군" in by_id["b"]["answer"]
    assert not (data_dir / "qabot.sqlite3").exists()


@pytest.mark.slow
def test_compare_failures_and_report(squad_file: Path, data_dir: Path, tmp_path: Path, analyzer, capsys):
    report = tmp_path / "report.html"
    code = main(["eval", str(squad_file), "--compare", "whitespace", "default", "--failures", "2", "--report", str(report)])
    assert code == 0
    out = capsys.readouterr().out
    assert "whitespace" in out and "hit@1" in out and "가장 크게 놓친 질문" in out
    page = report.read_text(encoding="utf-8")
    assert "<svg" in page and "경복궁을 다시 지은 사람은 누구인가?" in page
    assert main(["eval", str(squad_file), "--compare", "default", "k1=1.2", "--json", "--limit", "2"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert [run["settings"] for run in output["compare"]] == ["default", "k1=1.2"]
    assert output["questions"] == 2 and len(output["results"]) == 2


def test_unknown_setting_is_a_usage_error(squad_file: Path, data_dir: Path, capsys):
    assert main(["eval", str(squad_file), "--compare", "nonsense"]) == 2
    assert "nonsense" in capsys.readouterr().err


def test_markdown_report(tmp_path: Path):
    case = EvalCase("q1", "무엇인가 | 질문", ("가",), "가")
    run = EvalRun("default", (result(case, [("가 문장", None)], "가 입니다"),), 0.1, 1)
    path = tmp_path / "report.md"
    write_report(path, [run], "seed.jsonl")
    text = path.read_text(encoding="utf-8")
    assert "| hit@1 | 1.000 |" in text and "무엇인가 \\| 질문" in text and "█" in text
