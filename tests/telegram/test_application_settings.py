"""How settings reach PTB: endpoints, local mode only on request, the webhook secret, flood control."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from telegram.error import RetryAfter

from bot.settings import load_settings
from bot.telegram.application import FloodControl, build_application
from bot.telegram.workers import Supervisor
from corpus.errors import QabotError
from corpus.store import Store
from retrieval.engine import Engine

TOKEN = "123:secret-part-of-the-token"


@pytest.fixture
def engine(tmp_path, analyzer):
    engine = Engine(Store(tmp_path / "store.sqlite3"), analyzer)
    yield engine
    engine.close()


@pytest.mark.parametrize(("local", "expected"), [("", False), ("0", False), ("1", True)])
def test_endpoints_and_local_mode(tmp_path, engine, local, expected):
    settings = load_settings(
        {
            "QABOT_DATA_DIR": str(tmp_path),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "TELEGRAM_LOCAL_MODE": local,
        }
    )
    bot = build_application(settings, engine).bot
    assert bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    assert bot.local_mode is expected


def test_webhook_secret_comes_from_the_environment_else_is_random_per_start(tmp_path):
    given = load_settings({"QABOT_DATA_DIR": str(tmp_path), "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "s3cret_-x"})
    assert Supervisor(given, 2).secret == "s3cret_-x"
    assert "s3cret" not in repr(given)
    unset = load_settings({"QABOT_DATA_DIR": str(tmp_path), "TELEGRAM_BOT_TOKEN": TOKEN})
    first, second = Supervisor(unset, 1).secret, Supervisor(unset, 1).secret
    assert first != second and len(first) >= 32 and TOKEN.partition(":")[2] not in first
    with pytest.raises(QabotError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings({"QABOT_DATA_DIR": str(tmp_path), "TELEGRAM_WEBHOOK_SECRET": "has space"})


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB reads its own retry_after
def test_flood_control_retries_after_a_429_and_reports_replies():
    replies: list[str] = []
    control = FloodControl(workers=2, after_reply=lambda: replies.append("replied"))
    assert control._base_limiter.max_rate == 15  # this worker's share of 30 messages/s
    calls: list[float] = []

    async def flooded_once(*args, **kwargs):
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RetryAfter(dt.timedelta(seconds=1))
        return {"ok": True}

    async def scenario():
        await control.initialize()
        await control.process_request(flooded_once, (), {}, "sendMessage", {"chat_id": 5}, None)
        await control.process_request(flooded_once, (), {}, "getMe", {}, None)
        await control.shutdown()

    asyncio.run(scenario())
    assert len(calls) == 3 and calls[1] - calls[0] >= 1.0  # retry_after waited out, then the call again
    assert replies == ["replied"]  # only the message counts as a reply
