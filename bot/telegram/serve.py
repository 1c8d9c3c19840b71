"""`qabot serve` / `python -m bot`: run the Telegram bot until SIGINT or SIGTERM.

Long polling by default; webhook mode when TELEGRAM_WEBHOOK_URL is set: `--workers N`
processes share TELEGRAM_WEBHOOK_PORT behind an HTTPS proxy (bot/telegram/workers.py).
Long polling cannot be shared, so several workers need the webhook. Without a token it
explains how to get one and exits 2. Either way the index follows corpus changes made by
other processes (retrieval/freshness.py).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from telegram import Bot
from telegram.error import InvalidToken, TelegramError

from bot.app import open_engine
from bot.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from bot.settings import Settings
from bot.telegram.application import ALLOWED_UPDATES, api_urls, build_application
from bot.telegram.logging_filter import install_token_redaction
from bot.telegram.workers import run_webhook_workers
from retrieval.freshness import FreshnessWatcher

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

NO_TOKEN = """\
TELEGRAM_BOT_TOKEN이 설정되지 않아 텔레그램 봇을 시작할 수 없습니다.

봇 토큰 받는 법:
  1. 텔레그램에서 @BotFather 와 대화를 시작하고 /newbot 을 보냅니다.
  2. 봇의 이름과 사용자 이름(끝이 bot 인 이름, 예: my_docs_qa_bot)을 정합니다.
  3. BotFather가 알려 준 토큰(123456789:AA... 모양)을 환경 변수나 .env 파일에 넣습니다:
       export TELEGRAM_BOT_TOKEN='123456789:AA...'
  4. (선택) 인라인 모드를 쓰려면 BotFather에서 /setinline 을 켭니다.
  5. 문서를 추가할 관리자의 텔레그램 사용자 ID를 QABOT_ADMIN_IDS 에 적습니다(쉼표로 구분).
그다음 다시 `qabot serve` 를 실행하세요.

토큰 없이 터미널에서 바로 물어보려면 `qabot chat` 을 쓰세요.
"""


WORKERS_NEED_WEBHOOK = """\
--workers {workers}: 여러 작업자는 웹훅 모드에서만 쓸 수 있습니다.
롱 폴링(getUpdates)은 봇 하나당 한 프로세스만 할 수 있어서 나눌 수 없습니다.
TELEGRAM_WEBHOOK_URL(텔레그램이 업데이트를 보낼 주소)과 TELEGRAM_WEBHOOK_PORT를 설정하거나,
--workers 없이 작업자 하나로 실행하세요.
"""


async def _check_token(settings: Settings) -> None:
    """Ask the Bot API who we are (getMe); raises InvalidToken or another TelegramError."""
    base_url, base_file_url = api_urls(settings)
    async with Bot(settings.token, base_url=base_url, base_file_url=base_file_url):
        pass


def run_serve(settings: Settings, workers: int = 1) -> int:
    if workers > 1 and not settings.webhook_url:
        print(WORKERS_NEED_WEBHOOK.format(workers=workers), file=sys.stderr, end="")
        return EXIT_USAGE
    if not settings.token:
        print(NO_TOKEN, file=sys.stderr, end="")
        return EXIT_USAGE
    install_token_redaction(settings.token, settings.log_level)
    # before the engine: a refused token or an unreachable server is reported at once,
    # without loading Kiwi (~2 s) or writing a store
    if not _reachable_with_token(settings):
        return EXIT_ERROR
    if settings.webhook_url:
        return run_webhook_workers(settings, workers)
    engine = open_engine(settings)
    try:
        application = build_application(settings, engine)
        log.info("long polling %s", settings.api_url)
        with FreshnessWatcher(engine):
            application.run_polling(allowed_updates=ALLOWED_UPDATES, stop_signals=STOP_SIGNALS)
    except TelegramError as error:
        _report(error, settings)
        return EXIT_ERROR
    finally:
        engine.close()
    log.info("stopped")
    return EXIT_OK


def _reachable_with_token(settings: Settings) -> bool:
    try:
        asyncio.run(_check_token(settings))
    except TelegramError as error:
        _report(error, settings)
        return False
    return True


def _report(error: TelegramError, settings: Settings) -> None:
    if isinstance(error, InvalidToken):
        log.error("the Bot API server refused the token; check TELEGRAM_BOT_TOKEN")
    else:
        log.error("cannot reach the Bot API server at %s: %s", settings.api_url, error)
