"""'typing…' while slow work runs: sent at once, then every few seconds (it lasts ~5 s)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

log = logging.getLogger(__name__)

REPEAT_SECONDS = 4.0


async def _send(bot: Bot, chat_id: int, action: str) -> None:
    try:
        await bot.send_chat_action(chat_id, action)
    except TelegramError as error:  # a missing typing indicator is no reason to fail
        log.debug("chat action failed in %s: %s", chat_id, error)


async def _repeat(bot: Bot, chat_id: int, action: str, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await _send(bot, chat_id, action)


@contextlib.asynccontextmanager
async def chat_action(
    bot: Bot, chat_id: int, action: str = ChatAction.TYPING, every: float = REPEAT_SECONDS
) -> AsyncIterator[None]:
    """Show `action` in the chat until the block ends."""
    await _send(bot, chat_id, action)
    task = asyncio.create_task(_repeat(bot, chat_id, action, every))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
