"""After an upload, one message that follows the new chunks' embeddings until they are done.

A document is answerable by its words as soon as it is stored; matching by meaning (other
words, English) follows when its chunks are embedded, about 0.1 s each on two cores, so a
large upload takes minutes. The admin sees how far it is instead of guessing.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message
from telegram.error import TelegramError

from retrieval.engine import Engine

log = logging.getLogger(__name__)

EDIT_EVERY_S = 5.0  # Telegram allows about one edit a second per chat; this is gentle and still alive
MIN_CHUNKS_TO_REPORT = 20  # smaller uploads are embedded before anyone could read a progress line


def progress_text(done: int, total: int) -> str:
    if done >= total:
        return f"🔎 의미 검색 준비를 마쳤습니다 (구절 {total:,}개). 이제 다른 말이나 영어로 물어도 찾습니다."
    return f"🔎 의미 검색 준비 중: 구절 {done:,}/{total:,}개. 그동안에도 문서의 낱말로는 바로 찾습니다."


async def follow_embeddings(reply_to: Message, engine: Engine) -> None:
    """Post the progress of the pending embeddings and edit it until the queue is empty."""
    semantic = engine.semantic
    if semantic is None:
        return
    done, total = semantic.progress
    if total - done < MIN_CHUNKS_TO_REPORT:
        return
    try:
        message = await reply_to.reply_text(progress_text(done, total))
        shown = (done, total)
        while semantic.busy:
            await asyncio.sleep(EDIT_EVERY_S)
            current = semantic.progress
            if current != shown and semantic.busy:
                await message.edit_text(progress_text(*current))
                shown = current
        await message.edit_text(progress_text(semantic.progress[1], semantic.progress[1]))
    except TelegramError as error:  # the progress line is a courtesy: never fail the upload over it
        log.warning("could not report embedding progress: %s", error)
