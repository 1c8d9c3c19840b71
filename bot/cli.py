"""The `qabot` command line: ask, chat, add, docs, remove, eval, serve, bench, feedback.

Exit status: 0 done (a refusal is an answer), 1 error (message on stderr, nothing
changed), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from corpus.document import Document
from corpus.errors import QabotError
from retrieval.analyzer import batches
from retrieval.engine import AddedDocument, Engine

from bot.app import open_engine
from bot.console import answer_to_json, print_answer, print_documents
from bot.eval_command import add_arguments as add_eval_arguments
from bot.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from bot.korean_argparse import KoreanArgumentParser
from bot.settings import Settings, load_settings


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"정수가 아닙니다: {raw!r}") from error
    if value < 1:
        raise argparse.ArgumentTypeError(f"1 이상이어야 합니다: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = KoreanArgumentParser(
        prog="qabot",
        description="한국어 문서 질의응답: 문서에서 답을 찾아 근거 구절과 함께 보여 줍니다.",
    )
    commands = parser.add_subparsers(dest="command", metavar="명령", parser_class=KoreanArgumentParser)
    commands.required = True

    ask = commands.add_parser("ask", help="질문 하나에 답하고 끝냅니다", description="질문 하나에 답하고 끝냅니다.")
    ask.add_argument("question", metavar="질문", help="질문 (따옴표로 감싸 주세요)")
    ask.add_argument("--json", action="store_true", help="JSON으로 출력합니다")
    ask.add_argument("--top", type=int, default=5, metavar="K", help="보여 줄 구절 수 (기본 5)")

    commands.add_parser("chat", help="터미널에서 묻고 답하기를 반복합니다", description="빈 줄이나 Ctrl-D로 끝냅니다.")

    add = commands.add_parser("add", help="문서를 추가합니다", description="문서를 추가하고 새 문서의 ID를 출력합니다.")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH", help=".txt .md .html .pdf .docx 파일")
    add.add_argument("--title", help="문서 제목 (파일 하나일 때)")

    commands.add_parser("docs", help="문서 목록을 보여 줍니다", description="ID, 제목, 청크 수, 추가 시각과 추가한 사람.")

    remove = commands.add_parser("remove", help="문서를 삭제합니다", description="문서와 그 청크를 삭제합니다.")
    remove.add_argument("doc_id", metavar="DOC_ID", help="`qabot docs`에 나오는 문서 ID")

    evaluate = commands.add_parser("eval", help="검색 정확도를 측정합니다", description="JSONL 또는 SQuAD 형식 평가 파일로 정확도를 측정합니다.")
    evaluate.add_argument("file", type=Path, metavar="FILE", help="평가 파일 (.jsonl 또는 SQuAD 형식 .json)")
    evaluate.add_argument("--json", action="store_true", help="JSON으로 출력합니다")
    evaluate.add_argument("--top", type=int, default=10, metavar="K", help="질문마다 가져올 구절 수 (기본 10)")
    add_eval_arguments(evaluate)

    serve = commands.add_parser("serve", help="텔레그램 봇을 실행합니다", description="TELEGRAM_BOT_TOKEN이 필요합니다.")
    serve.add_argument(
        "--workers", type=_positive, default=1, metavar="N",
        help="웹훅 포트를 함께 쓰는 작업자 프로세스 수 (기본 1; 2 이상은 TELEGRAM_WEBHOOK_URL 필요)",
    )

    bench = commands.add_parser("bench", help="속도와 메모리를 참조 구현과 나란히 측정합니다")
    bench.add_argument("--data", type=Path, metavar="SQUAD.json", help="SQuAD 형식 파일 (기본: 내장 KorQuAD 표본)")
    bench.add_argument("--chunks", type=int, nargs="+", metavar="N", help="측정할 청크 수들")
    bench.add_argument("--queries", type=int, default=200, metavar="Q", help="질문 수 (기본 200)")
    bench.add_argument("--seed", type=int, default=13, metavar="S", help="난수 시드")
    bench.add_argument(
        "--analysed", type=int, metavar="M", help="형태소 분석할 최대 청크 수, 넘는 청크는 분석 결과를 복제 (기본 100000)"
    )
    bench.add_argument("--json", action="store_true", help="규모마다 객체 하나씩, JSON 목록으로 출력합니다")

    feedback = commands.add_parser("feedback", help="사용자 피드백을 평가 파일로 내보냅니다")
    feedback.add_argument("--export", type=Path, required=True, metavar="FILE", help="쓸 JSONL 파일")
    return parser


def run_ask(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    with open_engine(settings, warm_up=False) as engine:
        answer = engine.ask(args.question, top_k=max(1, args.top))
    if args.json:
        print(json.dumps(answer_to_json(answer), ensure_ascii=False, indent=2))
    else:
        print_answer(console, answer)
    return EXIT_OK


def run_chat(settings: Settings, console: Console) -> int:
    with open_engine(settings) as engine:
        console.print("질문을 입력하세요. 끝내려면 빈 줄이나 Ctrl-D를 누르세요.")
        while True:
            try:
                question = input("질문> ").strip()
            except (EOFError, KeyboardInterrupt):
                console.print()
                return EXIT_OK
            if not question:
                return EXIT_OK
            try:
                print_answer(console, engine.ask(question))
            except QabotError as error:
                console.print(error.user_message, style="red", markup=False)


def run_add(settings: Settings, args: argparse.Namespace, console: Console, errors: Console) -> int:
    if args.title and len(args.paths) > 1:
        errors.print("--title은 파일 하나를 추가할 때만 쓸 수 있습니다.")
        return EXIT_USAGE
    failed = 0
    with open_engine(settings, warm_up=False) as engine, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=errors, disable=len(args.paths) < 3, transient=True,
    ) as progress:
        task = progress.add_task("문서 추가 중", total=len(args.paths))
        loaded = ((path, _read_document(engine, path, args.title)) for path in args.paths)
        for group in batches(loaded, lambda item: len(item[1].text) if isinstance(item[1], Document) else 0):
            added = iter(engine.add_documents([item for _, item in group if isinstance(item, Document)], "cli"))
            for path, item in group:
                outcome = next(added) if isinstance(item, Document) else item
                if isinstance(outcome, AddedDocument):
                    print(outcome.info.id)
                    errors.print(f"추가됨: {outcome.info.title} (청크 {outcome.info.chunk_count}개)", markup=False)
                else:
                    errors.print(f"{path}: {outcome.user_message}", markup=False)
                    failed += 1
            progress.advance(task, len(group))
        wait_for_vectors(engine, errors)
    return EXIT_ERROR if failed else EXIT_OK


def wait_for_vectors(engine: Engine, errors: Console) -> None:
    """Show the chunk embeddings being computed: a large document takes a while (0.1 s a chunk)."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=errors, transient=True,
    ) as progress:
        task = progress.add_task("의미 검색용 벡터 계산 중", total=None)
        engine.wait_for_vectors(lambda done, total: progress.update(task, completed=done, total=total or None))


def _read_document(engine: Engine, path: Path, title: str | None) -> Document | QabotError:
    """The file as a document, or why it cannot be one."""
    try:
        return engine.read_file(path, title)
    except QabotError as error:
        return error
    except OSError as error:
        return QabotError(f"파일을 읽을 수 없습니다 ({error.strerror or error})")


def run_docs(settings: Settings, console: Console) -> int:
    with open_engine(settings, warm_up=False) as engine:
        print_documents(console, engine.store.documents())
    return EXIT_OK


def run_remove(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    with open_engine(settings, warm_up=False) as engine:
        info = engine.remove_document(args.doc_id)
    console.print(f"삭제됨: {info.title} (ID {info.id}, 청크 {info.chunk_count}개)", markup=False)
    return EXIT_OK


def dispatch(settings: Settings, args: argparse.Namespace, console: Console, errors: Console) -> int:
    if args.command == "ask":
        return run_ask(settings, args, console)
    if args.command == "chat":
        return run_chat(settings, console)
    if args.command == "add":
        return run_add(settings, args, console, errors)
    if args.command == "docs":
        return run_docs(settings, console)
    if args.command == "remove":
        return run_remove(settings, args, console)
    if args.command == "eval":
        from bot.eval_command import run_eval

        return run_eval(settings, args, console)
    if args.command == "serve":
        from bot.telegram.serve import run_serve

        return run_serve(settings, args.workers)
    if args.command == "bench":
        from bot.bench_command import run_bench

        return run_bench(settings, args, console)
    from bot.feedback_command import run_feedback

    return run_feedback(settings, args, console)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console, errors = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    try:
        settings = load_settings()
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        # pypdf logs every flaw of a damaged PDF; the refusal already says the file is damaged
        logging.getLogger("pypdf").setLevel(logging.ERROR)
        return dispatch(settings, args, console, errors)
    except QabotError as error:
        errors.print(error.user_message, markup=False)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
