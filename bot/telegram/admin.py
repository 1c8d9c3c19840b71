"""Corpus changes by admins: file uploads (caption /add optional), /add as a reply, /remove.

Downloads and indexing run off the event loop and these handlers are registered with
block=False, so a long upload never holds up other chats' questions. Every reply names
the title, chunk count and new id, or exactly why nothing changed.
"""

from __future__ import annotations

import logging
import mimetypes
import re

from telegram import Document, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.telegram.access import NOT_ADMIN, is_admin
from bot.telegram.chat_action import chat_action
from bot.telegram.htmltext import escape, shorten
from bot.telegram.embedding_progress import follow_embeddings, pending_line
from bot.telegram.interrupted import remembered_upload
from bot.telegram.questions import command_text
from bot.telegram.services import services
from corpus.errors import QabotError, TooLarge
from corpus.loaders import SUPPORTED_EXTENSIONS, safe_filename
from retrieval.engine import AddedDocument

log = logging.getLogger(__name__)

BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile on api.telegram.org; local mode has none
DOWNLOAD_TIMEOUT = 120
_ADD_CAPTION = re.compile(r"^/add(?:@(\w+))?(?:\s+(.*))?$", re.DOTALL | re.IGNORECASE)
_EXTENSIONS = {
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/html": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
ADD_USAGE = (
    "문서를 추가하려면 파일(.txt .md .html .pdf .docx)을 보내거나, "
    "추가할 글에 답장으로 <code>/add [제목]</code> 을 보내 주세요."
)
REMOVE_USAGE = "삭제할 문서의 ID를 함께 보내 주세요. 예: <code>/remove 4d390042ac</code> (ID는 /docs 에 있습니다)"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _limit(settings) -> int:
    return settings.max_upload_bytes if settings.local_mode else min(settings.max_upload_bytes, BOT_API_DOWNLOAD_LIMIT)


def _file_name(document: Document) -> str:
    """The sender's file name, made safe; an extension from the MIME type when it has none we read."""
    name = safe_filename(document.file_name or "document")
    extension = _EXTENSIONS.get(document.mime_type or "") or mimetypes.guess_extension(document.mime_type or "") or ""
    if extension in SUPPORTED_EXTENSIONS and not name.lower().endswith(SUPPORTED_EXTENSIONS):
        name += extension
    return name


def _added_text(added: AddedDocument) -> str:
    info = added.info
    return (
        "✅ 문서를 추가했습니다.\n"
        f"제목: <b>{escape(shorten(info.title, 120))}</b>\n"
        f"구절(청크): {info.chunk_count}개\n"
        f"ID: <code>{escape(info.id)}</code>\n"
        "이제 이 문서에 대해 물어볼 수 있습니다."
    )


def _refused_text(name: str, error: QabotError) -> str:
    return f"❌ 추가하지 못했습니다({escape(shorten(name, 80))}).\n{escape(error.user_message)}"


async def _add_document(
    update: Update, context: ContextTypes.DEFAULT_TYPE, document: Document, title: str | None
) -> None:
    message, svc = update.effective_message, services(context)
    name = _file_name(document)
    limit = _limit(svc.settings)
    if document.file_size and document.file_size > limit:
        error = TooLarge(name, f"{_megabytes(document.file_size)}; 최대 {_megabytes(limit)}까지 받을 수 있습니다")
        await message.reply_text(_refused_text(name, error))
        return
    async with chat_action(context.bot, message.chat_id), remembered_upload(svc.engine.store, message, name):
        try:
            telegram_file = await context.bot.get_file(document.file_id, read_timeout=DOWNLOAD_TIMEOUT)
            data = bytes(await telegram_file.download_as_bytearray(read_timeout=DOWNLOAD_TIMEOUT))
        except TelegramError as error:
            log.warning("download of %s failed: %s", name, error)
            await message.reply_text(
                f"❌ 파일을 내려받지 못했습니다({escape(shorten(name, 80))}): {escape(str(error))}"
            )
            return
        try:
            added = await svc.run_corpus_change(
                svc.engine.add_bytes, data, name, f"telegram:{update.effective_user.id}", title
            )
        except QabotError as error:
            await message.reply_text(_refused_text(name, error))
            return
    log.info(
        "document %s added by %s: %d chunks in %.1f s",
        added.info.id,
        update.effective_user.id,
        added.info.chunk_count,
        added.seconds,
    )
    await _reply_added(update, context, added)


def _message_title(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "텔레그램 메시지")
    return shorten(first.lstrip("# ").strip() or "텔레그램 메시지", 60)


async def _add_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, title: str | None) -> None:
    message, svc = update.effective_message, services(context)
    async with chat_action(context.bot, message.chat_id):
        try:
            added = await svc.run_corpus_change(
                svc.engine.add_bytes,
                text.encode("utf-8"),
                "telegram-message.txt",
                f"telegram:{update.effective_user.id}",
                title or _message_title(text),
            )
        except QabotError as error:
            await message.reply_text(_refused_text("메시지", error))
            return
    await _reply_added(update, context, added)


async def _reply_added(update: Update, context: ContextTypes.DEFAULT_TYPE, added: AddedDocument) -> None:
    """The reply to an addition; when its vectors take a while, the reply follows their progress."""
    engine, text = services(context).engine, _added_text(added)
    line = pending_line(engine)
    reply = await update.effective_message.reply_text(f"{text}\n{line}" if line else text)
    if line:
        application = context.application
        application.create_task(follow_embeddings(reply, text, engine, lambda: application.running), update=update)


def _caption_add(message: Message, username: str) -> tuple[bool, str | None]:
    """(caption is /add for this bot, title given after it)."""
    match = _ADD_CAPTION.match((message.caption or "").strip())
    if not match or (match.group(1) and match.group(1).lower() != username.lower()):
        return False, None
    return True, (match.group(2) or "").strip() or None


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A file: added when an admin sends it in private, or anywhere with the caption /add."""
    message = update.effective_message
    is_add, title = _caption_add(message, context.bot.username)
    private = message.chat.type == ChatType.PRIVATE
    if not private and not is_add:
        return
    if not is_admin(services(context).settings, update):
        await message.reply_text(escape(NOT_ADMIN))
        return
    await _add_document(update, context, message.document, title)


async def on_add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/add [제목] in reply to a text (or a file): adds it."""
    message = update.effective_message
    if not is_admin(services(context).settings, update):
        await message.reply_text(escape(NOT_ADMIN))
        return
    title = command_text(message) or None
    target = message.reply_to_message
    if target is not None and target.document is not None:
        await _add_document(update, context, target.document, title)
    elif target is not None and (target.text or target.caption):
        await _add_text(update, context, target.text or target.caption, title)
    else:
        await message.reply_text(ADD_USAGE)


async def on_remove(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remove ID: removes one document (admins)."""
    message, svc = update.effective_message, services(context)
    if not is_admin(svc.settings, update):
        await message.reply_text(escape(NOT_ADMIN))
        return
    doc_id = command_text(message).split()
    if len(doc_id) != 1:
        await message.reply_text(REMOVE_USAGE)
        return
    try:
        info = await svc.run_corpus_change(svc.engine.remove_document, doc_id[0])
    except QabotError as error:
        await message.reply_text(f"❌ {escape(error.user_message)}")
        return
    await message.reply_text(
        f"🗑 삭제했습니다: <b>{escape(shorten(info.title, 120))}</b>\n"
        f"ID <code>{escape(info.id)}</code> · 구절 {info.chunk_count}개"
    )
