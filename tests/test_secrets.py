"""The bot token never shows: not in a log line (at DEBUG), a reply, an error or an exception.

The shared reliability bot runs at QABOT_LOG_LEVEL=DEBUG with a recognisable token; this
module makes it answer, press buttons, answer an inline query, download an admin's file,
fail a download (the file is gone from the server) and refuse bad input, then searches
everything it wrote and sent for the token: raw, URL-encoded (`%3A`) and its secret part.
A second bot process (started beside the shared one) has a token the server rejects, the
classic leak (PTB's InvalidToken message quotes the token): it must exit with status 1 and
say nothing of it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.reliability_bot import ADMIN_ID, TOKEN, TOKEN_FORMS, WRONG_TOKEN, SharedBot, fresh_id, shared_bot

WRONG_FORMS = (WRONG_TOKEN, WRONG_TOKEN.replace(":", "%3A"), WRONG_TOKEN.replace(":", "%3a"), WRONG_TOKEN.partition(":")[2])
DOC = "# 비밀 시험 문서\n\n은하수 도서관의 사서는 박별님입니다.\n".encode()


def _leaks(text: str, forms: tuple[str, ...]) -> list[str]:
    return [form for form in forms if form in text]


@pytest.fixture(scope="module")
def bot(request: pytest.FixtureRequest) -> SharedBot:
    return shared_bot(request)


def test_token_is_in_no_log_line_reply_or_error(bot: SharedBot) -> None:
    server = bot.server
    mark = server.mark()
    user = fresh_id()
    answer = server.wait_for_message(user, since=server.send_text(user, user, "1차 평가에서 탈락한 팀은 어디인가요?"))
    for data in answer.callback_data[:2]:
        server.wait_for_query_answer(server.press_button(answer, data, user))
    server.wait_for_query_answer(server.inline_query(user, "탈락한 팀"))
    server.wait_for_message(user, since=server.send_text(user, user, "질문" * 2000))  # refused: too long
    forged = server.press_button(answer, "x" * 64, user, check=False)
    server.wait_for_query_answer(forged)

    downloads = len(server.downloads())
    added = server.wait_for_message(ADMIN_ID, since=server.send_document(ADMIN_ID, ADMIN_ID, DOC, "secret-check.txt"))
    assert "추가했습니다" in added.plain_text, added.plain_text
    assert len(server.downloads()) == downloads + 1, "the admin's file was not downloaded"
    doc_id = next(line.split("ID:")[1].strip() for line in added.plain_text.splitlines() if line.startswith("ID:"))

    # A download that fails: the server no longer has the file behind the path getFile gives
    # (set through the test server's internals, under its lock, before the bot can ask).
    with server._lock:
        sent = server.send_document(ADMIN_ID, ADMIN_ID, DOC + b"2", "gone.txt")
        server._files[sent["document"]["file_id"]].file_path = "documents/gone-for-good.txt"
    apology = server.wait_for_message(ADMIN_ID, since=sent, fail_fast=False)
    server.wait_for_message(ADMIN_ID, since=server.send_command(ADMIN_ID, ADMIN_ID, f"/remove {doc_id}"))

    output = bot.run.output()
    assert " DEBUG " in output, "the bot should log at DEBUG here"
    assert _leaks(output, TOKEN_FORMS) == [], "the token is in the bot's output"
    calls = json.dumps([call.params for call in server.calls(since=mark)], ensure_ascii=False, default=str)
    assert _leaks(calls, TOKEN_FORMS) == [], "the token is in something the bot sent"
    assert any(word in apology.plain_text for word in ("못했습니다", "죄송합니다")), apology.plain_text
    assert _leaks(apology.plain_text, TOKEN_FORMS) == []
    assert server.errors == []


def test_rejected_token_is_not_printed(bot: SharedBot) -> None:
    wrong_token_run = bot.rejected
    try:
        code = wrong_token_run.process.wait(timeout=180)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the bot with a rejected token did not exit:\n{wrong_token_run.output()[-2000:]}")
    output = wrong_token_run.output()
    assert code == 1, output[-2000:]
    assert "token" in output.lower()  # it says what is wrong…
    assert _leaks(output, WRONG_FORMS) == [], output[-2000:]  # …without showing it
    assert not wrong_token_run.data_dir.exists(), "the token is checked before the store is made"
    assert _leaks(output, TOKEN_FORMS) == []


def test_token_not_in_the_data_dir(bot: SharedBot) -> None:
    for path in Path(bot.run.data_dir).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(form.encode() in data for form in TOKEN_FORMS), path
    assert TOKEN  # imported for the forms above
