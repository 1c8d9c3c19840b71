"""Groups: the bot speaks only when mentioned, replied to, or asked with /ask."""

from __future__ import annotations

import pytest

from tests.telegram.conftest import assert_silent


pytestmark = pytest.mark.slow  # the real bot end to end against the local Bot API server

QUESTION = "1차 평가에서 탈락한 팀은?"


def test_plain_group_messages_are_ignored_and_mentions_answered(server, bot, ids):
    group, user = -ids(), ids()
    ignored = server.send_text(group, user, QUESTION, title="테스트 그룹")
    assert_silent(server, group, since=ignored)
    mention = server.send_text(group, user, f"@qabot_test_bot {QUESTION}")
    [reply] = server.wait_for_messages(group, since=ignored)
    assert reply.reply_to_message_id == mention["message_id"]
    assert "네이버클라우드" in reply.plain_text and "[1]" in reply.plain_text


def test_mention_in_the_middle_and_other_bots_mentions(server, bot, ids):
    group, user = -ids(), ids()
    other = server.send_text(group, user, f"@other_bot {QUESTION}")
    assert_silent(server, group, since=other)
    sent = server.send_text(group, user, f"{QUESTION} @QABOT_TEST_BOT")
    reply = server.wait_for_message(group, since=sent)
    assert "NC AI" in reply.plain_text


def test_a_reply_to_the_bot_is_a_question(server, bot, ids):
    group, user = -ids(), ids()
    first = server.send_text(group, user, f"@qabot_test_bot {QUESTION}")
    answer = server.wait_for_message(group, since=first)
    follow_up = server.send_text(group, user, "종합 점수 1위를 기록한 곳은?", reply_to=answer)
    reply = server.wait_for_message(group, since=follow_up)
    assert reply.reply_to_message_id == follow_up["message_id"]
    assert "LG AI연구원" in reply.plain_text


def test_a_reply_to_someone_else_is_ignored(server, bot, ids):
    group, user, friend = -ids(), ids(), ids()
    said = server.send_text(group, friend, "점심 뭐 먹지?")
    reply = server.send_text(group, user, QUESTION, reply_to=said)
    assert_silent(server, group, since=reply)


def test_ask_command_with_and_without_the_bot_name(server, bot, ids):
    group, user = -ids(), ids()
    for command in ("/ask", "/ask@qabot_test_bot"):
        sent = server.send_command(group, user, f"{command} {QUESTION}")
        reply = server.wait_for_message(group, since=sent)
        assert "네이버클라우드" in reply.plain_text
    not_ours = server.send_command(group, user, f"/ask@other_bot {QUESTION}")
    assert_silent(server, group, since=not_ours)


def test_bare_mention_gets_a_hint(server, bot, ids):
    group, user = -ids(), ids()
    sent = server.send_text(group, user, "@qabot_test_bot")
    assert "질문" in server.wait_for_message(group, since=sent).plain_text


def test_channel_posts_are_ignored(server, bot, ids):
    channel = -(10**12) - ids()
    post = server.channel_post(channel, f"@qabot_test_bot {QUESTION}")
    assert_silent(server, channel, since=post)
