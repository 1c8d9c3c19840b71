"""A strict local Telegram Bot API server for end-to-end tests (see :mod:`.server`).

Usage::

    from botapi import BotApiServer          # or: from tests.botapi import BotApiServer

    with BotApiServer(token="123456:TEST-token", bot_username="qabot_test_bot") as server:
        ...  # point the bot at server.url, push updates, wait for its messages
"""

from .html_check import EntityParseError, parse_html, strip_text, utf16_len
from .server import ApiError, BotApiServer, BotMessage, Call, MessageVersion, UploadedFile

__all__ = [
    "ApiError",
    "BotApiServer",
    "BotMessage",
    "Call",
    "EntityParseError",
    "MessageVersion",
    "UploadedFile",
    "parse_html",
    "strip_text",
    "utf16_len",
]
