"""Webhook mode end to end: the real bot process listening at TELEGRAM_WEBHOOK_URL, updates
POSTed to it by the local Bot API server with the secret header, as Telegram does."""

from __future__ import annotations

import json
import signal
import socket
import urllib.error
import urllib.request

import pytest

from tests.botapi import BotApiServer
from tests.telegram.botprocess import BOT_USERNAME, TOKEN, BotProcess
from tests.telegram.conftest import ask


pytestmark = pytest.mark.slow  # a real bot process in webhook mode

QUESTION = "1차 평가에서 탈락한 팀은 어디야?"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, update: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def webhook_bot(tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/qabot-hook"
    with BotApiServer(token=TOKEN, bot_username=BOT_USERNAME) as server:
        process = BotProcess(
            server, tmp_path / "data", tmp_path, TELEGRAM_WEBHOOK_URL=url, TELEGRAM_WEBHOOK_PORT=str(port)
        )
        process.start()
        try:
            yield server, process, url
        finally:
            if process.running:
                process.kill()


def test_webhook_mode_answers_refuses_forged_updates_and_stops_on_sigterm(webhook_bot):
    server, process, url = webhook_bot
    registered = server.calls("setWebhook")[-1]
    assert registered.params["url"] == url
    secret = registered.params["secret_token"]
    assert len(secret) >= 32 and TOKEN.partition(":")[2] not in secret  # random per start when unset

    user = 4001
    reply = ask(server, user, user, QUESTION)
    assert "네이버클라우드" in reply.plain_text and "NC AI" in reply.plain_text
    server.webhook_acknowledged()  # answered 200 once the reply was sent
    assert 200 in server.webhook_answers()

    forged = {
        "update_id": 99_999,
        "message": {
            "message_id": 1, "date": 0, "text": "/docs",
            "chat": {"id": 4002, "type": "private", "first_name": "Mallory"},
            "from": {"id": 4002, "is_bot": False, "first_name": "Mallory"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    assert _post(url, forged, secret=None) == 403
    assert _post(url, forged, secret="not-the-secret") == 403
    probe = server.send_command(user, user, "/docs")  # handled after anything before it
    server.wait_for_message(user, since=probe)
    assert server.sent_messages(4002) == []

    code, seconds = process.stop(signal.SIGTERM)
    assert code == 0 and seconds < 5, (code, seconds, process.output()[-2000:])
    assert server.errors == []
    output = process.output()
    assert "webhook mode" in output
    for form in (TOKEN, TOKEN.replace(":", "%3A"), TOKEN.partition(":")[2]):
        assert form not in output
