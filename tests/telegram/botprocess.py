"""The real bot (`python -m bot`) as a subprocess against the fake Bot API server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.botapi import BotApiServer

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAH-qabotTESTsecret_Zx9"
BOT_USERNAME = "qabot_test_bot"
ADMIN_ID = 1001
START_TIMEOUT = 90


class BotProcess:
    """Starts, stops and restarts `python -m bot` with a given data dir; keeps its stderr."""

    def __init__(
        self,
        server: BotApiServer,
        data_dir: Path,
        log_dir: Path,
        admin_ids: str = str(ADMIN_ID),
        args: tuple[str, ...] = (),
        **extra_env: str,
    ) -> None:
        self.server = server
        self.args = args  # after `python -m bot`, e.g. ("--workers", "2")
        self.admin_ids = admin_ids
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.extra_env = extra_env
        self.process: subprocess.Popen | None = None
        self.logs: list[Path] = []
        self.starts = 0

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "QABOT_"))}
        env.update(
            TELEGRAM_API_URL=self.server.url,
            TELEGRAM_BOT_TOKEN=self.server.token,
            QABOT_DATA_DIR=str(self.data_dir),
            QABOT_ADMIN_IDS=self.admin_ids,
            QABOT_LOG_LEVEL="DEBUG",
            PYTHONPATH=str(REPO),
        )
        env.update(self.extra_env)
        return env

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, wait: bool = True) -> None:
        self.starts += 1
        log = self.log_dir / f"bot-{self.starts}.log"
        self.logs.append(log)
        mark = self.server.mark()
        with open(log, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", *self.args],
                cwd=self.log_dir,
                env=self.env(),
                stdout=stderr,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_polling(mark)

    def wait_polling(self, mark: int) -> None:
        """Wait until the bot, started after `mark`, is about to poll."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode}:\n{self.output()[-3000:]}")
            # deleteWebhook comes right before polling starts; updates sent from now on wait
            # in the server's queue for the first getUpdates (whose answer is recorded only
            # when it returns, up to its 10 s timeout later). In webhook mode setWebhook does:
            # the server delivers them once the bot's listener answers.
            if any(c.method.lower() in ("deletewebhook", "setwebhook") for c in self.server.calls(since=mark)):
                return
            time.sleep(0.05)
        raise TimeoutError(f"the bot did not start polling:\n{self.output()[-3000:]}")

    def ensure_running(self) -> None:
        if not self.running:
            self.start()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> tuple[int, float]:
        """Send `sig`, wait; returns (exit status, seconds it took)."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        return code, time.monotonic() - started

    def kill(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(30)

    def output(self) -> str:
        return "\n".join(p.read_text("utf-8", "replace") for p in self.logs if p.exists())
