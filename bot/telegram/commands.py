"""/start, /help, /docs for everyone; /stats for admins."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.telegram.access import NOT_ADMIN, is_admin
from bot.telegram.help_text import docs_message, help_message, stats_message
from bot.telegram.htmltext import escape
from bot.telegram.services import Services, services


def _help(svc: Services, username: str, admin: bool) -> str:
    store = svc.engine.store
    return help_message(store.documents(), store.chunk_count(), svc.examples.get(), username, admin)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: what the bot knows, how to ask, example questions."""
    svc = services(context)
    text = await svc.run(_help, svc, context.bot.username, is_admin(svc.settings, update))
    await update.effective_message.reply_text(text)


async def on_docs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/docs: the documents with their ids."""
    svc = services(context)
    documents = await svc.run(svc.engine.store.documents)
    await update.effective_message.reply_text(docs_message(documents))


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: documents, chunks, questions and feedback (admins)."""
    svc = services(context)
    if not is_admin(svc.settings, update):
        await update.effective_message.reply_text(escape(NOT_ADMIN))
        return
    stats = await svc.run(svc.engine.store.stats)
    await update.effective_message.reply_text(stats_message(stats))
