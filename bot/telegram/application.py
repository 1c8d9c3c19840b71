"""The python-telegram-bot Application: endpoints, defaults, handlers, startup commands.

Updates are processed in order (PTB's default): answers are short CPU work run in a
thread, and in a quick test concurrent updates lowered throughput. The slow handlers
(uploads, /add, /remove) are registered with block=False instead, so they run beside the
stream of questions rather than in front of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.settings import Settings
from bot.telegram import admin, buttons, commands, inline, questions
from bot.telegram.errors import on_error
from bot.telegram.interrupted import report_interrupted_uploads
from bot.telegram.ratelimit import RateLimiter, SharedRateLimiter
from bot.telegram.services import KEY, Services
from retrieval.engine import Engine

log = logging.getLogger(__name__)

GROUP_MESSAGES_PER_MINUTE = 20
FLOOD_RETRIES = 3
REPLY_METHODS = frozenset(
    {"sendMessage", "sendDocument", "editMessageText", "answerCallbackQuery", "answerInlineQuery"}
)

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
COMMANDS = [
    BotCommand("ask", "문서에 질문하기: /ask 질문"),
    BotCommand("help", "사용법과 아는 문서, 예시 질문"),
    BotCommand("docs", "문서 목록"),
    BotCommand("start", "시작하기"),
]


async def on_startup(application: Application) -> None:
    """Set the command menu and report uploads a crash interrupted (once per start of the bot)."""
    await application.bot.set_my_commands(COMMANDS)
    await report_interrupted_uploads(application, application.bot_data[KEY].engine.store)
    log.info("bot @%s ready", application.bot.username)


def api_urls(settings: Settings) -> tuple[str, str]:
    """The Bot API's method and file URLs (PTB appends the token to each)."""
    return f"{settings.api_url}/bot", f"{settings.api_url}/file/bot"


class FloodControl(AIORateLimiter):
    """Telegram's limits for outgoing messages, `per_second` per bot (30 unless paid
    broadcasts raise it) and 20/min per group, shared out over `workers`; a 429's
    retry_after is waited out and the call retried. Chat actions ("typing…") are no
    messages and pass. `after_reply` is called as soon as a call that answers a user (a
    message, an edit, a query answer) succeeded: a webhook worker notes there that the
    update was answered."""

    def __init__(self, workers: int, per_second: int = 30, after_reply: Callable[[], None] | None = None) -> None:
        super().__init__(
            overall_max_rate=per_second / workers,
            group_max_rate=GROUP_MESSAGES_PER_MINUTE / workers,
            max_retries=FLOOD_RETRIES,
        )
        self.after_reply = after_reply

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[override]
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        result = await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        if self.after_reply is not None and endpoint in REPLY_METHODS:
            self.after_reply()
        return result


def build_application(
    settings: Settings, engine: Engine, workers: int = 1, after_reply: Callable[[], None] | None = None
) -> Application:
    """The Application for these settings, talking to settings.api_url, answering from `engine`.

    One of `workers` processes serving the same bot: flood control takes its share of the
    limits (and calls `after_reply`, see FloodControl). Several workers, or a shared
    database, count the per-user rate limit in the store."""
    base_url, base_file_url = api_urls(settings)
    builder = (
        Application.builder()
        .token(settings.token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                allow_sending_without_reply=True,
            )
        )
        .read_timeout(15)
        .write_timeout(30)
        .rate_limiter(FloodControl(workers, settings.messages_per_second, after_reply))
        .post_init(on_startup)
    )
    if settings.local_mode:
        builder = builder.local_mode(True)
    application = builder.build()
    shared = workers > 1 or settings.database_url is not None
    limiter = (
        SharedRateLimiter(engine.store, settings.rate_limit_per_minute)
        if shared
        else RateLimiter(settings.rate_limit_per_minute)
    )
    application.bot_data[KEY] = Services(settings, engine, limiter)

    message = filters.UpdateType.MESSAGE
    text = message & filters.TEXT & ~filters.COMMAND
    application.add_handlers(
        [
            CommandHandler(["start", "help"], commands.on_help),
            CommandHandler("ask", questions.on_ask),
            CommandHandler("docs", commands.on_docs),
            CommandHandler("stats", commands.on_stats),
            CommandHandler("add", admin.on_add, block=False),
            CommandHandler("remove", admin.on_remove, block=False),
            MessageHandler(message & filters.Document.ALL, admin.on_document, block=False),
            MessageHandler(text & filters.ChatType.PRIVATE, questions.on_private_text),
            MessageHandler(text & filters.ChatType.GROUPS, questions.on_group_text),
            MessageHandler(message & filters.COMMAND & filters.ChatType.PRIVATE, questions.on_unknown_command),
            MessageHandler(message & filters.ChatType.PRIVATE, questions.on_other_private),
            CallbackQueryHandler(buttons.on_button),
            InlineQueryHandler(inline.on_inline_query),
        ]
    )
    application.add_error_handler(on_error)
    return application
