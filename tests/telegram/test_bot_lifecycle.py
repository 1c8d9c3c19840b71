"""Starting without a token, SIGTERM, restarts (old buttons still work), no token in logs."""

from __future__ import annotations

import pytest

import os
import signal
import subprocess
import sys

from tests.telegram.botprocess import REPO, TOKEN
from tests.telegram.conftest import ADMIN_ID, ask


pytestmark = pytest.mark.slow  # starts and signals real bot processes

QUESTION = "1차 평가에서 탈락한 팀은 어디야?"


def test_without_a_token_serve_explains_botfather_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "QABOT_"))}
    env.update(QABOT_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO))
    for command in (["-m", "bot"], ["-m", "bot.cli", "serve"]):
        done = subprocess.run(
            [sys.executable, *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2
        assert "@BotFather" in done.stderr and "/newbot" in done.stderr and "qabot chat" in done.stderr
        assert "Traceback" not in done.stderr


def test_sigterm_restart_and_buttons_pressed_after_it(server, bot, ids):
    user = ids()
    reply = ask(server, user, user, QUESTION)
    # a file download, whose URL carries the token URL-encoded, before looking at the log
    sent = server.send_document(ADMIN_ID, ADMIN_ID, "# 재시작 시험\n\n재시작 시험 문서입니다.".encode(), "restart.md")
    added = server.wait_for_message(ADMIN_ID, since=sent, timeout=60)
    doc_id = added.plain_text.split("ID:")[1].split()[0]
    removed = server.send_command(ADMIN_ID, ADMIN_ID, f"/remove {doc_id}")
    server.wait_for_message(ADMIN_ID, since=removed)

    code, seconds = bot.stop(signal.SIGTERM)
    assert code == 0 and seconds < 5, (code, seconds)
    output = bot.output()
    assert "DEBUG" in output and "[TOKEN]" in output  # the redactor had work to do
    for form in (TOKEN, TOKEN.replace(":", "%3A"), TOKEN.replace(":", "%3a"), TOKEN.partition(":")[2]):
        assert form not in output

    bot.start()
    mark = server.mark()
    query = server.press_button(reply, reply.button(contains="원문")["callback_data"], user)
    server.wait_for_query_answer(query)
    source = server.wait_for_message(user, since=mark)
    assert "이번 평가에서 탈락한 팀은 다음과 같습니다" in source.plain_text
    mark = server.mark()
    server.wait_for_query_answer(server.press_button(reply, reply.button(contains="더 보기")["callback_data"], user))
    assert "더 찾은 구절" in server.wait_for_message(user, since=mark).plain_text
    vote = server.wait_for_query_answer(server.press_button(reply, reply.button("👍")["callback_data"], user))
    assert "저장" in vote["text"]
