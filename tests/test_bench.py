"""A tiny `qabot bench` run: rankings equal the reference's and the JSON has the issue's keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from bot.bench_command import results_table
from retrieval.analyzer import Token
from retrieval.bench import JSON_KEYS, rename_tokens, renamed, run_bench, take_turns
from retrieval.settings import DEFAULT_SETTINGS
from tests.conftest import DATA

KORQUAD = DATA / "korquad" / "KorQuAD_v1.0_dev_even.json"


def small_squad(path: Path, articles: int = 2, paragraphs: int = 3) -> Path:
    data = json.loads(KORQUAD.read_text(encoding="utf-8"))
    data["data"] = [
        {**article, "paragraphs": article["paragraphs"][:paragraphs]} for article in data["data"][:articles]
    ]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.slow
def test_tiny_bench_matches_the_reference(tmp_path: Path, analyzer) -> None:
    data = small_squad(tmp_path / "squad.json")
    results = run_bench(
        data, [20, 60], 8, 7, analyzer, DEFAULT_SETTINGS, tmp_path / "work", probe=None, analysed_limit=30
    )
    assert [r.chunks for r in results] == [20, 60]
    for result in results:
        assert result.same_top10 == 1.0
        assert result.bm25s_same_top10 is None or result.bm25s_same_top10 > 0.5
        assert (result.bm25s_numba_p50_ms is None) == (result.bm25s_p50_ms is None)  # both bm25s paths, or neither
        assert result.reference.startswith("rank-bm25")
        row = result.as_json()
        assert tuple(row) == JSON_KEYS
        assert row["queries"] == 8
        assert row["retrieve_p50_ms"] > 0 and row["query_p50_ms"] > 0 and row["reference_p50_ms"] > 0
        assert row["analysis_chars_per_s"] > 0 and row["kiwi_chars_per_s"] > 0
        assert row["startup_s"] is None and row["peak_rss_mb"] is None  # no probe here
        assert result.add_s is not None and result.remove_s is not None
    assert results[1].analysed_chunks < 60 and results[1].notes  # copied token lists are said so
    json.dumps([r.as_json() for r in results])
    console = Console(width=400, record=True)
    console.print(results_table(results))
    table = console.export_text()
    assert "bm25s numba p50/p95 ms" in table and f"{results[1].retrieve_p50_ms:,.3f}" in table


def test_renaming_keeps_lengths_and_rereads_morphemes() -> None:
    text = "고구려의 광개토대왕은 영토를 넓혔다"
    new, spans = renamed(text, frozenset({"광개토대왕은"}), replica=1, seed=0)
    for replica in range(2, 40):  # some replica renames it (20% share)
        if spans:
            break
        new, spans = renamed(text, frozenset({"광개토대왕은"}), replica=replica, seed=0)
    assert spans == [(5, 11)] and len(new) == len(text) and new[5] != text[5] and new[6:] == text[6:]
    tokens = [Token("광개토대왕", "NNP", 5, 10), Token("넓히", "VV", 16, 18)]
    assert [t.form for t in rename_tokens(tokens, text, new, spans)] == [new[5:10], "넓히"]
    assert renamed(text, frozenset({"광개토대왕은"}), replica=0, seed=0) == (text, [])


def test_timed_passes_take_turns_going_first() -> None:
    calls: list[str] = []

    def timed(name: str):
        def run() -> list[float]:
            calls.append(name)
            return [float(len(calls))]

        return run

    timings = take_turns({"a": timed("a"), "b": timed("b"), "c": timed("c")}, 4)
    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c"]
    assert timings == {"a": [1.0, 6.0, 8.0, 10.0], "b": [2.0, 4.0, 9.0, 11.0], "c": [3.0, 5.0, 7.0, 12.0]}
