"""Load benchmark: many chats asking the real bot at once, through the local Bot API server.

    python -m tests.load_bench                 # 200 questions from 50 chats, long polling, SQLite
    python -m tests.load_bench --chats 20 --per-chat 10
    python -m tests.load_bench --workers 2 --database postgres   # webhook mode, 2 workers, PostgreSQL

Starts the strict local Bot API server (tests/botapi), runs `python -m bot` against it on
a fresh data dir, has the admin upload a document of facts (each question has one right
answer, a name found nowhere else), waits for the bot to settle, then sends every question
at once (interleaved across chats). It checks that every question is answered exactly
once, in its own chat, in the order each chat asked, and prints p50/p95 reply latency
(from the update being queued to the reply arriving at the server) and the throughput.
`--workers N` runs `qabot serve --workers N` in webhook mode (the server delivers like
Telegram, up to 40 at once, one at a time per chat); `--database postgres` puts the store
in a fresh schema of QABOT_TEST_DATABASE_URL's database instead of a SQLite file.
Not part of the test suite; tests/test_load_smoke.py is its small in-suite variant.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack, nullcontext
from pathlib import Path

from tests.botapi import BotApiServer
from tests.postgres import fresh_schema
from tests.reliability_bot import ADMIN_ID, BOT_USERNAME, TOKEN, BotRun
from tests.reliability_load import FACTS, city_of_reply, facts_document, question_for


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--per-chat", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for all replies")
    parser.add_argument("--log-level", default="WARNING", help="the bot's QABOT_LOG_LEVEL")
    parser.add_argument("--workers", type=int, help="webhook mode with N worker processes (default: long polling)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite", help="where the store lives")
    parser.add_argument(
        "--messages-per-second", type=int, default=30,
        help="the bot's outgoing flood limit (QABOT_MESSAGES_PER_SECOND); raise it to measure the bot, not Telegram's cap",
    )
    args = parser.parse_args(argv)
    total = args.chats * args.per_chat

    with ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="qabot-load-")))
        server = stack.enter_context(BotApiServer(token=TOKEN, bot_username=BOT_USERNAME))
        database = stack.enter_context(fresh_schema() if args.database == "postgres" else nullcontext())
        env = {
            "QABOT_LOG_LEVEL": args.log_level,
            "QABOT_RATE_LIMIT_PER_MINUTE": str(max(1000, total * 2)),
            "QABOT_MESSAGES_PER_SECOND": str(args.messages_per_second),
        }
        if database:
            env["QABOT_DATABASE_URL"] = database
        serve_args: tuple[str, ...] = ()
        if args.workers:
            port = _free_port()
            env.update(TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", TELEGRAM_WEBHOOK_PORT=str(port))
            serve_args = ("--workers", str(args.workers))
        run = BotRun(server, base / "data", base, args=serve_args, **env)
        started = time.monotonic()
        run.start()
        print(f"bot ready after {time.monotonic() - started:.1f} s", file=sys.stderr)
        try:
            upload = server.send_document(ADMIN_ID, ADMIN_ID, facts_document().encode(), "branches.md")
            reply = server.wait_for_message(ADMIN_ID, since=upload, timeout=120)
            if "추가했습니다" not in reply.plain_text:
                raise SystemExit(f"upload failed: {reply.plain_text}")
            warm = server.send_text(ADMIN_ID, ADMIN_ID, question_for(FACTS[0][0]))
            server.wait_for_message(ADMIN_ID, since=warm, timeout=60)
            if args.workers:
                time.sleep(2.0)  # the upload reaches the other workers' indexes (within a second)

            chats = list(range(900_000, 900_000 + args.chats))
            cities = [city for city, _ in FACTS]
            asked: dict[int, list[str]] = {chat: [] for chat in chats}
            sent_at: dict[int, list[float]] = {chat: [] for chat in chats}
            first = server.mark()
            began = time.monotonic()
            for turn in range(args.per_chat):
                for index, chat in enumerate(chats):
                    city = cities[(index * args.per_chat + turn) % len(cities)]
                    asked[chat].append(city)
                    server.send_text(chat, chat, question_for(city))
                    sent_at[chat].append(time.monotonic())
            queued = time.monotonic() - began

            arrived: dict[int, float] = {}  # id(BotMessage) -> first seen
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                messages = server.sent_messages(since=first)
                now = time.monotonic()
                for message in messages:
                    arrived.setdefault(id(message), now)
                if sum(1 for m in messages if m.chat_id in asked) >= total:
                    break
                time.sleep(0.002)
            elapsed = time.monotonic() - began
            if args.workers:
                server.webhook_acknowledged()
            else:
                server.wait_until_delivered()
            time.sleep(1.0)

            problems: list[str] = []
            latencies: list[float] = []
            for chat in chats:
                replies = server.sent_messages(chat, since=first)
                if len(replies) != args.per_chat:
                    problems.append(f"chat {chat}: {len(replies)} replies to {args.per_chat} questions")
                answered = [city_of_reply(r.plain_text) for r in replies]
                if answered != asked[chat]:
                    problems.append(f"chat {chat}: asked {asked[chat]}, answers name {answered}")
                for reply, sent in zip(replies, sent_at[chat], strict=False):
                    latencies.append(arrived.get(id(reply), time.monotonic()) - sent)
            strays = [m for m in server.sent_messages(since=first) if m.chat_id not in asked]
            if strays:
                problems.append(f"{len(strays)} replies in chats that asked nothing")
            if server.errors:
                problems.append(f"Bot API errors: {server.errors[:5]}")
        finally:
            code, _ = run.stop(timeout=20)

    mode = f"webhook, {args.workers} worker(s)" if args.workers else "long polling"
    print(f"{mode}, store: {args.database}, flood limit {args.messages_per_second} messages/s")
    print(f"questions: {total} from {args.chats} chats ({args.per_chat} each), queued in {queued:.2f} s")
    print(f"all answered after {elapsed:.2f} s: {total / elapsed:.1f} questions/s")
    if latencies:
        print(
            f"reply latency: p50 {percentile(latencies, 0.50) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms, "
            f"mean {statistics.mean(latencies) * 1000:.0f} ms"
        )
    print(f"exactly once, right chat, in order: {'yes' if not problems else 'NO'}; bot exit status {code}")
    for problem in problems[:20]:
        print("  " + problem)
    return 1 if problems or code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
