"""The real bot (`python -m bot`) for the reliability tests, against the strict local Bot API.

One bot process is shared by every reliability module that only talks to it (access,
secrets, hostile input through the bot, concurrency, the load smoke test): Kiwi takes
seconds to load, so it is started once, on first use, and stopped when the session ends.
It runs at DEBUG with a recognisable token, so test_secrets can search all its output.
Tests keep apart by using user and chat ids of their own (`fresh_id`).

The crash test starts its own processes with `BotRun`, since it kills them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.botapi import BotApiServer
from tests.reliability_helpers import REPO
from tests.telegram.botprocess import BotProcess

if TYPE_CHECKING:
    import pytest

TOKEN = "424242:QABOTsecretTOKEN-Do_Not_Leak-7f3a9c"
TOKEN_FORMS = (TOKEN, TOKEN.replace(":", "%3A"), TOKEN.replace(":", "%3a"), TOKEN.partition(":")[2])
BOT_USERNAME = "qabot_reliability_bot"
ADMIN_ID = 7001
SECOND_ADMIN_ID = 7002
ADMIN_USERNAME = "corpus_boss"

_ids = itertools.count(300_000)


def fresh_id() -> int:
    """A user id (and private chat id) no other reliability test uses."""
    return next(_ids)


class BotRun(BotProcess):
    """One `python -m bot` process for the reliability tests: both admins, output in log files."""

    def __init__(
        self, server: BotApiServer, data_dir: Path, log_dir: Path, args: tuple[str, ...] = (), **env: str
    ) -> None:
        super().__init__(server, data_dir, log_dir, admin_ids=f"{ADMIN_ID},{SECOND_ADMIN_ID}", args=args, **env)


WRONG_TOKEN = "424242:WRONGsecretTOKEN-rejected_Q8z1x"


@dataclass
class SharedBot:
    server: BotApiServer
    run: BotRun
    # A second bot with a token the server rejects (for test_secrets), started beside the
    # shared one so that its seconds of loading overlap.
    rejected: BotRun


_shared: SharedBot | None = None


def shared_bot(request: pytest.FixtureRequest) -> SharedBot:
    """The session's shared bot: started on first use, stopped (SIGTERM) at the end of the session."""
    global _shared
    if _shared is not None and _shared.run.running:
        return _shared
    if _shared is None:
        base = request.getfixturevalue("tmp_path_factory").mktemp("reliability-bot")
        server = BotApiServer(token=TOKEN, bot_username=BOT_USERNAME).start()
        other = BotApiServer(token=TOKEN, bot_username=BOT_USERNAME).start()  # its refusals stay apart
        rejected = BotRun(other, base / "rejected-data", base / "rejected", TELEGRAM_BOT_TOKEN=WRONG_TOKEN)
        rejected.log_dir.mkdir()
        _shared = SharedBot(server, BotRun(server, base / "data", base), rejected)
        request.config.add_cleanup(_stop_shared)
        rejected.start(wait=False)
    _shared.run.start()
    return _shared


def _stop_shared() -> None:
    global _shared
    if _shared is None:
        return
    try:
        if _shared.rejected.running:
            _shared.rejected.process.kill()
            _shared.rejected.process.wait()
        if _shared.run.running:
            _shared.run.stop(timeout=20)
    finally:
        _shared.server.stop()
        _shared.rejected.server.stop()
        _shared = None


__all__ = [
    "ADMIN_ID",
    "ADMIN_USERNAME",
    "BOT_USERNAME",
    "REPO",
    "SECOND_ADMIN_ID",
    "TOKEN",
    "TOKEN_FORMS",
    "WRONG_TOKEN",
    "BotRun",
    "SharedBot",
    "fresh_id",
    "shared_bot",
]
