"""The Application's error handler: log the failing update by id, apologise, carry on."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

log = logging.getLogger(__name__)

APOLOGY = "죄송합니다. 요청을 처리하다 문제가 생겼습니다. 잠시 후 다시 시도해 주세요."


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error with the update id and tell the user briefly; never raise."""
    if not isinstance(update, Update):
        log.error("error outside an update: %s", context.error, exc_info=context.error)
        return
    log.error("update %s failed: %r", update.update_id, context.error, exc_info=context.error)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(APOLOGY, show_alert=False)
        elif update.effective_message is not None and update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, APOLOGY, parse_mode=None)
    except TelegramError as error:
        log.warning("could not send the apology for update %s: %s", update.update_id, error)
