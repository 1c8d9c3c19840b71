"""Uploads cut short by a crash: remembered while they run, reported to the admin after a restart.

PTB confirms an update as soon as it is fetched, so an upload that was being indexed
when the process died is not delivered again. The store keeps a note for the length of
each upload; at start-up every note left behind becomes a message asking to resend.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Message, ReplyParameters
from telegram.error import TelegramError
from telegram.ext import Application

from bot.telegram.htmltext import escape, shorten
from corpus.stores import CorpusStore

log = logging.getLogger(__name__)


@asynccontextmanager
async def remembered_upload(store: CorpusStore, message: Message, label: str) -> AsyncIterator[None]:
    notify = json.dumps({"chat_id": message.chat_id, "message_id": message.message_id})
    addition = store.begin_addition(label, f"telegram:{message.from_user.id if message.from_user else ''}", notify)
    try:
        yield
    finally:
        store.end_addition(addition)


async def report_interrupted_uploads(application: Application, store: CorpusStore) -> None:
    """Tell each admin whose upload a crash cut short to check /docs and resend it."""
    for addition in store.interrupted_additions():
        try:
            target = json.loads(addition.notify)
            await application.bot.send_message(
                chat_id=target["chat_id"],
                text=(
                    f"⚠️ 봇이 다시 시작되어 <b>{escape(shorten(addition.label, 80))}</b> 추가가 끝나지 않았습니다. "
                    "문서는 추가되지 않았거나 온전히 추가되었습니다. /docs 로 확인하고, 없으면 파일을 다시 보내 주세요."
                ),
                reply_parameters=ReplyParameters(target["message_id"], allow_sending_without_reply=True),
            )
        except (TelegramError, ValueError, KeyError, TypeError) as error:
            log.warning("could not report interrupted upload %d: %s", addition.id, error)
        store.end_addition(addition.id)
