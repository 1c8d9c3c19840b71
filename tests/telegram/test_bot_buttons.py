"""Buttons under answers: 원문 보기, 더 보기, 👍/👎 (stored, exported), forged data."""

from __future__ import annotations

import pytest

import json
import subprocess
import sys

from tests.telegram.conftest import ask


pytestmark = pytest.mark.slow  # the real bot end to end against the local Bot API server

QUESTION = "1차 평가에서 탈락한 팀은 어디야?"


def press(server, message, data, user):
    query_id = server.press_button(message, data, user, check=False)
    return server.wait_for_query_answer(query_id)


def test_source_button_shows_the_whole_passage(server, bot, ids):
    user = ids()
    reply = ask(server, user, user, QUESTION)
    mark = server.mark()
    answer = press(server, reply, reply.button(contains="원문")["callback_data"], user)
    assert not answer.get("text")
    [source] = server.wait_for_messages(user, since=mark)
    assert source.reply_to_message_id == reply.message_id
    assert "원문" in source.plain_text and "이번 평가에서 탈락한 팀은 다음과 같습니다" in source.plain_text
    assert "대한민국 독자 AI 파운데이션 모델" in source.plain_text


def test_more_button_shows_further_passages(server, bot, ids):
    user = ids()
    reply = ask(server, user, user, QUESTION)
    mark = server.mark()
    press(server, reply, reply.button(contains="더 보기")["callback_data"], user)
    [more] = server.wait_for_messages(user, since=mark)
    assert "더 찾은 구절" in more.plain_text
    shown = len([b for b in reply.buttons if "원문" in b["text"]]) + reply.plain_text.count("\n[")
    assert f"[{shown + 1}]" in more.plain_text or "[3]" in more.plain_text or "[4]" in more.plain_text


def test_feedback_is_stored_and_exported(server, bot, ids, tmp_path):
    user = ids()
    good = ask(server, user, user, QUESTION)
    assert "저장" in press(server, good, good.button("👍")["callback_data"], user)["text"]
    bad = ask(server, user, user, "2차 단계에서는 무엇을 평가하나요?")
    assert "저장" in press(server, bad, bad.button("👎")["callback_data"], user)["text"]
    refused = ask(server, user, user, "비트코인 시세는 얼마야?")
    press(server, refused, refused.button("👍")["callback_data"], user)

    export = tmp_path / "cases.jsonl"
    env = bot.env() | {"QABOT_LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "feedback", "--export", str(export)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    cases = [json.loads(line) for line in export.read_text("utf-8").splitlines()]
    by_question = {c["question"]: c for c in cases}
    case = by_question[QUESTION]
    assert "네이버클라우드" in case["answers"] and "NC AI" in case["answers"]
    assert case["evidence"] and case.get("answerable", True)
    assert by_question["비트코인 시세는 얼마야?"]["answerable"] is False
    review = [json.loads(line) for line in (tmp_path / "cases.review.jsonl").read_text("utf-8").splitlines()]
    assert any(r["question"] == "2차 단계에서는 무엇을 평가하나요?" and r["needs_review"] for r in review)


def test_forged_and_unknown_buttons_are_answered_politely(server, bot, ids):
    user = ids()
    reply = ask(server, user, user, QUESTION)
    mark = server.mark()
    for data in ("garbage", "s:999999999:abcdef1234", "m:999999999:1", "f:999999999:+", "m:1:99", "ä" * 16):
        answer = press(server, reply, data, user)
        assert answer.get("text"), data
    assert server.sent_messages(user, since=mark) == []
    assert "네이버클라우드" in ask(server, user, user, QUESTION).plain_text


def test_another_users_question_cannot_be_reached_by_forged_data(server, bot, ids):
    victim, forger = ids(), ids()
    theirs = ask(server, victim, victim, "1차 평가 결과는 언제 발표되었나요?")
    mine = ask(server, forger, forger, "종합 점수 1위를 기록한 곳은?")
    mark = server.mark()
    for data in set(theirs.callback_data) - set(mine.callback_data):  # valid, but not on the pressed message
        answer = press(server, mine, data, forger)
        assert "더 이상 쓸 수 없습니다" in answer["text"]
    assert server.sent_messages(forger, since=mark) == []
