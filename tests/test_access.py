"""Only admins change the corpus: every admin command and upload from anyone else is refused.

Admin-only (bot/telegram/access.py): file uploads, /add, /remove, /stats; /docs, /help and
questions are for everyone. Checked in private chats, groups (also when the sender is an
administrator of the Telegram group, which is not a qabot admin) and channel posts, with a
stranger who copies the admin's username and name: admins are user ids, not names. The
real admin, under another username, is let in, so the refusals are not an accident.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

import pytest

from tests.botapi import BotMessage
from tests.reliability_bot import ADMIN_ID, ADMIN_USERNAME, BOT_USERNAME, SharedBot, fresh_id, shared_bot


pytestmark = pytest.mark.slow  # the real bot end to end against the local Bot API server

REFUSED = "관리자만"
DOC = "# 출입 통제 시험 문서\n\n비밀 금고의 열쇠는 세 번째 서랍에 있습니다.\n".encode()


@pytest.fixture(scope="module")
def bot(request: pytest.FixtureRequest) -> SharedBot:
    return shared_bot(request)


def _corpus(bot: SharedBot) -> tuple[int, list[str]]:
    """(generation, document ids) read from the bot's store."""
    with closing(sqlite3.connect(bot.run.data_dir / "qabot.sqlite3")) as connection:
        generation = int(connection.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        ids = [row[0] for row in connection.execute("SELECT id FROM documents ORDER BY id")]
    return generation, ids


def _reply(bot: SharedBot, chat_id: int, sent: dict) -> BotMessage:
    return bot.server.wait_for_message(chat_id, since=sent, timeout=60)


def _assert_refused(bot: SharedBot, chat_id: int, sent: dict) -> None:
    reply = _reply(bot, chat_id, sent)
    assert REFUSED in reply.plain_text, reply.plain_text


@pytest.fixture(scope="module")
def some_doc_id(bot: SharedBot) -> str:
    ids = _corpus(bot)[1]
    assert ids, "the bot's store should hold the bundled document"
    return ids[0]


def test_non_admin_in_private_chat_is_refused(bot: SharedBot, some_doc_id: str) -> None:
    server = bot.server
    before, downloads = _corpus(bot), len(server.downloads())
    stranger = fresh_id()
    server.add_user(stranger, first_name="Admin", username=ADMIN_USERNAME)  # the admin's name, not their id
    for attempt in (
        lambda: server.send_document(stranger, stranger, DOC, "vault.txt"),
        lambda: server.send_document(stranger, stranger, DOC, "vault.md", caption="/add 금고"),
        lambda: server.send_command(stranger, stranger, f"/remove {some_doc_id}"),
        lambda: server.send_command(stranger, stranger, "/stats"),
        lambda: server.send_command(stranger, stranger, "/add"),
    ):
        _assert_refused(bot, stranger, attempt())
    text = server.send_text(stranger, stranger, "비밀 금고의 열쇠는 세 번째 서랍에 있습니다.")
    _reply(bot, stranger, text)  # a question, answered (or refused as a question)
    _assert_refused(bot, stranger, server.send_command(stranger, stranger, "/add 내 글", reply_to=text))
    assert _corpus(bot) == before
    assert len(server.downloads()) == downloads, "a non-admin's file was downloaded"
    docs = _reply(bot, stranger, server.send_command(stranger, stranger, "/docs"))  # for everyone
    assert REFUSED not in docs.plain_text and some_doc_id in docs.plain_text
    assert server.errors == []


@pytest.mark.parametrize("group_admin", [False, True], ids=["member", "telegram group admin"])
def test_non_admin_in_a_group_is_refused(bot: SharedBot, some_doc_id: str, group_admin: bool) -> None:
    server = bot.server
    before, downloads = _corpus(bot), len(server.downloads())
    stranger, group = fresh_id(), -fresh_id()
    server.add_user(stranger, first_name="Admin", username=ADMIN_USERNAME)
    server.add_chat(group, "group", title="시험 그룹")
    if group_admin:
        server.set_chat_admins(group, [stranger], creator=stranger)
    mention = f"@{BOT_USERNAME}"
    for attempt in (
        lambda: server.send_document(group, stranger, DOC, "vault.txt", caption="/add"),
        lambda: server.send_document(group, stranger, DOC, "vault.txt", caption=f"/add{mention} 금고"),
        lambda: server.send_command(group, stranger, f"/remove{mention} {some_doc_id}"),
        lambda: server.send_command(group, stranger, f"/remove {some_doc_id}"),
        lambda: server.send_command(group, stranger, "/stats"),
    ):
        _assert_refused(bot, group, attempt())
    text = server.send_text(group, stranger, "그룹에 올린 글입니다. 열쇠는 서랍에 있습니다.")
    _assert_refused(bot, group, server.send_command(group, stranger, f"/add{mention}", reply_to=text))
    silent = server.send_document(group, stranger, DOC, "plain-upload.txt")  # no caption: not for the bot
    server.wait_until_delivered()
    time.sleep(0.5)
    assert server.sent_messages(group, since=silent) == []
    assert _corpus(bot) == before
    assert len(server.downloads()) == downloads
    assert server.errors == []


def test_channel_posts_change_nothing(bot: SharedBot, some_doc_id: str) -> None:
    server = bot.server
    before = _corpus(bot)
    channel = -1_000_000_000_000 - fresh_id()
    posts = [
        server.channel_post(channel, text, title="시험 채널", author_signature="Admin")
        for text in ("/add", f"/remove {some_doc_id}", f"/remove@{BOT_USERNAME} {some_doc_id}", "/stats")
    ]
    server.wait_until_delivered()
    time.sleep(0.5)
    for post in posts:
        replies = server.sent_messages(channel, since=post)
        assert all(REFUSED in reply.plain_text for reply in replies)  # silence or a refusal
    assert _corpus(bot) == before
    assert server.errors == []


def test_admin_is_known_by_id_not_by_name(bot: SharedBot) -> None:
    """The real admin, under another username and name, may upload, see /stats and remove."""
    server = bot.server
    server.add_user(ADMIN_ID, first_name="Someone", username="not_the_boss")
    generation, ids = _corpus(bot)
    stats = _reply(bot, ADMIN_ID, server.send_command(ADMIN_ID, ADMIN_ID, "/stats"))
    assert REFUSED not in stats.plain_text
    added = _reply(bot, ADMIN_ID, server.send_document(ADMIN_ID, ADMIN_ID, DOC, "access-check.txt"))
    assert "추가했습니다" in added.plain_text, added.plain_text
    new_ids = sorted(set(_corpus(bot)[1]) - set(ids))
    assert len(new_ids) == 1
    removed = _reply(bot, ADMIN_ID, server.send_command(ADMIN_ID, ADMIN_ID, f"/remove {new_ids[0]}"))
    assert "삭제했습니다" in removed.plain_text, removed.plain_text
    assert _corpus(bot) == (generation + 2, ids)
    assert server.errors == []
