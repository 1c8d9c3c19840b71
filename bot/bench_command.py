"""`qabot bench`: speed and memory beside the reference implementations, one row per scale.

Start-up and peak RSS are the bot's own: each scale's store is opened by a fresh process
(`python -m bot.bench_command probe DATA_DIR QUESTIONS`) the way `qabot serve` opens it —
settings, Kiwi warmed up, the persisted index loaded — which answers the first question,
reports the time since its launch, answers the rest and reports its peak RSS. The process
is launched PROBE_LAUNCHES times: start-up is the median (single launches on the 2-core
VM ranged from 3.8 to 5.2 s for the same store), peak RSS the largest. It runs once as a
BM25-only bot (matching "lexical", the figures before semantic matching existed) and,
with the semantic stage, once as a hybrid bot serving the vectors the bench saved.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bot.settings import Settings
from retrieval.settings import DEFAULT_SETTINGS

PROBE_LAUNCHES = 3
DEFAULT_DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "korquad" / "KorQuAD_v1.0_dev_even.json"


def probe(data_dir: Path, questions: Sequence[str], matching: str) -> tuple[float, float]:
    """(median seconds from process launch to the first answer, largest peak RSS in MB) of
    PROBE_LAUNCHES fresh bot processes with this matching, one after another."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(list(questions), handle, ensure_ascii=False)
    startups: list[float] = []
    peaks: list[float] = []
    try:
        for _ in range(PROBE_LAUNCHES):
            launched = time.time()
            completed = subprocess.run(
                [sys.executable, "-m", "bot.bench_command", "probe", str(data_dir), handle.name, matching],
                capture_output=True, text=True, check=True, env={**os.environ, "QABOT_LOG_LEVEL": "WARNING"},
            )
            report = json.loads(completed.stdout.strip().splitlines()[-1])
            startups.append(report["first_answer_at"] - launched)
            peaks.append(report["peak_rss_mb"])
    finally:
        os.unlink(handle.name)
    return statistics.median(startups), max(peaks)


def _probe_main(data_dir: Path, questions_file: Path, matching: str) -> None:
    from bot.app import open_engine

    questions = json.loads(questions_file.read_text(encoding="utf-8"))
    with open_engine(Settings(data_dir=data_dir, retrieval=DEFAULT_SETTINGS.with_changes(matching=matching))) as engine:
        if engine.semantic is not None and engine.semantic.progress[1]:  # else it times a bot embedding every chunk
            sys.exit(f"probe: the saved vectors were not loaded; {engine.semantic.progress[1]:,} chunks queued for embedding")
        engine.ask(questions[0], top_k=10)
        first_answer_at = time.time()
        for question in questions[1:]:
            engine.ask(question, top_k=10)
    print(json.dumps({"first_answer_at": first_answer_at, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries that over from
    the parent through fork and exec, so a probe started by a 10 GB bench would report 10 GB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_bench(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    from retrieval.analyzer import shared_analyzer
    from retrieval.bench import DEFAULT_ANALYSED, DEFAULT_SCALES, method_text
    from retrieval.bench import run_bench as bench
    from retrieval.embedding import EmbeddingUnavailable, shared_embedder

    data = args.data or DEFAULT_DATA
    if not data.is_file():
        Console(stderr=True).print(f"SQuAD 형식 파일이 없습니다: {data}", markup=False)
        return 1
    if args.queries < 1 or any(n < 1 for n in args.chunks or []):
        Console(stderr=True).print("--queries와 --chunks는 1 이상이어야 합니다.", markup=False)
        return 2
    scales = args.chunks or list(DEFAULT_SCALES)
    analysed = getattr(args, "analysed", None) or DEFAULT_ANALYSED
    errors = Console(stderr=True)
    analyzer = shared_analyzer()  # as the start-up probe's, which opens a data folder without a user dictionary
    analyzer.warm_up()
    embedder = None
    if settings.retrieval.matching != "lexical":  # QABOT_MATCHING=lexical: the semantic stage is skipped
        try:
            embedder = shared_embedder()
        except EmbeddingUnavailable as error:
            errors.print(f"{error.user_message}\n의미 검색 단계 없이 재려면 QABOT_MATCHING=lexical로 실행하세요.", markup=False)
            return 1
    workdir = Path(tempfile.mkdtemp(prefix="qabot-bench-"))
    try:
        results = bench(
            data, scales, args.queries, args.seed, analyzer, settings.retrieval, workdir,
            probe=probe, analysed_limit=analysed,
            progress=lambda message: errors.print(f"[{time.strftime('%H:%M:%S')}] {message}", markup=False),
            embedder=embedder,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps([result.as_json() for result in results], ensure_ascii=False, indent=2))
        return 0
    console.print(method_text(analysed, args.seed), markup=False)
    console.print(
        f"Start-up: the median of {PROBE_LAUNCHES} fresh bot processes, launch to first answer; "
        "peak RSS: the largest of them.",
        markup=False,
    )
    Console(width=max(console.width, 220)).print(results_table(results))
    if embedder is not None:
        Console(width=max(console.width, 220)).print(semantic_table(results))
    for result in results:
        for note in result.notes:
            console.print(f"청크 {result.chunks:,}개: {note}", markup=False)
    return 0


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def results_table(results) -> Table:
    table = Table(title="qabot bench")
    columns = [
        ("청크", lambda r: f"{r.chunks:,}"),
        ("엔진 p50/p95 ms", lambda r: f"{_fmt(r.query_p50_ms)} / {_fmt(r.query_p95_ms)}"),
        ("검색 p50/p95 ms", lambda r: f"{_fmt(r.retrieve_p50_ms, 3)} / {_fmt(r.retrieve_p95_ms, 3)}"),
        ("참조 p50 ms", lambda r: _fmt(r.reference_p50_ms, 1)),
        ("bm25s p50/p95 ms", lambda r: f"{_fmt(r.bm25s_p50_ms, 3)} / {_fmt(r.bm25s_p95_ms, 3)}"),
        ("bm25s numba p50/p95 ms", lambda r: f"{_fmt(r.bm25s_numba_p50_ms, 3)} / {_fmt(r.bm25s_numba_p95_ms, 3)}"),
        (
            "배수: 참조 / bm25s / numba",
            lambda r: " / ".join(
                _ratio(slow, r.retrieve_p50_ms) for slow in (r.reference_p50_ms, r.bm25s_p50_ms, r.bm25s_numba_p50_ms)
            ),
        ),
        ("상위 10 일치 (bm25s)", lambda r: f"{_fmt(r.same_top10, 3)} ({_fmt(r.bm25s_same_top10, 3)})"),
        ("색인 s (Kiwi + 나머지)", lambda r: f"{_fmt(r.build_s, 1)} ({_fmt(r.analysis_s, 1)} + {_fmt(r.index_s, 1)})"),
        ("분석 / Kiwi 글자/s", lambda r: f"{_fmt(r.analysis_chars_per_s, 0)} / {_fmt(r.kiwi_chars_per_s, 0)}"),
        ("시작 s", lambda r: _fmt(r.startup_s)),
        ("최대 RSS MB", lambda r: _fmt(r.peak_rss_mb, 0)),
        ("추가 / 삭제 s", lambda r: f"{_fmt(r.add_s)} / {_fmt(r.remove_s)}"),
    ]
    return _filled(table, columns, results)


def semantic_table(results) -> Table:
    """The semantic stage of the same run, one row per scale."""
    table = Table(title="qabot bench: 의미 검색 단계")
    columns = [
        ("청크", lambda r: f"{r.chunks:,}"),
        ("질문 임베딩 p50/p95 ms", lambda r: f"{_fmt(r.question_embed_p50_ms, 1)} / {_fmt(r.question_embed_p95_ms, 1)}"),
        (
            "청크 임베딩 청크/s (글자/s)",
            lambda r: f"{_fmt(r.chunk_embed_per_s, 1)} ({_fmt(r.chunk_embed_chars_per_s, 0)}), {r.embedded_chunks}개로 잼",
        ),
        ("밀집 상위 20 p50/p95 ms", lambda r: f"{_fmt(r.dense_p50_ms)} / {_fmt(r.dense_p95_ms)}"),
        ("하이브리드 엔진 p50/p95 ms", lambda r: f"{_fmt(r.hybrid_query_p50_ms, 1)} / {_fmt(r.hybrid_query_p95_ms, 1)}"),
        ("벡터 MB", lambda r: _fmt(r.vectors_mb, 1)),
        ("시작 s (BM25만 / 하이브리드)", lambda r: f"{_fmt(r.startup_s)} / {_fmt(r.hybrid_startup_s)}"),
        ("최대 RSS MB (BM25만 / 하이브리드)", lambda r: f"{_fmt(r.peak_rss_mb, 0)} / {_fmt(r.hybrid_peak_rss_mb, 0)}"),
    ]
    return _filled(table, columns, results)


def _filled(table: Table, columns, results) -> Table:
    """One right-aligned column per (name, cell) pair, one row per result."""
    for name, _ in columns:
        table.add_column(name, justify="right")
    for result in results:
        table.add_row(*(cell(result) for _, cell in columns))
    return table


def _ratio(slow: float | None, fast: float | None) -> str:
    if not slow or not fast:
        return "—"
    ratio = slow / fast
    return f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.2g}×"


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "probe":
        _probe_main(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("usage: python -m bot.bench_command probe DATA_DIR QUESTIONS.json lexical|hybrid")
