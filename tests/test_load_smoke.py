"""A small version of tests/load_bench.py: 20 questions from 5 chats, sent all at once.

Every question is answered exactly once, in its own chat, and each chat's answers come in
the order its questions were asked. Each question has one right answer (a name found
nowhere else), so a reply shows which question it answers. No timing is asserted.
"""

from __future__ import annotations

import time

import pytest

from tests.reliability_bot import ADMIN_ID, SharedBot, fresh_id, shared_bot
from tests.reliability_load import FACTS, city_of_reply, facts_document, question_for


pytestmark = pytest.mark.slow  # many chats against the real bot

CHATS = 5
PER_CHAT = 4


@pytest.fixture(scope="module")
def bot(request: pytest.FixtureRequest) -> SharedBot:
    bot = shared_bot(request)
    server = bot.server
    reply = server.wait_for_message(
        ADMIN_ID, since=server.send_document(ADMIN_ID, ADMIN_ID, facts_document().encode(), "branches.md"), timeout=60
    )
    assert "추가했습니다" in reply.plain_text or "이미 같은 내용" in reply.plain_text, reply.plain_text
    return bot


def test_questions_from_many_chats_are_answered_once_in_order(bot: SharedBot) -> None:
    server = bot.server
    errors = len(server.errors)
    chats = [fresh_id() for _ in range(CHATS)]
    asked: dict[int, list[str]] = {chat: [] for chat in chats}
    first = server.mark()
    cities = [city for city, _ in FACTS]
    for turn in range(PER_CHAT):  # interleaved, as many users typing at once
        for index, chat in enumerate(chats):
            city = cities[(index * PER_CHAT + turn) % len(cities)]
            asked[chat].append(city)
            server.send_text(chat, chat, question_for(city))
    for chat in chats:
        server.wait_for_messages(chat, count=PER_CHAT, since=first, timeout=120)
    server.wait_until_delivered()
    time.sleep(0.5)
    for chat in chats:
        replies = server.sent_messages(chat, since=first)
        assert len(replies) == PER_CHAT, f"chat {chat}: {len(replies)} replies to {PER_CHAT} questions"
        assert [city_of_reply(reply.plain_text) for reply in replies] == asked[chat]
    others = [m for m in server.sent_messages(since=first) if m.chat_id not in asked]
    assert others == [], "replies went to chats that asked nothing"
    assert server.errors[errors:] == []
