"""How settings reach PTB: endpoints, local mode only on request, the webhook secret."""

from __future__ import annotations

import pytest

from bot.settings import load_settings
from bot.telegram.application import build_application
from bot.telegram.serve import webhook_secret
from corpus.store import Store
from retrieval.engine import Engine

TOKEN = "123:secret-part-of-the-token"


@pytest.fixture
def engine(tmp_path, analyzer):
    engine = Engine(Store(tmp_path / "store.sqlite3"), analyzer)
    yield engine
    engine.close()


@pytest.mark.parametrize(("local", "expected"), [("", False), ("0", False), ("1", True)])
def test_endpoints_and_local_mode(tmp_path, engine, local, expected):
    settings = load_settings(
        {
            "QABOT_DATA_DIR": str(tmp_path),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
            "TELEGRAM_LOCAL_MODE": local,
        }
    )
    bot = build_application(settings, engine).bot
    assert bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    assert bot.local_mode is expected


def test_webhook_secret_is_stable_and_hides_the_token():
    secret = webhook_secret(TOKEN)
    assert secret == webhook_secret(TOKEN) != webhook_secret(TOKEN + "x")
    assert len(secret) == 32 and TOKEN.partition(":")[2] not in secret
