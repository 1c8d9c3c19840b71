"""Keep the bot token out of every log line, at every level.

A filter on the root logger's handlers (so it sees records from every logger) rewrites
each record's message, arguments, exception text and stack text, replacing the token raw,
URL-encoded (PTB's file URLs carry it as `123%3AABC`) and its secret part alone.
httpx logs every request URL (which holds the token) at INFO, so it is set to WARNING.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

REDACTED = "[TOKEN]"
NOISY_LOGGERS = ("httpx", "httpcore")


class TokenRedactor(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        forms = {token, quote(token, safe=""), token.replace(":", "%3a")}
        secret = token.partition(":")[2]
        if len(secret) >= 8:
            forms.add(secret)
        # longest first, so the whole token is replaced before its secret part
        self._forms = sorted((f for f in forms if f), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep what can be shown
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_token_redaction(token: str, level: str = "INFO") -> TokenRedactor:
    """Put the redactor on every root handler (configuring logging first if needed)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redactor = TokenRedactor(token)
    for handler in root.handlers:
        if not any(isinstance(f, TokenRedactor) for f in handler.filters):
            handler.addFilter(redactor)
    logging.captureWarnings(True)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return redactor
