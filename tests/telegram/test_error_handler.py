"""One failing update: logged with its id, a short apology, and the bot carries on.

The real Application runs in this process against the fake server, with an engine that
has no analyzer: every question then fails inside its handler, as an unexpected bug would.
"""

from __future__ import annotations

import asyncio
import logging

from bot.settings import Settings
from bot.telegram.application import ALLOWED_UPDATES, build_application
from bot.telegram.errors import APOLOGY
from corpus.store import Store
from retrieval.engine import Engine
from tests.botapi import BotApiServer


def test_failing_update_is_logged_apologised_and_the_bot_continues(tmp_path, analyzer, caplog):
    caplog.set_level(logging.ERROR, logger="bot.telegram.errors")
    with BotApiServer(token="42:error-handler-test", bot_username="qabot_error_bot") as server:
        settings = Settings(data_dir=tmp_path, token=server.token, api_url=server.url)
        engine = Engine(Store(settings.store_path), analyzer)
        engine.analyzer = None  # every question now fails inside the handler
        application = build_application(settings, engine)

        async def scenario() -> None:
            async with application:
                await application.start()
                await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=1)
                try:
                    question = server.send_text(7, 7, "1차 평가에서 탈락한 팀은?")
                    apology = await asyncio.to_thread(server.wait_for_message, 7, since=question)
                    assert apology.plain_text == APOLOGY
                    docs = server.send_command(7, 7, "/docs")
                    reply = await asyncio.to_thread(server.wait_for_message, 7, since=docs)
                    assert "문서가 없습니다" in reply.plain_text
                finally:
                    await application.updater.stop()
                    await application.stop()

        asyncio.run(scenario())
        engine.close()
        assert server.errors == []
        update_id = server.updates()[0]["update_id"]
    assert any(f"update {update_id} failed" in record.getMessage() for record in caplog.records)
