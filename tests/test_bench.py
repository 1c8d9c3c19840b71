"""A tiny `qabot bench` run: rankings equal the reference's and the JSON has the issue's keys."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from bot.bench_command import results_table, semantic_table
from retrieval.analyzer import Token
from retrieval.bench import JSON_KEYS, rename_tokens, renamed, run_bench, take_turns, vector_matrix
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


@pytest.mark.slow
def test_semantic_stage_reports_its_figures(tmp_path: Path, analyzer) -> None:
    from retrieval.embedding import shared_embedder

    data = small_squad(tmp_path / "squad.json")
    embedder = shared_embedder()
    results = run_bench(
        data, [200], 20, 7, analyzer, DEFAULT_SETTINGS, tmp_path / "work", probe=None, analysed_limit=30,
        embedder=embedder, embed_sample_size=4,
    )
    row = results[0].as_json()
    assert tuple(row) == JSON_KEYS and row["chunks"] == 200 and row["embedded_chunks"] == 4
    assert 0 < row["question_embed_p50_ms"] <= row["question_embed_p95_ms"]
    assert 0 < row["dense_p50_ms"] <= row["dense_p95_ms"]
    assert row["hybrid_query_p50_ms"] > row["question_embed_p50_ms"] * 0.5  # the engine embeds the question too
    assert row["chunk_embed_per_s"] > 0 and row["chunk_embed_chars_per_s"] > row["chunk_embed_per_s"]
    assert row["vectors_mb"] == pytest.approx(200 * embedder.dim * 2 / 2**20, rel=1e-3)  # float16 rows
    assert row["hybrid_startup_s"] is None and row["hybrid_peak_rss_mb"] is None  # no probe here
    assert any("repeat their vectors" in note for note in results[0].notes)
    console = Console(width=400, record=True)
    console.print(semantic_table(results))
    assert f"{row['dense_p50_ms']:,.2f}" in console.export_text()


def test_repeated_vectors_keep_the_sampled_ones_and_stay_unit_length() -> None:
    rng = np.random.default_rng(0)
    sample = rng.standard_normal((4, 16)).astype(np.float32)
    sample /= np.linalg.norm(sample, axis=1, keepdims=True)
    bases = np.array([0, 1, 2, 3, 0, 1, 2, 3, 5, 6])  # two replicas of four base chunks, then two beyond the sample
    matrix = vector_matrix(sample, bases, seed=1)
    assert matrix.dtype == np.float16 and matrix.shape == (10, 16)
    assert np.allclose(matrix[:4], sample, atol=1e-3)  # the chunks embedded for real keep their vectors
    assert np.allclose(np.linalg.norm(matrix.astype(np.float32), axis=1), 1, atol=1e-2)
    cosines = np.sum(matrix[4:].astype(np.float32) * sample[bases[4:] % 4], axis=1)
    assert np.all(cosines > 0.9) and np.all(cosines < 0.999)  # near their source, not copies of it
