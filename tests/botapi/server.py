"""A strict, local fake of the Telegram Bot API for end-to-end tests of the bot.

Overview
========
:class:`BotApiServer` runs a small aiohttp application on ``127.0.0.1`` (free port) in a
background thread with its own event loop. A real python-telegram-bot ``Application``/``Bot``
(in-process or as a ``python -m bot`` subprocess) talks to it exactly as to
``api.telegram.org``::

    with BotApiServer(token="123456:TEST-token", bot_username="qabot_test_bot") as server:
        env = {"TELEGRAM_API_URL": server.url, "TELEGRAM_BOT_TOKEN": server.token}
        # PTB: Bot(token, base_url=server.base_url, base_file_url=server.base_file_url)
        #      where base_url == server.url + "/bot", base_file_url == server.url + "/file/bot"
        msg = server.send_text(chat_id=100, user_id=100, text="질문")       # a private chat
        [reply] = server.wait_for_messages(chat_id=100, count=1, since=msg)
        assert "근거" in reply.plain_text
        assert server.errors == []

The server speaks real Bot API JSON (``{"ok": true, "result": ...}`` /
``{"ok": false, "error_code": 400, "description": "Bad Request: ..."}``) on
``{url}/bot{token}/{method}`` (GET or POST; JSON, urlencoded or multipart bodies, like PTB 22
sends them: scalars as strings, nested objects such as ``reply_markup`` as JSON strings inside
form fields, files as multipart parts) and serves files on ``{url}/file/bot{token}/{file_path}``.
Method names are case-insensitive, as on Telegram.

Strictness (what a real bot would hit on Telegram)
==================================================
* Wrong token -> 401 ``Unauthorized``; unknown method -> 404 ``Not Found``.
* ``chat_id`` must name a chat that sent an update (or was registered with :meth:`add_chat`),
  else ``Bad Request: chat not found``.
* Text (``sendMessage``, ``editMessageText``, inline results' ``message_text``) must be
  non-empty after entity parsing and trimming, and at most 4096 UTF-16 code units *after*
  parsing (``message is too long``); captions at most 1024 (``message caption is too long``).
  ``parse_mode=HTML`` is parsed by :mod:`.html_check` (TDLib's parser plus extra strictness:
  unknown tags, unbalanced or crossed tags, a bare ``<`` or an ``&`` not starting
  ``&lt; &gt; &amp; &quot; &#NNN; &#xHH;``, ``a`` in ``a``, ``blockquote`` in ``blockquote``,
  formatting inside ``code``/``pre``, invalid link URLs -> ``can't parse entities: ...``).
  ``Markdown``/``MarkdownV2`` are rejected (use HTML); other parse modes ->
  ``unsupported parse_mode``. Explicit ``entities`` are bounds-checked.
* ``reply_markup``: inline keyboards need a non-empty ``text`` and exactly one action per
  button; ``callback_data`` must be 1-64 bytes of UTF-8 (``BUTTON_DATA_INVALID``); ``url``
  must be http(s)/tg (``BUTTON_URL_INVALID``); at most 100 buttons. Edits accept inline
  keyboards only. An empty inline keyboard means "no keyboard".
* ``reply_parameters`` / ``reply_to_message_id`` must refer to an existing (not deleted)
  message unless ``allow_sending_without_reply`` -> ``message to be replied not found``.
* ``editMessageText`` / ``editMessageReplyMarkup``: unknown message -> ``message to edit not
  found``; not the bot's -> ``message can't be edited``; same text, entities and markup ->
  ``message is not modified: ...``. Omitting ``reply_markup`` removes the keyboard (as on
  Telegram).
* ``answerCallbackQuery`` / ``answerInlineQuery``: unknown or already answered id -> ``query is
  too old and response timeout expired or query ID is invalid``; callback ``text`` <= 200
  chars; inline: <= 50 results, unique ids of 1-64 bytes, articles need a ``title`` and an
  ``input_message_content`` whose ``message_text`` passes the ``sendMessage`` checks.
* ``setMyCommands``: 1-32 chars of ``[a-z0-9_]``, descriptions 1-256 chars, <= 100 commands.
* ``sendChatAction`` needs a known chat and a valid action. ``getFile`` refuses files over
  20 MB (``file is too big``). Two concurrent ``getUpdates`` -> the older one gets 409
  ``Conflict`` (as when two bot instances run); ``getUpdates`` while a webhook is set -> 409.
* ``setWebhook`` takes an http(s) URL (http too, as a local Bot API server does) and a
  ``secret_token`` of 1-256 ``[A-Za-z0-9_-]``; updates are then POSTed to it with
  ``X-Telegram-Bot-Api-Secret-Token``, up to ``max_connections`` (1-100, default 40) at once
  over as many connections, one at a time per chat so that each chat's updates arrive in
  order; an update counts as delivered on a 2xx answer and is sent again otherwise (after
  ``webhook_retry_delay`` seconds). ``deleteWebhook`` (or an empty URL) goes back to polling.

Every call is recorded (:meth:`calls`); every 4xx/5xx answer is also appended to
:attr:`errors` as ``(method, description)`` - tests normally end with
``assert server.errors == []``. Every message the bot sends is kept as a :class:`BotMessage`
(raw text, parse mode, visible text, entities, keyboard, reply target, all versions after
edits, deletion flag).

Updates and long polling
========================
``send_text``/``send_command``/``send_document``/``press_button``/``inline_query``/
``channel_post``/``edit_user_message`` build realistic update JSON (``from``, ``chat``,
``date``, ``entities`` with UTF-16 offsets for ``bot_command`` and ``mention``, ``document``,
``reply_to_message``, ``callback_query``, ``inline_query``, ``channel_post`` with
``sender_chat``) and queue it. Message ids increase per chat, shared by users and the bot.
``getUpdates`` honours ``offset`` (confirms earlier updates; negative offsets too), ``limit``,
``allowed_updates`` (remembered between calls; disallowed updates are dropped) and ``timeout``:
the request is held until an update arrives or ``timeout`` seconds pass
(capped by ``max_poll_timeout`` if given). PTB's read timeout for polling is
``read_timeout + timeout`` so the held request never times out on the client side.
:meth:`release_polls` answers held polls with ``[]`` at once, and :meth:`stop` does so too,
so shutdown is quick. When PTB stops it cancels its poll (the server notices the closed
connection) and calls ``getUpdates(offset=..., timeout=0)`` to confirm what it fetched.

Waiting from tests
==================
All control methods are synchronous and thread-safe. ``wait_for_*`` block until the
condition holds or raise :class:`TimeoutError` with a summary of recent calls, messages and
errors. By default they also fail fast (``AssertionError``) when the bot receives a new error
while waiting. Use ``since=`` (the message dict returned by ``send_*``, a
:class:`BotMessage`, a :class:`Call`, or an int from :meth:`mark`) to ignore older events.

The server keeps no state on disk and needs no network beyond the loopback interface.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import mimetypes
import re
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import aiohttp
from aiohttp import web

try:
    from .html_check import EntityParseError, parse_html, strip_text, utf16_len, utf16_offsets
except ImportError:  # pragma: no cover - imported as a top-level module
    from html_check import (  # type: ignore[no-redef]
        EntityParseError,
        parse_html,
        strip_text,
        utf16_len,
        utf16_offsets,
    )

__all__ = [
    "ApiError",
    "BotApiServer",
    "BotMessage",
    "Call",
    "MessageVersion",
    "UploadedFile",
]

_LOG = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_RESULTS = 50
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_BUTTONS = 100

QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Update types delivered when allowed_updates was never set or set to [].
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)

_INLINE_RESULT_TYPES = frozenset(
    {
        "article",
        "audio",
        "contact",
        "game",
        "document",
        "gif",
        "location",
        "mpeg4_gif",
        "photo",
        "venue",
        "video",
        "voice",
        "sticker",
    }
)

# How form-encoded parameters are typed. Anything not listed stays a string.
_JSON_PARAMS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "reply_parameters": "can't parse reply parameters JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse caption entities JSON object",
    "results": "can't parse inline query results JSON object",
    "commands": "can't parse commands JSON object",
    "scope": "can't parse BotCommandScope JSON object",
    "allowed_updates": "can't parse allowed updates JSON object",
    "link_preview_options": "can't parse link preview options JSON object",
    "button": "can't parse inline query results button JSON object",
    "menu_button": "can't parse menu button JSON object",
    "suggested_post_parameters": "can't parse suggested post parameters JSON object",
}
_INT_PARAMS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "reply_to_message_id",
        "cache_time",
        "message_thread_id",
        "user_id",
        "max_connections",
        "direct_messages_topic_id",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "show_alert",
        "is_personal",
        "drop_pending_updates",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "allow_paid_broadcast",
        "for_channels",
        "show_caption_above_media",
        "has_spoiler",
    }
)

_INT_RE = re.compile(r"-?\d+")
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_BOT_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"@[A-Za-z0-9_]{4,32}")


class ApiError(NamedTuple):
    """One error answer the bot received: ``(method, description)``."""

    method: str
    description: str


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    file_name: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class Call:
    """One Bot API request and the server's answer.

    ``params`` are the request parameters with form values typed (ints, bools and JSON
    objects decoded); uploaded files are in ``files`` (keyed by form field name).
    """

    seq: int
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    status: int
    response: dict[str, Any]
    time: float

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")


@dataclass(frozen=True)
class MessageVersion:
    """The content of a bot message at one point in time (original send or one edit)."""

    method: str  # sendMessage, sendDocument, editMessageText, editMessageReplyMarkup
    text: str | None  # raw text / caption as the bot sent it (HTML source if parse_mode=HTML)
    parse_mode: str | None
    plain_text: str  # visible text after entity parsing and trimming
    entities: tuple[dict, ...]
    reply_markup: dict | None
    date: int


@dataclass(eq=False)
class BotMessage:
    """A message the bot sent; its fields reflect the latest version (after edits).

    The object is live: the server appends to ``versions`` on edits and sets ``deleted``.
    """

    chat_id: int
    message_id: int
    method: str
    seq: int
    reply_to_message_id: int | None
    versions: list[MessageVersion]
    data: dict[str, Any]  # the Message JSON as Telegram returns it (latest version)
    document: dict | None = None
    deleted: bool = False

    @property
    def current(self) -> MessageVersion:
        return self.versions[-1]

    @property
    def text(self) -> str | None:
        """Raw text (or caption) as sent, e.g. HTML source."""
        return self.current.text

    @property
    def parse_mode(self) -> str | None:
        return self.current.parse_mode

    @property
    def plain_text(self) -> str:
        """What a user sees: text after HTML parsing and trimming."""
        return self.current.plain_text

    @property
    def entities(self) -> list[dict]:
        return list(self.current.entities)

    @property
    def reply_markup(self) -> dict | None:
        return self.current.reply_markup

    @property
    def edits(self) -> list[MessageVersion]:
        return self.versions[1:]

    @property
    def button_rows(self) -> list[list[dict]]:
        markup = self.reply_markup or {}
        return [list(row) for row in markup.get("inline_keyboard", [])]

    @property
    def buttons(self) -> list[dict]:
        return [button for row in self.button_rows for button in row]

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def button(self, text: str | None = None, *, contains: str | None = None) -> dict:
        """The first inline button whose text equals ``text`` (or contains ``contains``)."""
        for candidate in self.buttons:
            if text is not None and candidate.get("text") == text:
                return candidate
            if contains is not None and contains in candidate.get("text", ""):
                return candidate
        raise LookupError(f"no button {text or contains!r} in {self.buttons!r}")

    def __repr__(self) -> str:
        return (
            f"BotMessage(chat_id={self.chat_id}, message_id={self.message_id}, "
            f"method={self.method!r}, plain_text={self.plain_text[:80]!r}, "
            f"edits={len(self.versions) - 1}, deleted={self.deleted})"
        )


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str | None = None


@dataclass
class _Query:
    kind: str  # "callback_query" or "inline_query"
    payload: dict
    answered: bool = False
    answer: dict | None = None


@dataclass
class _Poll:
    event: asyncio.Event
    terminated: bool = False  # a newer getUpdates took over
    released: bool = False  # release_polls() / stop()


class _Failure(Exception):
    """An error answer: HTTP status and Telegram's description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error_code": self.status, "description": self.description}


def _bad(description: str) -> _Failure:
    return _Failure(400, f"Bad Request: {description}")


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def detect_entities(text: str) -> list[dict]:
    """``bot_command`` and ``mention`` entities, found the way Telegram finds them."""
    offsets = utf16_offsets(text)
    found = []
    for kind, pattern in (("bot_command", _BOT_COMMAND_RE), ("mention", _MENTION_RE)):
        for match in pattern.finditer(text):
            start, end = match.span()
            before = text[start - 1] if start else ""
            after = text[end] if end < len(text) else ""
            stoppers = "/<>" if kind == "bot_command" else ""
            if before and (_is_word_char(before) or before in stoppers):
                continue
            if after and (_is_word_char(after) or after in stoppers):
                continue
            found.append(
                {"type": kind, "offset": offsets[start], "length": offsets[end] - offsets[start]}
            )
    found.sort(key=lambda e: e["offset"])
    return found


class BotApiServer:
    """A strict local Telegram Bot API server; see the module docstring.

    Args:
        token: the only accepted bot token (``<bot id>:<secret>``).
        bot_username: the bot's username (without ``@``), returned by ``getMe``.
        bot_first_name: the bot's display name.
        host, port: where to listen (port 0 = a free port).
        max_poll_timeout: cap for how long ``getUpdates`` holds a request (``None`` = honour
            the requested ``timeout`` like Telegram).
        strict_html: ``False`` uses TDLib's exact HTML rules instead of the stricter ones.
        fail_fast: default for ``wait_for_*``: raise as soon as the bot gets a new error.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        bot_username: str = "qabot_test_bot",
        *,
        bot_first_name: str = "QA Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        max_poll_timeout: float | None = None,
        strict_html: bool = True,
        fail_fast: bool = True,
    ) -> None:
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("token must look like '<digits>:<secret>'")
        self.token = token
        self.host = host
        self.max_poll_timeout = max_poll_timeout
        self.strict_html = strict_html
        self.fail_fast = fail_fast
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._port = port
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._seq_counter = itertools.count(1)
        self._last_seq = 0
        self._chats: dict[int, dict] = {}
        self._users: dict[int, dict] = {}
        self._admins: dict[int, list[int]] = {}
        self._creators: dict[int, int | None] = {}
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict] = {}
        self._injected_seq: dict[tuple[int, int], int] = {}
        self._bot_messages: list[BotMessage] = []
        self._bot_index: dict[tuple[int, int], BotMessage] = {}
        self._updates: list[dict] = []  # every update ever pushed
        self._pending: list[dict] = []  # not yet confirmed by an offset
        self._delivered: set[int] = set()
        self._dropped: list[dict] = []
        self._next_update_id = 10_000
        self._allowed_updates: frozenset[str] | None = None
        self._queries: dict[str, _Query] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._downloads: list[str] = []
        self._calls: list[Call] = []
        self._errors: list[ApiError] = []
        self._commands: dict[tuple[str, str], list[dict]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}
        self._polls: list[_Poll] = []
        self._webhook: dict[str, Any] | None = None  # url, secret_token, max_connections while set
        self.webhook_retry_delay = 0.2
        self._webhook_wake: asyncio.Event | None = None
        self._webhook_task: asyncio.Task | None = None
        self._webhook_answers: list[int] = []  # HTTP status of every webhook POST, 0 when unreachable
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._startup_error: BaseException | None = None
        self._methods = {
            name[len("_api_") :].lower(): name[len("_api_") :]
            for name in dir(self)
            if name.startswith("_api_")
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (use as ``TELEGRAM_API_URL``)."""
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: ``{url}/bot``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url``: ``{url}/file/bot``."""
        return f"{self.url}/file/bot"

    @property
    def bot_id(self) -> int:
        return self.bot_user["id"]

    @property
    def bot_username(self) -> str:
        return self.bot_user["username"]

    def start(self) -> BotApiServer:
        """Start listening (idempotent); returns ``self``."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        self._closing = False
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="BotApiServer", daemon=True
        )
        self._thread.start()
        if not ready.wait(15):
            raise RuntimeError("BotApiServer did not start within 15 s")
        if self._startup_error is not None:
            self._thread = None
            raise RuntimeError("BotApiServer failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        """Answer held polls with ``[]``, close all connections and stop the thread."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        self._closing = True
        try:
            loop.call_soon_threadsafe(self._wake_polls)
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:  # loop already closed
            pass
        thread.join(15)
        self._thread = None
        self._loop = None
        with self._cond:
            self._cond.notify_all()

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._astart())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._startup_error = exc
            ready.set()
            loop.close()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                loop.run_until_complete(self._astop())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    async def _astart(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._port)
        await site.start()
        self._runner = runner
        server = site._server  # noqa: SLF001 - the only way to learn the bound port
        assert server is not None and server.sockets
        self._port = server.sockets[0].getsockname()[1]

    async def _astop(self) -> None:
        self._wake_polls()
        if self._webhook_task is not None:  # it may be waiting on a bot that no longer answers
            self._webhook_task.cancel()
            await asyncio.gather(self._webhook_task, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ helpers (locked)

    def _next_seq(self) -> int:
        self._last_seq = next(self._seq_counter)
        return self._last_seq

    def _now(self) -> int:
        return int(time.time())

    def _alloc_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _ensure_user(
        self, user_id: int, first_name: str | None = None, username: str | None = None
    ) -> dict:
        if not isinstance(user_id, int) or user_id <= 0:
            raise ValueError(f"user ids are positive integers, got {user_id!r}")
        user = self._users.get(user_id)
        if user is None:
            user = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"User{user_id}",
                "username": username or f"user{user_id}",
                "language_code": "ko",
            }
            self._users[user_id] = user
        else:
            if first_name:
                user["first_name"] = first_name
            if username:
                user["username"] = username
        return dict(user)

    def _ensure_chat(
        self,
        chat_id: int,
        chat_type: str | None,
        *,
        title: str | None = None,
        username: str | None = None,
        user: dict | None = None,
    ) -> dict:
        if not isinstance(chat_id, int):
            raise ValueError(f"chat ids are integers, got {chat_id!r}")
        chat = self._chats.get(chat_id)
        if chat is not None:
            if chat_type is not None and chat_type != chat["type"]:
                raise ValueError(f"chat {chat_id} is a {chat['type']} chat, not {chat_type}")
            return dict(chat)
        if chat_type is None:
            if chat_id > 0:
                chat_type = "private"
            elif chat_id <= -1_000_000_000_000:
                chat_type = "supergroup"
            else:
                chat_type = "group"
        if chat_type not in {"private", "group", "supergroup", "channel"}:
            raise ValueError(f"unknown chat type {chat_type!r}")
        if chat_type == "private":
            if chat_id <= 0:
                raise ValueError("private chats have the (positive) id of the user")
            if user is not None and user["id"] != chat_id:
                raise ValueError(
                    f"in a private chat chat_id equals the user's id ({chat_id} != {user['id']})"
                )
            owner = user or self._ensure_user(chat_id)
            chat = {"id": chat_id, "type": "private", "first_name": owner["first_name"]}
            if owner.get("username"):
                chat["username"] = owner["username"]
        else:
            if chat_id >= 0:
                raise ValueError(f"{chat_type} chats have negative ids")
            default_title = {"group": "테스트 그룹", "supergroup": "테스트 슈퍼그룹",
                             "channel": "테스트 채널"}[chat_type]
            chat = {"id": chat_id, "type": chat_type, "title": title or default_title}
            if username:
                chat["username"] = username.lstrip("@")
        self._chats[chat_id] = chat
        return dict(chat)

    def _push_update_locked(self, kind: str, payload: dict) -> dict:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._updates.append(update)
        self._pending.append(update)
        self._next_seq()
        self._cond.notify_all()
        return update

    def _wake_polls_threadsafe(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._wake_polls)
            except RuntimeError:
                pass

    def _wake_polls(self) -> None:
        for poll in list(self._polls):
            poll.event.set()
        if self._webhook_wake is not None:
            self._webhook_wake.set()

    def _reply_snapshot(self, message: dict) -> dict:
        snapshot = copy.deepcopy(message)
        snapshot.pop("reply_to_message", None)
        return snapshot

    def _message_key(self, message: Any) -> tuple[int, int]:
        if isinstance(message, BotMessage):
            return message.chat_id, message.message_id
        if isinstance(message, dict) and "message_id" in message and "chat" in message:
            return message["chat"]["id"], message["message_id"]
        if isinstance(message, tuple) and len(message) == 2:
            return int(message[0]), int(message[1])
        raise TypeError(
            "expected a BotMessage, a Message dict or a (chat_id, message_id) tuple, "
            f"got {message!r}"
        )

    def _since_seq(self, since: Any) -> int:
        if since is None:
            return 0
        if isinstance(since, bool):
            raise TypeError("since must not be a bool")
        if isinstance(since, int):
            return since
        if isinstance(since, BotMessage | Call):
            return since.seq
        if isinstance(since, dict) and "update_id" in since:
            for kind, payload in since.items():
                if kind != "update_id" and isinstance(payload, dict):
                    since = payload
                    break
        key = self._message_key(since)
        with self._lock:
            if key in self._injected_seq:
                return self._injected_seq[key]
            if key in self._bot_index:
                return self._bot_index[key].seq
        raise LookupError(f"unknown message {key}")

    # ------------------------------------------------------------------ control API: setup

    def add_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        username: str | None = None,
    ) -> dict:
        """Register a chat without sending an update (so the bot may send to it)."""
        with self._lock:
            return self._ensure_chat(chat_id, chat_type, title=title, username=username)

    def add_user(
        self, user_id: int, *, first_name: str | None = None, username: str | None = None
    ) -> dict:
        """Register (or rename) a user; returns the User dict used in updates."""
        with self._lock:
            return self._ensure_user(user_id, first_name, username)

    def set_chat_admins(
        self, chat_id: int, user_ids: Iterable[int], *, creator: int | None = None
    ) -> None:
        """Define ``getChatAdministrators``/``getChatMember`` answers for a group chat.

        ``creator`` (if given) is reported as ``creator``; include :attr:`bot_id` to make the
        bot an administrator.
        """
        with self._lock:
            if chat_id not in self._chats:
                raise ValueError(f"unknown chat {chat_id}; send an update or add_chat() first")
            ids = list(dict.fromkeys(([creator] if creator else []) + list(user_ids)))
            for user_id in ids:
                if user_id != self.bot_id:
                    self._ensure_user(user_id)
            self._admins[chat_id] = ids
            self._creators[chat_id] = creator

    def add_file(
        self, data: bytes, file_name: str | None = None, mime_type: str | None = None
    ) -> str:
        """Store a file for ``getFile``/download; returns its ``file_id``."""
        with self._lock:
            return self._store_file(bytes(data), file_name, mime_type).file_id

    def _store_file(self, data: bytes, file_name: str | None, mime_type: str | None) -> _StoredFile:
        number = len(self._files)
        file_id = "BQACAgIAAxkBAAI" + secrets.token_urlsafe(24).replace("-", "x")
        unique = "AgAD" + format(zlib.crc32(file_id.encode()), "08x") + str(number)
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        stored = _StoredFile(file_id, unique, data, file_name, mime_type)
        self._files[file_id] = stored
        return stored

    def _document_dict(self, stored: _StoredFile) -> dict:
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return document

    def file_bytes(self, file_id: str) -> bytes:
        """The content of a stored or bot-uploaded file."""
        with self._lock:
            return self._files[file_id].data

    # ------------------------------------------------------------------ control API: updates

    def _new_user_message(
        self,
        chat_id: int,
        user_id: int,
        *,
        chat_type: str | None,
        title: str | None,
        first_name: str | None,
        username: str | None,
        reply_to: Any,
        fields: dict,
    ) -> dict:
        user = self._ensure_user(user_id, first_name, username)
        chat = self._ensure_chat(chat_id, chat_type, title=title, user=user)
        if chat["type"] == "channel":
            raise ValueError("use channel_post() for channels")
        message = {
            "message_id": self._alloc_message_id(chat_id),
            "from": user,
            "chat": chat,
            "date": self._now(),
        }
        if reply_to is not None:
            if isinstance(reply_to, int) and not isinstance(reply_to, bool):
                key = (chat_id, reply_to)
            else:
                key = self._message_key(reply_to)
            if key[0] != chat_id or key not in self._messages:
                raise ValueError(f"cannot reply to unknown message {key} in chat {chat_id}")
            message["reply_to_message"] = self._reply_snapshot(self._messages[key])
        message.update(fields)
        key = (chat_id, message["message_id"])
        self._messages[key] = message
        return message

    def _text_fields(self, text: str, entities: list[dict] | None, what: str = "text") -> dict:
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{what} must be a non-empty string")
        limit = MAX_MESSAGE_LENGTH if what == "text" else MAX_CAPTION_LENGTH
        if utf16_len(text) > limit:
            raise ValueError(f"users cannot send a {what} longer than {limit} characters")
        fields: dict[str, Any] = {what: text}
        found = detect_entities(text) if entities is None else entities
        if found:
            fields["entities" if what == "text" else "caption_entities"] = found
        return fields

    def _inject_message(self, kind: str, message: dict) -> dict:
        key = (message["chat"]["id"], message["message_id"])
        self._push_update_locked(kind, message)
        self._injected_seq[key] = self._last_seq
        return copy.deepcopy(message)

    def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        chat_type: str | None = None,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
        reply_to: Any = None,
        entities: list[dict] | None = None,
    ) -> dict:
        """A user sends ``text``; returns the Message dict of the queued ``message`` update.

        ``chat_type`` defaults to private for positive ids, supergroup for ids below
        -10**12 and group otherwise (fixed once a chat is known). ``bot_command`` and
        ``mention`` entities are computed unless ``entities`` is given. ``reply_to`` is a
        :class:`BotMessage`, a Message dict or a message id in the same chat.
        """
        with self._lock:
            message = self._new_user_message(
                chat_id, user_id, chat_type=chat_type, title=title, first_name=first_name,
                username=username, reply_to=reply_to, fields=self._text_fields(text, entities),
            )
            result = self._inject_message("message", message)
        self._wake_polls_threadsafe()
        return result

    def send_command(self, chat_id: int, user_id: int, text: str, **kwargs: Any) -> dict:
        """Like :meth:`send_text` but ``text`` must start with a ``/command``."""
        if not _BOT_COMMAND_RE.match(text or ""):
            raise ValueError(f"not a bot command: {text!r}")
        return self.send_text(chat_id, user_id, text, **kwargs)

    def edit_user_message(self, message: dict, text: str) -> dict:
        """The user edits one of their text messages (an ``edited_message`` update)."""
        with self._lock:
            key = self._message_key(message)
            stored = self._messages.get(key)
            if stored is None or key in self._bot_index or "text" not in stored:
                raise ValueError(f"{key} is not a user's text message")
            stored.pop("entities", None)
            stored.update(self._text_fields(text, None))
            stored["edit_date"] = self._now()
            result = self._inject_message("edited_message", stored)
        self._wake_polls_threadsafe()
        return result

    def send_document(
        self,
        chat_id: int,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
        *,
        chat_type: str | None = None,
        title: str | None = None,
        reply_to: Any = None,
    ) -> dict:
        """A user sends a document; the file is downloadable via ``getFile``."""
        with self._lock:
            stored = self._store_file(bytes(data), file_name, mime_type)
            fields: dict[str, Any] = {"document": self._document_dict(stored)}
            if caption:
                fields.update(self._text_fields(caption, None, what="caption"))
            message = self._new_user_message(
                chat_id, user_id, chat_type=chat_type, title=title, first_name=None,
                username=None, reply_to=reply_to, fields=fields,
            )
            result = self._inject_message("message", message)
        self._wake_polls_threadsafe()
        return result

    def channel_post(
        self,
        chat_id: int,
        text: str,
        *,
        title: str | None = None,
        username: str | None = None,
        author_signature: str | None = None,
    ) -> dict:
        """A post in a channel (``channel_post`` update with ``sender_chat``)."""
        with self._lock:
            chat = self._ensure_chat(chat_id, "channel", title=title, username=username)
            message = {
                "message_id": self._alloc_message_id(chat_id),
                "sender_chat": chat,
                "chat": chat,
                "date": self._now(),
                **self._text_fields(text, None),
            }
            if author_signature:
                message["author_signature"] = author_signature
            self._messages[(chat_id, message["message_id"])] = message
            result = self._inject_message("channel_post", message)
        self._wake_polls_threadsafe()
        return result

    def press_button(
        self,
        message: Any,
        callback_data: str,
        user_id: int | None = None,
        *,
        check: bool = True,
    ) -> str:
        """A user presses an inline button of a bot message; returns the callback query id.

        With ``check`` the message must currently have a button with this ``callback_data``.
        ``user_id`` defaults to the chat id in private chats.
        """
        with self._lock:
            key = self._message_key(message)
            bot_message = self._bot_index.get(key)
            if bot_message is None:
                raise ValueError(f"{key} is not a message sent by the bot")
            if bot_message.deleted:
                raise ValueError(f"{key} was deleted")
            if check and callback_data not in bot_message.callback_data:
                raise ValueError(
                    f"message {key} has no button with callback_data {callback_data!r}; "
                    f"buttons: {bot_message.buttons!r}"
                )
            if user_id is None:
                if bot_message.chat_id <= 0:
                    raise ValueError("user_id is required outside private chats")
                user_id = bot_message.chat_id
            user = self._ensure_user(user_id)
            query_id = str(secrets.randbits(62))
            payload = {
                "id": query_id,
                "from": user,
                "message": copy.deepcopy(bot_message.data),
                "chat_instance": str(zlib.crc32(f"{key[0]}:{self.bot_id}".encode()) * 1000 + 7),
                "data": callback_data,
            }
            self._queries[query_id] = _Query("callback_query", payload)
            self._push_update_locked("callback_query", payload)
        self._wake_polls_threadsafe()
        return query_id

    def inline_query(
        self, user_id: int, query: str, offset: str = "", *, chat_type: str | None = "sender"
    ) -> str:
        """A user types ``@bot query``; returns the inline query id."""
        if len(query) > 256:
            raise ValueError("inline queries are at most 256 characters")
        with self._lock:
            user = self._ensure_user(user_id)
            query_id = str(secrets.randbits(62))
            payload: dict[str, Any] = {"id": query_id, "from": user, "query": query,
                                       "offset": offset}
            if chat_type:
                payload["chat_type"] = chat_type
            self._queries[query_id] = _Query("inline_query", payload)
            self._push_update_locked("inline_query", payload)
        self._wake_polls_threadsafe()
        return query_id

    def release_polls(self) -> None:
        """Answer every held ``getUpdates`` with the updates available now (maybe ``[]``)."""
        loop = self._loop
        if loop is not None:
            def release() -> None:
                for poll in list(self._polls):
                    poll.released = True
                    poll.event.set()

            try:
                loop.call_soon_threadsafe(release)
            except RuntimeError:  # loop closed meanwhile
                pass

    # ------------------------------------------------------------------ control API: inspect

    def mark(self) -> int:
        """A position in the event sequence, usable as ``since=``."""
        with self._lock:
            return self._last_seq

    def sent_messages(self, chat_id: int | None = None, *, since: Any = None) -> list[BotMessage]:
        """Messages the bot sent (including deleted ones, see ``.deleted``), in order."""
        since_seq = self._since_seq(since)
        with self._lock:
            return [
                m for m in self._bot_messages
                if (chat_id is None or m.chat_id == chat_id) and m.seq > since_seq
            ]

    def get_message(self, chat_id: int, message_id: int) -> dict | None:
        """The current Message dict of any existing message (user's or bot's)."""
        with self._lock:
            message = self._messages.get((chat_id, message_id))
            return copy.deepcopy(message) if message is not None else None

    def calls(self, method: str | None = None, *, since: Any = None) -> list[Call]:
        """Recorded calls (optionally of one method, case-insensitive), in order."""
        since_seq = self._since_seq(since)
        with self._lock:
            return [
                c for c in self._calls
                if (method is None or c.method.lower() == method.lower()) and c.seq > since_seq
            ]

    def call_count(self, method: str | None = None) -> int:
        return len(self.calls(method))

    @property
    def errors(self) -> list[ApiError]:
        """``(method, description)`` of every 4xx/5xx answer the bot received."""
        with self._lock:
            return list(self._errors)

    def clear_errors(self) -> None:
        with self._lock:
            self._errors.clear()

    def updates(self) -> list[dict]:
        """Every update pushed so far."""
        with self._lock:
            return copy.deepcopy(self._updates)

    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed by the bot (``getUpdates`` offset)."""
        with self._lock:
            return copy.deepcopy(self._pending)

    @property
    def dropped_updates(self) -> list[dict]:
        """Updates discarded because of ``allowed_updates`` or ``drop_pending_updates``."""
        with self._lock:
            return copy.deepcopy(self._dropped)

    def downloads(self) -> list[str]:
        """``file_path`` of every file download, in order."""
        with self._lock:
            return list(self._downloads)

    def query_answer(self, query_id: str) -> dict | None:
        """Params of the ``answerCallbackQuery``/``answerInlineQuery`` for this id, if any."""
        with self._lock:
            query = self._queries.get(query_id)
            return copy.deepcopy(query.answer) if query else None

    def unanswered_callback_queries(self) -> list[str]:
        with self._lock:
            return [
                qid for qid, q in self._queries.items()
                if q.kind == "callback_query" and not q.answered
            ]

    def commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """Commands set with ``setMyCommands`` for this scope and language."""
        with self._lock:
            key = (self._scope_key(scope), language_code)
            return copy.deepcopy(self._commands.get(key, []))

    def description(self, short: bool = False, language_code: str = "") -> str:
        with self._lock:
            return self._descriptions.get(("short" if short else "long", language_code), "")

    # ------------------------------------------------------------------ control API: waiting

    def _summary(self) -> str:
        calls = [f"{c.method}->{c.status}" for c in self._calls[-15:]]
        messages = [repr(m) for m in self._bot_messages[-5:]]
        return (
            f"\n  last calls: {calls}\n  last bot messages: {messages}"
            f"\n  errors: {self._errors}\n  pending updates: {len(self._pending)}"
        )

    def wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float = 30.0,
        *,
        what: str = "condition",
        fail_fast: bool | None = None,
    ) -> Any:
        """Wait until ``predicate()`` (called under the server lock) returns a truthy value."""
        fail_fast = self.fail_fast if fail_fast is None else fail_fast
        deadline = time.monotonic() + timeout
        with self._cond:
            errors_before = len(self._errors)
            while True:
                value = predicate()
                if value:
                    return value
                if fail_fast and len(self._errors) > errors_before:
                    raise AssertionError(
                        f"the bot got an error while waiting for {what}: "
                        f"{self._errors[errors_before:]}{self._summary()}"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout} s waiting for {what}"
                                       f"{self._summary()}")
                self._cond.wait(min(remaining, 0.5))

    def wait_for_messages(
        self,
        chat_id: int | None = None,
        count: int = 1,
        timeout: float = 30.0,
        *,
        since: Any = None,
        fail_fast: bool | None = None,
    ) -> list[BotMessage]:
        """The first ``count`` bot messages (in ``chat_id``, after ``since``), once sent."""
        since_seq = self._since_seq(since)

        def ready() -> list[BotMessage] | None:
            found = [
                m for m in self._bot_messages
                if (chat_id is None or m.chat_id == chat_id) and m.seq > since_seq
            ]
            return found[:count] if len(found) >= count else None

        return self.wait_until(
            ready, timeout, what=f"{count} bot message(s) in chat {chat_id}", fail_fast=fail_fast
        )

    def wait_for_message(
        self, chat_id: int | None = None, timeout: float = 30.0, *, since: Any = None,
        fail_fast: bool | None = None,
    ) -> BotMessage:
        """The first bot message (in ``chat_id``, after ``since``)."""
        return self.wait_for_messages(chat_id, 1, timeout, since=since, fail_fast=fail_fast)[0]

    def wait_for_edit(
        self, message: BotMessage, count: int = 1, timeout: float = 30.0, *,
        fail_fast: bool | None = None,
    ) -> BotMessage:
        """Wait until ``message`` has been edited ``count`` times; returns it."""
        return self.wait_until(
            lambda: message if len(message.versions) > count else None,
            timeout, what=f"{count} edit(s) of {message!r}", fail_fast=fail_fast,
        )

    def wait_for_call(
        self,
        method: str,
        timeout: float = 30.0,
        *,
        since: Any = None,
        where: Callable[[dict], bool] | None = None,
        fail_fast: bool | None = None,
    ) -> dict:
        """Params of the first (finished) call of ``method`` after ``since`` matching ``where``.

        Failed calls count too; use :meth:`calls` to see their status.
        """
        since_seq = self._since_seq(since)

        def ready() -> dict | None:
            for call in self._calls:
                if (call.seq > since_seq and call.method.lower() == method.lower()
                        and (where is None or where(call.params))):
                    return call.params
            return None

        return self.wait_until(ready, timeout, what=f"a {method} call", fail_fast=fail_fast)

    def wait_for_query_answer(
        self, query_id: str, timeout: float = 30.0, *, fail_fast: bool | None = None
    ) -> dict:
        """Params of the successful answer to a callback or inline query."""

        def ready() -> dict | None:
            query = self._queries.get(query_id)
            return copy.deepcopy(query.answer) if query and query.answered else None

        return self.wait_until(ready, timeout, what=f"an answer to query {query_id}",
                               fail_fast=fail_fast)

    def wait_until_delivered(self, timeout: float = 30.0) -> None:
        """Wait until every pushed update has been returned by ``getUpdates`` at least once."""
        self.wait_until(
            lambda: all(u["update_id"] in self._delivered for u in self._pending) or None,
            timeout, what="delivery of all updates", fail_fast=False,
        )

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        with self._lock:
            stored = self._files_by_path.get(path)
            if stored is not None:
                self._downloads.append(path)
                self._cond.notify_all()
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.body_exists:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = json.loads(await request.read() or b"{}")
                except ValueError as exc:
                    raise _bad("can't parse JSON encoded request") from exc
                if not isinstance(body, dict):
                    raise _bad("JSON object expected")
                raw.update(body)
            elif ctype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, web.FileField):
                        files[name] = UploadedFile(
                            name, value.filename, value.content_type, value.file.read()
                        )
                    else:
                        raw[name] = value
        return self._normalize(raw), files

    @staticmethod
    def _normalize(raw: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, value in raw.items():
            if isinstance(value, str):
                if name in _JSON_PARAMS:
                    try:
                        value = json.loads(value)
                    except ValueError as exc:
                        raise _bad(_JSON_PARAMS[name]) from exc
                elif name in _INT_PARAMS:
                    if not _INT_RE.fullmatch(value.strip()):
                        raise _bad(f'field "{name}" must be of type Integer')
                    value = int(value)
                elif name in _BOOL_PARAMS:
                    value = value.strip().lower() in {"true", "1"}
                elif name == "chat_id" and _INT_RE.fullmatch(value.strip()):
                    value = int(value)
            params[name] = value
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        requested = request.match_info["method"]
        method = self._methods.get(requested.lower(), requested)
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        try:
            if request.match_info["token"] != self.token:
                raise _Failure(401, "Unauthorized")
            if requested.lower() not in self._methods:
                raise _Failure(404, "Not Found")
            params, files = await self._read_params(request)
            handler = getattr(self, "_api_" + method)
            result = handler(params, files)
            if asyncio.iscoroutine(result):
                result = await result
            status, body = 200, {"ok": True, "result": result}
        except _Failure as failure:
            status, body = failure.status, failure.body()
        except asyncio.CancelledError:
            self._record(method, params, files, 499,
                         {"ok": False, "description": "client closed the connection"})
            raise
        except Exception as exc:  # noqa: BLE001 - a server bug must be visible, not fatal
            _LOG.exception("BotApiServer failed in %s", method)
            status = 500
            body = {"ok": False, "error_code": 500,
                    "description": f"Internal Server Error: test server bug: {exc!r}"}
        self._record(method, params, files, status, body)
        return web.json_response(
            body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
        )

    def _record(self, method: str, params: dict, files: dict, status: int, body: dict) -> None:
        with self._lock:
            call = Call(self._next_seq(), method, params, files, status, body, time.time())
            self._calls.append(call)
            if status >= 400 and status != 499:
                self._errors.append(ApiError(method, body.get("description", "")))
            self._cond.notify_all()

    # ------------------------------------------------------------------ validation helpers

    def _resolve_chat(self, params: dict, name: str = "chat_id") -> dict:
        value = params.get(name)
        if value is None or value == "":
            raise _bad(f"{name} is empty")
        chat = None
        if isinstance(value, bool):
            raise _bad("chat not found")
        if isinstance(value, int):
            chat = self._chats.get(value)
        elif isinstance(value, str) and value.startswith("@"):
            for candidate in self._chats.values():
                if candidate.get("username", "").lower() == value[1:].lower() and \
                        candidate["type"] != "private":
                    chat = candidate
        if chat is None:
            raise _bad("chat not found")
        return chat

    @staticmethod
    def _int_param(params: dict, name: str, missing: str | None = None) -> int | None:
        value = params.get(name)
        if value is None:
            if missing is not None:
                raise _bad(missing)
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise _bad(f'field "{name}" must be of type Integer')
        if isinstance(value, str):
            if not _INT_RE.fullmatch(value.strip()):
                raise _bad(f'field "{name}" must be of type Integer')
            value = int(value)
        return value

    @staticmethod
    def _bool_param(params: dict, name: str) -> bool:
        value = params.get(name, False)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def _format_text(
        self,
        text: Any,
        parse_mode: Any,
        entities: Any,
        *,
        caption: bool = False,
    ) -> tuple[str, list[dict]]:
        """Parse like Telegram; returns (visible text, entities) or raises a 400."""
        if text is None:
            text = ""
        if not isinstance(text, str):
            text = json.dumps(text) if not isinstance(text, int | float) else str(text)
        if text == "" and caption:
            return "", []
        mode = parse_mode.strip().lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            try:
                plain, found = parse_html(text, strict=self.strict_html)
            except EntityParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from exc
        elif mode == "":
            plain, found = text, self._check_entities(entities, text)
        elif mode in {"markdown", "markdownv2"}:
            raise _bad(
                f"parse_mode {parse_mode!r} is not supported by the test Bot API server; "
                "the bot should use HTML"
            )
        else:
            raise _bad("unsupported parse_mode")
        plain, found = strip_text(plain, found)
        if not plain:
            if caption:
                return "", []
            raise _bad("message text is empty")
        limit = MAX_CAPTION_LENGTH if caption else MAX_MESSAGE_LENGTH
        if utf16_len(plain) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        return plain, found

    @staticmethod
    def _check_entities(entities: Any, text: str) -> list[dict]:
        if entities is None:
            return []
        if not isinstance(entities, list):
            raise _bad("can't parse entities JSON object")
        length = utf16_len(text)
        result = []
        for entity in entities:
            if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
                raise _bad("can't parse MessageEntity: MessageEntity must be an Object")
            offset, size = entity.get("offset"), entity.get("length")
            if not isinstance(offset, int) or not isinstance(size, int) or offset < 0 \
                    or size < 0 or offset + size > length:
                raise _bad(f"entity {entity!r} is out of the text bounds")
            if size > 0:
                result.append(dict(entity))
        result.sort(key=lambda e: (e["offset"], -e["length"]))
        return result

    @staticmethod
    def _check_button_url(url: Any) -> None:
        if not isinstance(url, str) or not re.match(r"^(https?://[^\s/?#]+|tg://\S+)", url) \
                or any(ch.isspace() for ch in url):
            raise _bad("BUTTON_URL_INVALID")

    def _check_reply_markup(self, markup: Any, *, inline_only: bool = False) -> dict | None:
        """Validate ``reply_markup``; returns the normalized inline keyboard or ``None``."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            keyboard = markup["inline_keyboard"]
            if not isinstance(keyboard, list):
                raise _bad('field "inline_keyboard" must be of type Array')
            total = 0
            rows = []
            for row in keyboard:
                if not isinstance(row, list):
                    raise _bad("can't parse inline keyboard button: Array expected")
                checked_row = []
                for button in row:
                    checked_row.append(self._check_inline_button(button))
                    total += 1
                if checked_row:
                    rows.append(checked_row)
            if total > MAX_BUTTONS:
                raise _bad("reply markup is too long")
            return {"inline_keyboard": rows} if rows else None
        if inline_only:
            raise _bad("inline keyboard expected")
        if "keyboard" in markup:
            keyboard = markup["keyboard"]
            if not isinstance(keyboard, list) or not all(isinstance(r, list) for r in keyboard):
                raise _bad('field "keyboard" must be of type Array')
            for row in keyboard:
                for button in row:
                    text = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(text, str) or not text.strip():
                        raise _bad("keyboard button text is empty")
            return None
        if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
            return None
        raise _bad("can't parse reply keyboard markup JSON object")

    def _check_inline_button(self, button: Any) -> dict:
        if not isinstance(button, dict):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        text = button.get("text")
        if not isinstance(text, str):
            raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        if not text.strip():
            raise _bad("BUTTON_TEXT_INVALID")
        actions = [name for name in _INLINE_BUTTON_ACTIONS if name in button]
        if not actions:
            raise _bad("text buttons are unallowed in the inline keyboard")
        if len(actions) > 1:
            raise _bad(f"can't parse inline keyboard button: more than one action {actions}")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not (
                1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise _bad("BUTTON_DATA_INVALID")
        if "url" in button:
            self._check_button_url(button["url"])
        return dict(button)

    def _resolve_reply(self, params: dict, chat_id: int) -> dict | None:
        reply = params.get("reply_parameters")
        if reply is not None:
            if not isinstance(reply, dict):
                raise _bad("can't parse reply parameters JSON object")
            message_id = self._int_param(reply, "message_id", "message to be replied not found")
            target_chat = chat_id
            if reply.get("chat_id") not in (None, ""):
                target_chat = self._resolve_chat(reply)["id"]
            allow = self._bool_param(reply, "allow_sending_without_reply")
            quote = reply.get("quote")
        elif params.get("reply_to_message_id") is not None:
            message_id = self._int_param(params, "reply_to_message_id")
            target_chat = chat_id
            allow = self._bool_param(params, "allow_sending_without_reply")
            quote = None
        else:
            return None
        target = self._messages.get((target_chat, message_id))
        if target is None:
            if allow:
                return None
            raise _bad("message to be replied not found")
        if quote is not None:
            source = target.get("text") or target.get("caption") or ""
            if not isinstance(quote, str) or quote not in source:
                raise _bad("QUOTE_TEXT_INVALID")
        return target if target_chat == chat_id else None

    def _new_bot_message(
        self,
        method: str,
        chat: dict,
        content: dict,
        version: MessageVersion,
        reply_to: dict | None,
        document: dict | None = None,
    ) -> BotMessage:
        chat_id = chat["id"]
        message_id = self._alloc_message_id(chat_id)
        data: dict[str, Any] = {"message_id": message_id}
        if chat["type"] == "channel":
            data["sender_chat"] = dict(chat)
        else:
            data["from"] = dict(self.bot_user)
        data.update({"chat": dict(chat), "date": version.date})
        if reply_to is not None:
            data["reply_to_message"] = self._reply_snapshot(reply_to)
        data.update(content)
        if version.reply_markup is not None:
            data["reply_markup"] = copy.deepcopy(version.reply_markup)
        bot_message = BotMessage(
            chat_id=chat_id,
            message_id=message_id,
            method=method,
            seq=self._next_seq(),
            reply_to_message_id=reply_to["message_id"] if reply_to is not None else None,
            versions=[version],
            data=data,
            document=document,
        )
        self._messages[(chat_id, message_id)] = data
        self._bot_messages.append(bot_message)
        self._bot_index[(chat_id, message_id)] = bot_message
        self._cond.notify_all()
        return bot_message

    def _target_bot_message(self, params: dict) -> BotMessage:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params)
        message_id = self._int_param(params, "message_id", "message identifier is not specified")
        key = (chat["id"], message_id)
        if key not in self._messages:
            raise _bad("message to edit not found")
        bot_message = self._bot_index.get(key)
        if bot_message is None:
            raise _bad("message can't be edited")
        return bot_message

    def _add_version(self, bot_message: BotMessage, version: MessageVersion) -> None:
        bot_message.versions.append(version)
        data = bot_message.data
        if bot_message.method == "sendMessage":
            data["text"] = version.plain_text
            data.pop("entities", None)
            if version.entities:
                data["entities"] = copy.deepcopy(list(version.entities))
        data.pop("reply_markup", None)
        if version.reply_markup is not None:
            data["reply_markup"] = copy.deepcopy(version.reply_markup)
        data["edit_date"] = version.date
        self._next_seq()
        self._cond.notify_all()

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if scope is None:
            return "default"
        if not isinstance(scope, dict):
            raise _bad("can't parse BotCommandScope JSON object")
        kind = scope.get("type")
        if kind in {"default", "all_private_chats", "all_group_chats",
                    "all_chat_administrators"}:
            return kind
        if kind in {"chat", "chat_administrators"}:
            return f"{kind}:{scope.get('chat_id')}"
        if kind == "chat_member":
            return f"{kind}:{scope.get('chat_id')}:{scope.get('user_id')}"
        raise _bad("wrong parameter scope in request")

    def _check_scope(self, params: dict) -> tuple[str, str]:
        scope = params.get("scope")
        key = self._scope_key(scope)
        if isinstance(scope, dict) and "chat_id" in scope:
            self._resolve_chat(self._normalize({"chat_id": scope["chat_id"]}))
        language = params.get("language_code") or ""
        if not isinstance(language, str) or (language and not _LANGUAGE_RE.fullmatch(language)):
            raise _bad("invalid language code specified")
        return key, language

    # ------------------------------------------------------------------ Bot API methods

    def _api_getMe(self, params: dict, files: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_logOut(self, params: dict, files: dict) -> bool:
        return True

    def _api_close(self, params: dict, files: dict) -> bool:
        return True

    def _api_deleteWebhook(self, params: dict, files: dict) -> bool:
        with self._lock:
            self._webhook = None
            if self._bool_param(params, "drop_pending_updates"):
                self._dropped.extend(self._pending)
                self._pending.clear()
            self._cond.notify_all()
        self._wake_polls()
        return True

    def _api_setWebhook(self, params: dict, files: dict) -> bool:
        url = params.get("url") or ""
        if not url:
            return self._api_deleteWebhook(params, files)
        if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", url):
            raise _bad("bad webhook: Wrong HTTP URL specified")
        secret = params.get("secret_token") or ""
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("bad webhook: secret token contains unallowed characters")
        connections = self._int_param(params, "max_connections") or 40
        if not 1 <= connections <= 100:
            raise _bad("bad webhook: max_connections must be between 1 and 100")
        self._remember_allowed_updates(params.get("allowed_updates"))
        with self._lock:
            if self._bool_param(params, "drop_pending_updates"):
                self._dropped.extend(self._pending)
                self._pending.clear()
            self._webhook = {"url": url, "secret_token": secret, "max_connections": connections}
        if self._webhook_wake is None:
            self._webhook_wake = asyncio.Event()
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_to_webhook())
        self._wake_polls()
        return True

    def _api_getWebhookInfo(self, params: dict, files: dict) -> dict:
        with self._lock:
            return {"url": self._webhook["url"] if self._webhook else "", "has_custom_certificate": False,
                    "pending_update_count": len(self._pending)}

    def webhook_answers(self) -> list[int]:
        """The HTTP status of every webhook POST so far (0: the bot could not be reached)."""
        with self._lock:
            return list(self._webhook_answers)

    def webhook_acknowledged(self, timeout: float = 30.0) -> None:
        """Wait until the webhook answered 2xx to every update pushed so far."""
        self.wait_until(lambda: not self._pending or None, timeout, what="webhook answers", fail_fast=False)

    @staticmethod
    def _update_chat(update: dict) -> int | None:
        """The chat whose updates must arrive in order (None: no ordering needed)."""
        for kind, payload in update.items():
            if kind == "update_id" or not isinstance(payload, dict):
                continue
            chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
            if chat:
                return chat["id"]
        return None

    async def _deliver_to_webhook(self) -> None:
        """POST pending updates to the webhook, several at once but one per chat, until it is removed."""
        assert self._webhook_wake is not None
        in_flight: dict[int, asyncio.Task] = {}  # update_id -> its POST
        retry_at: dict[int, float] = {}  # update_id -> when a failed update may be sent again
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30), connector=aiohttp.TCPConnector(limit=0)
        ) as session:

            async def post(update: dict, hook: dict) -> None:
                headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]} if hook["secret_token"] else {}
                try:
                    async with session.post(hook["url"], json=update, headers=headers) as answer:
                        status = answer.status
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    status = 0
                with self._lock:
                    self._webhook_answers.append(status)
                    if 200 <= status < 300:
                        self._pending[:] = [u for u in self._pending if u["update_id"] != update["update_id"]]
                        self._cond.notify_all()
                    else:
                        retry_at[update["update_id"]] = loop.time() + self.webhook_retry_delay
                in_flight.pop(update["update_id"], None)
                self._webhook_wake.set()

            try:
                while not self._closing:
                    self._webhook_wake.clear()
                    now = loop.time()
                    with self._lock:
                        hook = self._webhook
                        if hook is None:
                            return
                        self._select_updates(0)  # drops updates of kinds the bot did not ask for
                        waiting_chats: set[int] = set()  # an earlier update of theirs is not answered yet
                        chosen = []
                        for update in self._pending:
                            update_id, chat = update["update_id"], self._update_chat(update)
                            if update_id in in_flight or retry_at.get(update_id, 0) > now or chat in waiting_chats:
                                if chat is not None:
                                    waiting_chats.add(chat)
                                continue
                            if len(in_flight) + len(chosen) >= hook["max_connections"]:
                                break
                            chosen.append(copy.deepcopy(update))
                            self._delivered.add(update_id)
                            if chat is not None:
                                waiting_chats.add(chat)
                    for update in chosen:
                        retry_at.pop(update["update_id"], None)
                        in_flight[update["update_id"]] = loop.create_task(post(update, hook))
                    try:
                        await asyncio.wait_for(self._webhook_wake.wait(), self.webhook_retry_delay if retry_at else 1.0)
                    except asyncio.TimeoutError:
                        pass
            finally:
                for task in in_flight.values():
                    task.cancel()
                await asyncio.gather(*in_flight.values(), return_exceptions=True)

    def _select_updates(self, limit: int) -> list[dict]:
        allowed = self._allowed_updates
        kept = []
        for update in self._pending:
            kind = next(k for k in update if k != "update_id")
            if (kind in allowed) if allowed is not None else (
                    kind not in _DEFAULT_EXCLUDED_UPDATES):
                kept.append(update)
            else:
                self._dropped.append(update)
        self._pending[:] = kept
        batch = kept[:limit]
        for update in batch:
            self._delivered.add(update["update_id"])
        if batch:
            self._cond.notify_all()
        return copy.deepcopy(batch)

    def _remember_allowed_updates(self, allowed: Any) -> None:
        if allowed is None:
            return
        if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
            raise _bad("can't parse allowed updates JSON object")
        with self._lock:
            self._allowed_updates = frozenset(allowed) if allowed else None

    async def _api_getUpdates(self, params: dict, files: dict) -> list[dict]:
        offset = self._int_param(params, "offset") or 0
        limit = min(max(self._int_param(params, "limit") or 100, 1), 100)
        timeout = max(self._int_param(params, "timeout") or 0, 0)
        if self.max_poll_timeout is not None:
            timeout = min(timeout, self.max_poll_timeout)
        with self._lock:
            if self._webhook is not None:
                raise _Failure(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
        self._remember_allowed_updates(params.get("allowed_updates"))
        with self._lock:
            if offset > 0:
                confirmed = [u for u in self._pending if u["update_id"] < offset]
                if confirmed:
                    self._pending[:] = [u for u in self._pending if u["update_id"] >= offset]
                    self._cond.notify_all()
            elif offset < 0:
                self._pending[:] = self._pending[offset:]
        loop = asyncio.get_running_loop()
        poll = _Poll(asyncio.Event())
        for other in self._polls:
            other.terminated = True
            other.event.set()
        self._polls.append(poll)
        deadline = loop.time() + timeout
        try:
            while True:
                poll.event.clear()
                with self._lock:
                    batch = self._select_updates(limit)
                if batch or poll.terminated or poll.released or self._closing:
                    break
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(poll.event.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
        finally:
            self._polls.remove(poll)
        if poll.terminated and not poll.released and not batch and not self._closing:
            # A newer getUpdates replaced this one. If our client already went away (PTB
            # cancelling its poll on shutdown), aiohttp cancels us during this grace period
            # and nothing is reported; otherwise two pollers really competed.
            await asyncio.sleep(0.2)
            raise _Failure(409, "Conflict: terminated by other getUpdates request; make sure "
                                "that only one bot instance is running")
        return batch

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        with self._lock:
            chat = self._resolve_chat(params)
            plain, entities = self._format_text(
                params.get("text"), params.get("parse_mode"), params.get("entities")
            )
            markup = self._check_reply_markup(params.get("reply_markup"))
            reply_to = self._resolve_reply(params, chat["id"])
            content: dict[str, Any] = {"text": plain}
            if entities:
                content["entities"] = entities
            version = MessageVersion(
                "sendMessage", params.get("text"), params.get("parse_mode"), plain,
                tuple(entities), markup, self._now(),
            )
            message = self._new_bot_message("sendMessage", chat, content, version, reply_to)
            return copy.deepcopy(message.data)

    def _api_sendDocument(self, params: dict, files: dict) -> dict:
        with self._lock:
            chat = self._resolve_chat(params)
            document = params.get("document")
            upload: UploadedFile | None = None
            if "document" in files:
                upload = files["document"]
            elif isinstance(document, str) and document.startswith("attach://"):
                upload = files.get(document[len("attach://"):])
                if upload is None:
                    raise _bad("there is no document in the request")
            if upload is not None:
                if not upload.data:
                    raise _bad("file must be non-empty")
                if len(upload.data) > MAX_UPLOAD_SIZE:
                    raise _Failure(413, "Request Entity Too Large")
                mime = upload.content_type
                if not mime or mime == "application/octet-stream":
                    mime = (mimetypes.guess_type(upload.file_name or "")[0]
                            or "application/octet-stream")
                stored = self._store_file(upload.data, upload.file_name, mime)
            elif isinstance(document, str) and document:
                if document.startswith(("http://", "https://")):
                    raise _bad("failed to get HTTP URL content (the test server has no network)")
                stored = self._files.get(document)
                if stored is None:
                    raise _bad("wrong file identifier/HTTP URL specified")
            else:
                raise _bad("there is no document in the request")
            caption, entities = self._format_text(
                params.get("caption"), params.get("parse_mode"), params.get("caption_entities"),
                caption=True,
            )
            markup = self._check_reply_markup(params.get("reply_markup"))
            reply_to = self._resolve_reply(params, chat["id"])
            document_dict = self._document_dict(stored)
            content: dict[str, Any] = {"document": document_dict}
            if caption:
                content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
            version = MessageVersion(
                "sendDocument", params.get("caption"), params.get("parse_mode"), caption,
                tuple(entities), markup, self._now(),
            )
            message = self._new_bot_message(
                "sendDocument", chat, content, version, reply_to, document=document_dict
            )
            return copy.deepcopy(message.data)

    def _api_editMessageText(self, params: dict, files: dict) -> dict:
        with self._lock:
            bot_message = self._target_bot_message(params)
            if bot_message.method != "sendMessage":
                raise _bad("there is no text in the message to edit")
            plain, entities = self._format_text(
                params.get("text"), params.get("parse_mode"), params.get("entities")
            )
            markup = self._check_reply_markup(params.get("reply_markup"), inline_only=True)
            current = bot_message.current
            if (plain == current.plain_text and list(entities) == list(current.entities)
                    and markup == current.reply_markup):
                raise _bad(NOT_MODIFIED)
            self._add_version(bot_message, MessageVersion(
                "editMessageText", params.get("text"), params.get("parse_mode"), plain,
                tuple(entities), markup, self._now(),
            ))
            return copy.deepcopy(bot_message.data)

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> dict:
        with self._lock:
            bot_message = self._target_bot_message(params)
            markup = self._check_reply_markup(params.get("reply_markup"), inline_only=True)
            current = bot_message.current
            if markup == current.reply_markup:
                raise _bad(NOT_MODIFIED)
            self._add_version(bot_message, MessageVersion(
                "editMessageReplyMarkup", current.text, current.parse_mode, current.plain_text,
                current.entities, markup, self._now(),
            ))
            return copy.deepcopy(bot_message.data)

    def _api_deleteMessage(self, params: dict, files: dict) -> bool:
        with self._lock:
            chat = self._resolve_chat(params)
            message_id = self._int_param(params, "message_id", "message identifier is not specified")
            key = (chat["id"], message_id)
            if key not in self._messages:
                raise _bad("message to delete not found")
            del self._messages[key]
            if key in self._bot_index:
                self._bot_index[key].deleted = True
            self._next_seq()
            self._cond.notify_all()
            return True

    def _api_sendChatAction(self, params: dict, files: dict) -> bool:
        with self._lock:
            self._resolve_chat(params)
            if params.get("action") not in CHAT_ACTIONS:
                raise _bad("wrong parameter action in request")
            return True

    def _api_getChat(self, params: dict, files: dict) -> dict:
        with self._lock:
            chat = dict(self._resolve_chat(params))
            chat.update({
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                    "premium_subscription": False, "gifts_from_channels": False,
                },
            })
            return chat

    def _chat_member(self, chat: dict, user_id: int) -> dict:
        if user_id == self.bot_id:
            user = dict(self.bot_user)
        elif user_id in self._users:
            user = dict(self._users[user_id])
        else:
            raise _bad("user not found")
        admins = self._admins.get(chat["id"], [])
        if chat["type"] == "private" or user_id not in admins:
            if chat["type"] == "private" and user_id not in (chat["id"], self.bot_id):
                raise _bad("user not found")
            return {"status": "member", "user": user}
        if user_id == self._creators.get(chat["id"]):
            return {"status": "creator", "user": user, "is_anonymous": False}
        return {
            "status": "administrator", "user": user, "can_be_edited": False,
            "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": True,
            "can_manage_video_chats": True, "can_restrict_members": True,
            "can_promote_members": False, "can_change_info": True, "can_invite_users": True,
            "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False,
        }

    def _api_getChatMember(self, params: dict, files: dict) -> dict:
        with self._lock:
            chat = self._resolve_chat(params)
            user_id = self._int_param(params, "user_id", "user not found")
            return self._chat_member(chat, user_id)

    def _api_getChatAdministrators(self, params: dict, files: dict) -> list[dict]:
        with self._lock:
            chat = self._resolve_chat(params)
            if chat["type"] == "private":
                raise _bad("there are no administrators in the private chat")
            return [self._chat_member(chat, uid) for uid in self._admins.get(chat["id"], [])]

    def _api_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        with self._lock:
            query = self._queries.get(str(params.get("callback_query_id") or ""))
            if query is None or query.kind != "callback_query" or query.answered:
                raise _bad(QUERY_INVALID)
            text = params.get("text")
            if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
                raise _bad("MESSAGE_TOO_LONG")
            url = params.get("url")
            if url is not None and not str(url).startswith(("https://t.me/", "tg://")):
                raise _bad("URL_INVALID")
            query.answered = True
            query.answer = copy.deepcopy(params)
            self._cond.notify_all()
            return True

    def _check_inline_result(self, result: Any) -> None:
        prefix = "can't parse inline query result: "
        if not isinstance(result, dict):
            raise _bad(prefix + "InlineQueryResult must be an Object")
        kind = result.get("type")
        if kind not in _INLINE_RESULT_TYPES:
            raise _bad(prefix + f"Unsupported inline query result type {kind!r}")
        if kind == "article":
            title = result.get("title")
            if not isinstance(title, str) or not title.strip():
                raise _bad(prefix + 'Field "title" must be a non-empty String')
            if not isinstance(result.get("input_message_content"), dict):
                raise _bad(prefix + 'Field "input_message_content" must be of type Object')
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            try:
                self._format_text(content.get("message_text"), content.get("parse_mode"),
                                  content.get("entities"))
            except _Failure as failure:
                reason = failure.description.removeprefix("Bad Request: ")
                if reason == "message text is empty":
                    raise _bad("MESSAGE_EMPTY") from None
                if reason == "message is too long":
                    raise _bad("MESSAGE_TOO_LONG") from None
                raise _bad(prefix + reason[:1].upper() + reason[1:]) from None
        elif content is not None and not isinstance(content, dict):
            raise _bad(prefix + 'Field "input_message_content" must be of type Object')
        self._check_reply_markup(result.get("reply_markup"), inline_only=True)
        if kind != "article" and isinstance(result.get("caption"), str):
            self._format_text(result["caption"], result.get("parse_mode"),
                              result.get("caption_entities"), caption=True)

    def _api_answerInlineQuery(self, params: dict, files: dict) -> bool:
        with self._lock:
            query = self._queries.get(str(params.get("inline_query_id") or ""))
            if query is None or query.kind != "inline_query" or query.answered:
                raise _bad(QUERY_INVALID)
            results = params.get("results")
            if not isinstance(results, list):
                raise _bad("can't parse inline query results JSON object")
            if len(results) > MAX_INLINE_RESULTS:
                raise _bad("RESULTS_TOO_MUCH")
            seen: set[str] = set()
            for result in results:
                result_id = result.get("id") if isinstance(result, dict) else None
                if not isinstance(result_id, str) or not (
                    1 <= len(result_id.encode("utf-8")) <= 64
                ):
                    raise _bad("RESULT_ID_INVALID")
                if result_id in seen:
                    raise _bad("RESULT_ID_DUPLICATE")
                seen.add(result_id)
                self._check_inline_result(result)
            next_offset = params.get("next_offset")
            if next_offset is not None and len(str(next_offset).encode("utf-8")) > 64:
                raise _bad("NEXT_OFFSET_INVALID")
            cache_time = self._int_param(params, "cache_time")
            if cache_time is not None and cache_time < 0:
                raise _bad("CACHE_TIME_INVALID")
            query.answered = True
            query.answer = copy.deepcopy(params)
            self._cond.notify_all()
            return True

    def _api_setMyCommands(self, params: dict, files: dict) -> bool:
        with self._lock:
            commands = params.get("commands")
            if not isinstance(commands, list):
                raise _bad("can't parse commands JSON object")
            if len(commands) > 100:
                raise _bad("too many commands specified")
            checked = []
            for command in commands:
                if not isinstance(command, dict):
                    raise _bad("can't parse BotCommand: BotCommand must be an Object")
                name, description = command.get("command"), command.get("description")
                if not isinstance(name, str) or not _COMMAND_NAME_RE.fullmatch(name):
                    raise _bad("BOT_COMMAND_INVALID")
                if not isinstance(description, str) or not 1 <= len(description.strip()) or \
                        len(description) > 256:
                    raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
                checked.append({"command": name, "description": description})
            key = self._check_scope(params)
            self._commands[key] = checked
            return True

    def _api_getMyCommands(self, params: dict, files: dict) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._commands.get(self._check_scope(params), []))

    def _api_deleteMyCommands(self, params: dict, files: dict) -> bool:
        with self._lock:
            self._commands.pop(self._check_scope(params), None)
            return True

    def _set_description(self, params: dict, name: str, kind: str, limit: int) -> bool:
        with self._lock:
            _, language = self._check_scope({"language_code": params.get("language_code")})
            value = params.get(name) or ""
            if not isinstance(value, str) or len(value) > limit:
                raise _bad(f"{name} is too long" if isinstance(value, str) else
                           f'field "{name}" must be of type String')
            self._descriptions[(kind, language)] = value
            return True

    def _api_setMyDescription(self, params: dict, files: dict) -> bool:
        return self._set_description(params, "description", "long", 512)

    def _api_setMyShortDescription(self, params: dict, files: dict) -> bool:
        return self._set_description(params, "short_description", "short", 120)

    def _api_getMyDescription(self, params: dict, files: dict) -> dict:
        with self._lock:
            _, language = self._check_scope({"language_code": params.get("language_code")})
            return {"description": self._descriptions.get(("long", language), "")}

    def _api_getMyShortDescription(self, params: dict, files: dict) -> dict:
        with self._lock:
            _, language = self._check_scope({"language_code": params.get("language_code")})
            return {"short_description": self._descriptions.get(("short", language), "")}

    def _api_getFile(self, params: dict, files: dict) -> dict:
        with self._lock:
            file_id = params.get("file_id")
            if not file_id:
                raise _bad("file_id is empty")
            stored = self._files.get(str(file_id))
            if stored is None:
                raise _bad("invalid file_id")
            if len(stored.data) > MAX_DOWNLOAD_SIZE:
                raise _bad("file is too big")
            if stored.file_path is None:
                suffix = ""
                if stored.file_name and "." in stored.file_name:
                    suffix = "." + stored.file_name.rsplit(".", 1)[1]
                stored.file_path = f"documents/file_{len(self._files_by_path)}{suffix}"
                self._files_by_path[stored.file_path] = stored
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
                "file_path": stored.file_path,
            }
