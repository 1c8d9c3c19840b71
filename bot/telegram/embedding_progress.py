"""After an upload, its reply follows the new chunks' embeddings until they are done.

A document is answerable by its words as soon as it is stored; matching by meaning (other
words, English) follows when its chunks are embedded, about 0.1 s each on two cores, so a
large upload takes minutes. The admin sees how far it is instead of guessing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Message
from telegram.error import TelegramError

from retrieval.engine import Engine

log = logging.getLogger(__name__)

POLL_S = 0.25  # how soon a stopping bot lets go of this task
EDIT_EVERY_S = 5.0  # Telegram allows about one edit a second per chat; this is gentle and still alive
MIN_CHUNKS_TO_REPORT = 20  # smaller uploads are embedded before anyone could read a progress line


def progress_text(done: int, total: int) -> str:
    if done >= total:
        return f"🔎 의미 검색 준비를 마쳤습니다 (구절 {total:,}개). 이제 다른 말이나 영어로 물어도 찾습니다."
    return f"🔎 의미 검색 준비 중: 구절 {done:,}/{total:,}개. 그동안에도 문서의 낱말로는 바로 찾습니다."


def pending_line(engine: Engine) -> str | None:
    """The progress line for a reply, when enough chunks wait for their vectors to be worth one."""
    semantic = engine.semantic
    if semantic is None:
        return None
    done, total = semantic.progress
    return progress_text(done, total) if semantic.busy and total - done >= MIN_CHUNKS_TO_REPORT else None


async def follow_embeddings(reply: Message, text: str, engine: Engine, running: Callable[[], bool]) -> None:
    """Edit `reply` (its `text` plus a progress line) as the new chunks are embedded, until they
    are done or the bot stops (`running` false): PTB waits for this task on shutdown."""
    semantic = engine.semantic
    if semantic is None:
        return
    try:
        shown = semantic.progress
        while semantic.busy:
            for _ in range(int(EDIT_EVERY_S / POLL_S)):
                await asyncio.sleep(POLL_S)
                if not running():
                    return
            current = semantic.progress
            if current != shown and semantic.busy:
                await reply.edit_text(f"{text}\n{progress_text(*current)}")
                shown = current
        total = semantic.progress[1]
        await reply.edit_text(f"{text}\n{progress_text(total, total)}")
    except TelegramError as error:  # the progress line is a courtesy: never fail the upload over it
        log.warning("could not report embedding progress: %s", error)
