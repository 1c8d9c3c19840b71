"""'typing…' is repeated while slow work runs, and stops when it ends (real Bot, fake server)."""

from __future__ import annotations

import asyncio

from telegram import Bot

from bot.telegram.chat_action import chat_action
from tests.botapi import BotApiServer


def test_typing_is_repeated_during_slow_work_and_stops_after():
    with BotApiServer(token="43:chat-action-test") as server:
        server.add_chat(5, "private")

        async def scenario() -> None:
            async with Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url) as bot:
                async with chat_action(bot, 5, every=0.1):
                    await asyncio.sleep(0.45)
                await asyncio.sleep(0.2)  # a request cancelled in flight may still land
                settled = server.call_count("sendChatAction")
                await asyncio.sleep(0.4)
                assert server.call_count("sendChatAction") == settled

        asyncio.run(scenario())
        calls = server.calls("sendChatAction")
        assert len(calls) >= 3 and all(c.params["action"] == "typing" for c in calls)
        assert server.errors == []
