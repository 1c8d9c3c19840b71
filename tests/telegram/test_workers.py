"""Two webhook workers (`qabot serve --workers 2`) on one PostgreSQL store, fed by the local
Bot API server as Telegram feeds a webhook: spread over both, each update answered exactly
once in its own chat, a corpus change reaching the other worker, a killed worker's updates
taken over. Marked slow (two Kiwi loads and bursts of 200), still in the default run."""

from __future__ import annotations

import signal
import socket
import time

import psutil
import psycopg
import pytest

from bot.cli import main
from tests.botapi import BotApiServer
from tests.reliability_load import FACTS, city_of_reply, facts_document, question_for
from tests.telegram.botprocess import ADMIN_ID, BOT_USERNAME, TOKEN, BotProcess

pytestmark = pytest.mark.slow

CHATS, PER_CHAT = 50, 4
SECRET = "shared-secret_of-every-machine"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _workers(process: BotProcess) -> list[psutil.Process]:
    """The worker processes (multiprocessing's resource tracker is a child too)."""
    return [child for child in psutil.Process(process.pid).children() if "spawn_main" in " ".join(child.cmdline())]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The server and a supervisor with two workers, the facts document uploaded."""
    from tests.postgres import fresh_schema

    base = tmp_path_factory.mktemp("qabot-workers")
    port = _free_port()
    with fresh_schema() as url, BotApiServer(token=TOKEN, bot_username=BOT_USERNAME) as server:
        process = BotProcess(
            server, base / "data", base, args=("--workers", "2"),
            QABOT_DATABASE_URL=url, QABOT_LOG_LEVEL="INFO", QABOT_RATE_LIMIT_PER_MINUTE="1000",
            TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", TELEGRAM_WEBHOOK_PORT=str(port),
            TELEGRAM_WEBHOOK_SECRET=SECRET,
        )
        process.start()
        try:
            upload = server.send_document(ADMIN_ID, ADMIN_ID, facts_document().encode(), "branches.md")
            assert "추가했습니다" in server.wait_for_message(ADMIN_ID, since=upload, timeout=60).plain_text
            time.sleep(CATCH_UP_S)  # the other worker has this long to see the upload (issue 24: within 5 s)
            yield server, process, url
        finally:
            if process.running:
                code, _ = process.stop(signal.SIGTERM)
                assert code == 0, process.output()[-3000:]
            assert TOKEN.partition(":")[2] not in process.output()


CATCH_UP_S = 5.0


def _burst(server: BotApiServer, first_chat: int) -> tuple[dict[int, list[str]], int]:
    chats = list(range(first_chat, first_chat + CHATS))
    cities = [city for city, _ in FACTS]
    asked: dict[int, list[str]] = {chat: [] for chat in chats}
    mark = server.mark()
    for turn in range(PER_CHAT):
        for index, chat in enumerate(chats):
            city = cities[(index * PER_CHAT + turn) % len(cities)]
            asked[chat].append(city)
            server.send_text(chat, chat, question_for(city))
    return asked, mark


def _assert_answered_once_each(server: BotApiServer, asked: dict[int, list[str]], mark: int) -> None:
    for chat in asked:
        server.wait_for_messages(chat, count=PER_CHAT, since=mark, timeout=180)
    server.webhook_acknowledged(timeout=60)
    time.sleep(0.5)
    for chat, cities in asked.items():
        replies = server.sent_messages(chat, since=mark)
        assert [city_of_reply(r.plain_text) for r in replies] == cities, f"chat {chat}"
    strays = [m for m in server.sent_messages(since=mark) if m.chat_id not in asked and m.chat_id != ADMIN_ID]
    assert strays == []


def _handlers(url: str, first_update_id: int) -> dict[str, int]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT worker, COUNT(*) FROM updates WHERE update_id >= %s AND finished_at IS NOT NULL GROUP BY worker",
            (first_update_id,),
        ).fetchall()
    return dict(rows)


def test_a_burst_is_spread_over_both_workers_and_answered_once_in_its_own_chat(cluster):
    server, process, url = cluster
    registered = server.calls("setWebhook")[-1].params
    assert registered["secret_token"] == SECRET and int(registered["max_connections"]) > 1
    assert len(_workers(process)) == 2
    first_update = server.updates()[-1]["update_id"] + 1
    asked, mark = _burst(server, 700_000)
    _assert_answered_once_each(server, asked, mark)
    handled = _handlers(url, first_update)
    assert len(handled) == 2 and sum(handled.values()) == CHATS * PER_CHAT, handled
    assert server.errors == []


def test_an_addition_through_one_worker_is_answered_by_the_other_within_five_seconds(cluster):
    server, process, url = cluster
    note = server.send_text(ADMIN_ID, ADMIN_ID, "# 주차 안내\n\n방문객 주차는 지하 3층 동편 구역에서만 가능합니다.")
    server.wait_for_message(ADMIN_ID, since=note)
    added = server.send_command(ADMIN_ID, ADMIN_ID, "/add", reply_to=note)
    add_update = server.updates()[-1]["update_id"]
    assert "추가했습니다" in server.wait_for_message(ADMIN_ID, since=added, timeout=60).plain_text
    with psycopg.connect(url) as connection:
        [(adder,)] = connection.execute("SELECT worker FROM updates WHERE update_id = %s", (add_update,)).fetchall()
    time.sleep(4.0)  # the other worker has had under five seconds to hear of it
    first_update = server.updates()[-1]["update_id"] + 1
    mark = server.mark()
    chats = list(range(710_000, 710_020))
    for chat in chats:
        server.send_text(chat, chat, "방문객 주차는 어디에서 할 수 있나요?")
    for chat in chats:
        [reply] = server.wait_for_messages(chat, count=1, since=mark, timeout=60)
        assert "지하 3층" in reply.plain_text, reply.plain_text
    server.webhook_acknowledged()
    assert set(_handlers(url, first_update)) - {adder}, "every question went to the worker that added"


@pytest.mark.xfail(
    strict=False,
    reason="known open: about half the runs answer one in-flight question twice after kill -9 "
    "(the reply was sent but its finish mark not yet written); nothing is lost",
)
def test_kill_9_of_a_worker_mid_burst_still_answers_every_question_once(cluster):
    server, process, url = cluster
    victim = _workers(process)[0]
    asked, mark = _burst(server, 720_000)
    server.wait_until(lambda: len(server.sent_messages(since=mark)) >= 30, timeout=120, what="30 replies")
    victim.send_signal(signal.SIGKILL)
    _assert_answered_once_each(server, asked, mark)
    assert 0 in server.webhook_answers() or 503 in server.webhook_answers()  # deliveries did fail, and were sent again
    server.wait_until(lambda: len(_workers(process)) == 2 or None, timeout=60, what="the worker's restart")
    assert "starting it again" in process.output()


def test_workers_without_a_webhook_url_exit_2_with_a_korean_reason(monkeypatch, capsys):
    monkeypatch.delenv("TELEGRAM_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert main(["serve", "--workers", "2"]) == 2
    assert "웹훅 모드에서만" in capsys.readouterr().err
