"""Fixtures: one strict fake Bot API server and one real bot process (`python -m bot`) per session.

Kiwi takes several seconds to load, so the bot process is shared; tests keep apart by
using chat and user ids of their own (`ids`). After every end-to-end test the server must
have answered every bot call with success, unless the test asked for `expect_api_errors`.
"""

from __future__ import annotations

import itertools
import signal

import pytest

from tests.botapi import BotApiServer, BotMessage
from tests.telegram.botprocess import ADMIN_ID, BOT_USERNAME, TOKEN, BotProcess

_ids = itertools.count(20_000)


@pytest.fixture(scope="session")
def server():
    with BotApiServer(token=TOKEN, bot_username=BOT_USERNAME) as server:
        yield server


@pytest.fixture(scope="session")
def bot_process(server, tmp_path_factory):
    base = tmp_path_factory.mktemp("qabot-telegram")
    process = BotProcess(server, base / "data", base)
    yield process
    if process.running:
        code, _ = process.stop(signal.SIGINT)
        assert code == 0, process.output()[-3000:]
    for form in (TOKEN, TOKEN.replace(":", "%3A"), TOKEN.partition(":")[2]):
        assert form not in process.output()


@pytest.fixture
def bot(bot_process, server, request):
    """The running bot; fails the test if the server rejected any of the bot's calls."""
    bot_process.ensure_running()
    errors_before = len(server.errors)
    yield bot_process
    if "expect_api_errors" not in request.fixturenames:
        assert server.errors[errors_before:] == []


@pytest.fixture
def expect_api_errors():
    """Marks a test that provokes Bot API errors on purpose."""


@pytest.fixture
def ids():
    """A fresh id (for a user and their private chat) per call."""
    return lambda: next(_ids)


def ask(server: BotApiServer, chat_id: int, user_id: int, text: str, **kwargs) -> BotMessage:
    """Send `text` as the user and return the bot's first message after it."""
    sent = server.send_text(chat_id, user_id, text, **kwargs)
    return server.wait_for_message(chat_id, since=sent)


def assert_silent(server: BotApiServer, chat_id: int, since) -> None:
    """The bot handled everything sent so far and sent nothing to `chat_id` after `since`.

    Updates are processed in order, so once a later probe (/docs in a private chat of
    its own) is answered, every earlier update has been handled."""
    probe_chat = next(_ids)
    probe = server.send_command(probe_chat, probe_chat, "/docs")
    server.wait_for_message(probe_chat, since=probe)
    assert server.sent_messages(chat_id, since=since) == []


__all__ = ["ADMIN_ID", "ask", "assert_silent"]
