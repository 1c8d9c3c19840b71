"""The per-user rate limit and the token-redacting log filter, as plain units."""

from __future__ import annotations

import io
import logging

from bot.telegram.logging_filter import REDACTED, TokenRedactor, install_token_redaction
from bot.telegram.ratelimit import RateLimiter, rate_limited_message

TOKEN = "123456:ABC-def_GHIjklMNO"


def test_rate_limit_per_user_with_one_notice():
    now = [0.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    assert all(limiter.hit(1).allowed for _ in range(3))
    first, second = limiter.hit(1), limiter.hit(1)
    assert not first.allowed and first.notify and 59 <= first.retry_after <= 60
    assert not second.allowed and not second.notify
    assert limiter.hit(2).allowed  # another user is not affected
    now[0] = 60.5
    assert limiter.hit(1).allowed
    assert "초 뒤" in rate_limited_message(first.retry_after)


def test_rate_limit_disabled_with_zero():
    limiter = RateLimiter(0)
    assert all(limiter.hit(1).allowed for _ in range(100))


def test_redaction_of_message_args_and_exception():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TokenRedactor(TOKEN))
    logger = logging.getLogger("qabot-redaction-test")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("GET https://api.telegram.org/bot%s/getMe", TOKEN)
        logger.info("file https://api.telegram.org/file/bot123456%3AABC-def_GHIjklMNO/documents/x.txt")
        logger.info("lower %s", "123456%3aABC-def_GHIjklMNO")
        try:
            raise RuntimeError(f"failed with {TOKEN}")
        except RuntimeError:
            logger.exception("boom %r", {"token": TOKEN})
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "ABC-def_GHIjklMNO" not in output and "123456%3A" not in output and "123456:" not in output
    assert output.count(REDACTED) >= 5
    assert "RuntimeError" in output


def test_install_puts_the_filter_on_root_handlers():
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        install_token_redaction(TOKEN)
        assert any(isinstance(f, TokenRedactor) for f in handler.filters)
        assert logging.getLogger("httpx").level == logging.WARNING
    finally:
        root.removeHandler(handler)
