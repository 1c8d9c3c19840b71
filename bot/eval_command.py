"""`qabot eval FILE`: retrieval and answer accuracy on a JSONL or SQuAD file, for testers.

JSONL files are answered from the user's store; SQuAD files from a temporary in-memory
corpus of their paragraphs (the store is never touched). `--compare` runs the same file
under several named settings side by side; `--failures`, `--report`, `--limit/--seed`
help read and share the result.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from bot.app import open_engine
from bot.exit_codes import EXIT_OK, EXIT_USAGE
from bot.settings import Settings
from corpus.document import make_document
from corpus.errors import InvalidQuestion, QabotError
from corpus.loaders import SUPPORTED_EXTENSIONS, LoadLimits, load_path
from corpus.store import Store
from retrieval.analyzer import shared_analyzer
from retrieval.answer import Answer
from retrieval.evaluation import (
    EvalRun,
    EvalSet,
    QuestionResult,
    category_score,
    evaluate_in_memory,
    load_eval_file,
    no_context,
    run_cases,
    squad_context,
    worst_misses,
)
from retrieval.embedding import shared_embedder
from retrieval.evaluation_corpus import AnalysisCache, SourceText
from retrieval.report import MEASURE_ORDER, format_measure, write_report
from retrieval.settings import COMPARISONS, RetrievalSettings, parse_variant

CURRENT = "현재 설정"


class UsageError(QabotError):
    pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The eval subcommand's options beyond FILE, --json and --top."""
    parser.add_argument("--failures", type=int, default=0, metavar="N", help="가장 크게 놓친 질문 N개를 보여 줍니다")
    parser.add_argument("--report", metavar="FILE", help="보고서를 씁니다 (.html 또는 .md)")
    parser.add_argument(
        "--compare",
        nargs="*",
        metavar="SETTING",
        help=f"여러 설정을 나란히 비교합니다 (기본: {' '.join(COMPARISONS)}; 'default:k1=1.2,b=0.5' 식 변경도 가능)",
    )
    parser.add_argument(
        "--docs",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="JSONL 질문을 저장소 대신 이 문서들(파일 또는 폴더)로 만든 임시 색인에 묻습니다 (저장소는 바뀌지 않음)",
    )
    parser.add_argument("--split", metavar="NAME", help="split 항목이 NAME인 질문만 평가합니다 (예: dev, test)")
    parser.add_argument("--limit", type=int, metavar="N", help="질문 N개만 무작위로 뽑아 평가합니다")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="--limit 표본의 난수 시드 (기본 0)")


def variants(settings: Settings, compare: Sequence[str] | None) -> list[tuple[str, RetrievalSettings]]:
    if compare is None:
        return [(CURRENT, settings.retrieval)]
    chosen = []
    for spec in compare or list(COMPARISONS):
        try:
            chosen.append(parse_variant(spec))
        except ValueError as error:
            raise UsageError(str(error)) from error
    return chosen


@contextmanager
def progress_bar(errors: Console) -> Iterator[Callable[[str], Callable[[int, int], None]]]:
    """Yields a factory of progress callbacks, one bar per named stage, drawn on stderr."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=errors, transient=True,
    ) as progress:
        def stage(description: str) -> Callable[[int, int], None]:
            task = progress.add_task(description, total=None)

            def update(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total or 1)

            return update

        yield stage


def run_eval(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    errors = Console(stderr=True)
    try:
        chosen = variants(settings, getattr(args, "compare", None))
    except UsageError as error:
        errors.print(error.user_message, markup=False)
        return EXIT_USAGE
    limit = getattr(args, "limit", None)
    if limit is not None and limit < 1:
        errors.print("--limit은 1 이상이어야 합니다.")
        return EXIT_USAGE
    eval_set = load_eval_file(args.file).only_split(getattr(args, "split", None)).sample(limit, getattr(args, "seed", 0))
    top_k = max(1, args.top)
    documents = getattr(args, "docs", None)
    if documents:
        if eval_set.kind != "jsonl":
            errors.print("--docs는 JSONL 평가 파일에만 씁니다 (SQuAD 파일은 제 문단으로 색인을 만듭니다).")
            return EXIT_USAGE
        try:
            sources = read_documents(documents, settings)
        except UsageError as error:
            errors.print(error.user_message, markup=False)
            return EXIT_USAGE
        runs = [_in_memory(settings, eval_set, sources, name, retrieval, top_k, no_context, errors) for name, retrieval in chosen]
    else:
        runs = evaluate(settings, eval_set, chosen, top_k, errors)
    primary = next((i for i, run in enumerate(runs) if run.name in (CURRENT, "default")), 0)
    if args.json:
        print(json.dumps(json_output(runs, primary), ensure_ascii=False, indent=2))
    else:
        print_measures(console, runs, args.file.name)
        if getattr(args, "failures", 0):
            print_failures(console, runs[primary], eval_set, args.failures)
    if getattr(args, "report", None):
        write_report(Path(args.report), runs, args.file.name, primary)
        errors.print(f"보고서를 썼습니다: {args.report}", markup=False)
    if args.json and getattr(args, "failures", 0):
        print_failures(errors, runs[primary], eval_set, args.failures)
    return EXIT_OK


def read_documents(paths: Sequence[Path], settings: Settings) -> list[SourceText]:
    """The documents of `--docs` (files, or every file of a folder), titled as `qabot add` would title them."""
    files = sorted(p for path in paths for p in ([path] if not path.is_dir() else path.iterdir()) if p.is_file())
    files = [p for p in files if p.suffix.lower() in SUPPORTED_EXTENSIONS]
    if not files:
        raise UsageError("--docs에 읽을 문서가 없습니다 (.txt .md .html .pdf .docx).")
    limits = LoadLimits(max_bytes=settings.max_upload_bytes)
    documents = []
    for number, path in enumerate(files):
        loaded = load_path(path, limits)
        document = make_document(loaded.text, path.name, title_hint=loaded.title_hint)
        documents.append(SourceText(f"doc{number}", document.title, document.text))
    return documents


def evaluate(
    settings: Settings, eval_set: EvalSet, chosen: list[tuple[str, RetrievalSettings]], top_k: int, errors: Console
) -> list[EvalRun]:
    if eval_set.kind == "squad":
        return [
            _in_memory(
                settings, eval_set, eval_set.contexts, name, retrieval.with_changes(collapse_copies=False), top_k,
                squad_context, errors,
            )
            for name, retrieval in chosen
        ]
    if len(chosen) == 1 and chosen[0][0] == CURRENT:
        return [_from_store(settings, eval_set, top_k, errors)]
    with open_engine(settings, warm_up=False) as engine:
        store = engine.store
        sources = [SourceText(doc.id, doc.title, store.document_text(doc.id)) for doc in store.documents()]
    return [_in_memory(settings, eval_set, sources, name, retrieval, top_k, no_context, errors) for name, retrieval in chosen]


def _in_memory(settings, eval_set, sources, name, retrieval, top_k, context_of, errors) -> EvalRun:
    """One setting over a temporary corpus; chunk embeddings are read from and kept in a cache beside the store."""
    analyses = AnalysisCache(shared_analyzer(settings.user_dictionary))
    embedder = shared_embedder() if retrieval.matching != "lexical" else None
    cache = Store(settings.vector_cache_path)
    try:
        with progress_bar(errors) as stage:
            return evaluate_in_memory(
                eval_set.cases,
                sources,
                analyses,
                retrieval,
                name,
                top_k,
                context_of,
                index_progress=stage(f"[{name}] 문단 분석·색인"),
                question_progress=stage(f"[{name}] 질문"),
                embedder=embedder,
                cache=cache,
                embed_progress=stage(f"[{name}] 의미 벡터"),
            )
    finally:
        cache.close()


def _from_store(settings: Settings, eval_set: EvalSet, top_k: int, errors: Console) -> EvalRun:
    started = time.perf_counter()
    with open_engine(settings, warm_up=True) as engine:
        engine.wait_for_vectors()  # measure what a settled bot answers, not BM25 while vectors are computed
        index_seconds = time.perf_counter() - started

        def ask(question: str) -> Answer | None:
            try:
                return engine.ask(question, top_k=top_k)
            except InvalidQuestion:
                return None

        with progress_bar(errors) as stage:
            results = run_cases(eval_set.cases, ask, no_context, stage("질문"))
        return EvalRun(CURRENT, tuple(results), index_seconds, len(engine.snapshot), engine.settings)


def json_output(runs: Sequence[EvalRun], primary: int) -> dict[str, Any]:
    """The primary run's object of docs/architecture.md ("Evaluation files"); with --compare, every run's measures under `compare`."""
    output = runs[primary].to_json()
    if len(runs) > 1:
        output["compare"] = [{"settings": run.name, "description": run.describe(), **run.summary} for run in runs]
    return output


def print_measures(console: Console, runs: Sequence[EvalRun], source_name: str) -> None:
    table = Table(title=f"검색 정확도 — {source_name}", title_justify="left")
    table.add_column("지표", no_wrap=True)
    for run in runs:
        table.add_column(run.name, justify="right", no_wrap=True)
    for measure in MEASURE_ORDER:
        table.add_row(measure, *(format_measure(run.summary.get(measure)) for run in runs))
    needed = 22 + sum(max(len(run.name), 6) + 3 for run in runs)
    if needed > console.width:  # wider than the terminal: let it scroll rather than cut the names
        console = Console(file=console.file, width=needed, force_terminal=console.is_terminal, no_color=console.no_color)
    console.print(table)
    print_categories(console, runs)
    if len(runs) > 1:
        for run in runs:
            console.print(f"  {run.describe()}", markup=False, highlight=False, soft_wrap=True)
        console.print(
            "  (첫 설정의 index_seconds에는 Kiwi 형태소 분석 시간이 들어 있습니다: 다음 설정들은 분석 결과를 함께 씁니다.)",
            markup=False,
            soft_wrap=True,
        )


def print_categories(console: Console, runs: Sequence[EvalRun]) -> None:
    """Per question category and per document: answer accuracy and hit@1 of the answerable
    questions, the share refused of the others."""
    for key, title, label in (("by_category", "질문 종류별", "종류"), ("by_document", "문서별", "문서")):
        if runs[0].summary.get(key):
            print_groups(console, runs, key, title, label)


def print_groups(console: Console, runs: Sequence[EvalRun], key: str, title: str, label: str) -> None:
    categories = runs[0].summary[key]
    table = Table(title=f"{title} (답할 수 있는 질문: 정답률 · hit@1 / 답이 없는 질문만: 거절률)", title_justify="left")
    table.add_column(label, no_wrap=True)
    table.add_column("질문", justify="right")
    for run in runs:
        table.add_column(run.name, justify="right", no_wrap=True)
    for category, measures in categories.items():
        cells = []
        for run in runs:
            own = run.summary[key][category]
            cell = format_measure(category_score(own))
            if own["answerable"]:
                cell += f" · {format_measure(own['hit@1'])}"
            cells.append(cell)
        table.add_row(category, str(measures["questions"]), *cells)
    needed = max(len(name) for name in categories) * 2 + 10 + sum(max(len(run.name), 13) + 3 for run in runs)
    if needed > console.width:  # as print_measures: scroll rather than cut names
        console = Console(file=console.file, width=needed, force_terminal=console.is_terminal, no_color=console.no_color)
    console.print(table)


def _clip(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def gold_text(result: QuestionResult, eval_set: EvalSet) -> str:
    """Where the answer is: the start of the question's own paragraph (SQuAD) or its evidence."""
    case = result.case
    if case.context_id is not None:
        context = eval_set.contexts[case.context_id].text
        first_answer = min((context.find(a) for a in case.answers if a in context), default=-1)
        around = context[max(0, first_answer - 40) : first_answer + 80] if first_answer >= 0 else context[:120]
        return f"문단 {case.context_id}: …{around}…"
    return case.evidence or " / ".join(case.answers)


def print_failures(console: Console, run: EvalRun, eval_set: EvalSet, count: int) -> None:
    misses = worst_misses(run.results, count)
    console.print(Text(f"가장 크게 놓친 질문 {len(misses)}개 ({run.name})", style="bold"))
    for number, result in enumerate(misses, start=1):
        case = result.case
        rank = f"{result.hit_rank}위" if result.hit_rank else "10위 안에 없음"
        console.print(Text(f"\n{number}. [{case.id}] {case.question}", style="bold"))
        if case.answerable:
            console.print(f"   정답: {' / '.join(case.answers)} · 근거 순위: {rank}", markup=False)
            console.print(f"   근거: {_clip(gold_text(result, eval_set))}", markup=False)
        else:
            console.print("   답이 없는 질문인데 답했습니다.", markup=False)
        if result.passages:
            top = result.passages[0]
            where = f"문단 {top.context_id}" if top.context_id is not None else "1위"
            console.print(f"   1위 구절({where}): {_clip(top.text)}", markup=False)
            console.print(f"   일치한 말: {', '.join(top.matched) or '없음'}", markup=False)
        console.print(f"   답변: {_clip(result.answer) if result.answered and result.answer else '(거절)'}", markup=False)
