"""`qabot serve` in webhook mode: a light supervisor process and N worker processes.

The supervisor never loads Kiwi. It starts the first worker alone (which migrates and seeds
the store and builds the index cache, so the others find both ready), then the rest; once
all listen on the shared port it registers the webhook with its secret. A worker that dies
is started again. SIGTERM or SIGINT stops every worker (each answers the deliveries it is
handling first) and then the supervisor.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import secrets
import signal
import threading
import time
from multiprocessing.context import SpawnProcess

from telegram import Bot

from bot.settings import Settings
from bot.telegram.application import ALLOWED_UPDATES, api_urls
from bot.telegram.webhook_worker import WorkerPlan, run_worker

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 300.0
STOP_TIMEOUT_SECONDS = 10.0
RESTART_PAUSE_SECONDS = 1.0
MAX_CONNECTIONS = 40  # Telegram's default number of simultaneous deliveries


class Supervisor:
    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        # several machines behind one URL must share it: then set TELEGRAM_WEBHOOK_SECRET
        self.secret = settings.webhook_secret or secrets.token_urlsafe(32)
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[SpawnProcess | None] = [None] * workers
        self._stopping = threading.Event()

    def _start(self, index: int, announce: bool) -> tuple[SpawnProcess, object]:
        ready = self._context.Event()
        plan = WorkerPlan(self.settings, self.secret, self.workers, index, announce)
        process = self._context.Process(target=run_worker, args=(plan, ready), name=f"qabot-worker-{index}")
        process.start()
        self._processes[index] = process
        return process, ready

    def _wait_ready(self, process: SpawnProcess, ready) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline and not self._stopping.is_set():
            if ready.wait(0.1):
                return True
            if not process.is_alive():
                return False
        return False

    def run(self) -> int:
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: self._stopping.set())
        log.info("webhook mode: %d workers on port %d", self.workers, self.settings.webhook_port)
        try:
            for index in range(self.workers):
                process, ready = self._start(index, announce=index == 0)
                if not self._wait_ready(process, ready):
                    if self._stopping.is_set():
                        return 0
                    log.error("worker %d did not start (exit status %s)", index, process.exitcode)
                    return 1
            asyncio.run(self._register_webhook())
            self._supervise()
        finally:
            self._stop_all()
        log.info("stopped")
        return 0

    async def _register_webhook(self) -> None:
        base_url, base_file_url = api_urls(self.settings)
        async with Bot(self.settings.token, base_url=base_url, base_file_url=base_file_url) as bot:
            await bot.set_webhook(
                self.settings.webhook_url,
                secret_token=self.secret,
                allowed_updates=ALLOWED_UPDATES,
                max_connections=MAX_CONNECTIONS,
            )

    def _supervise(self) -> None:
        while not self._stopping.wait(0.2):
            for index, process in enumerate(self._processes):
                if process is not None and not process.is_alive():
                    log.warning("worker %d exited with %s; starting it again", index, process.exitcode)
                    self._stopping.wait(RESTART_PAUSE_SECONDS)
                    if not self._stopping.is_set():
                        self._start(index, announce=False)

    def _stop_all(self) -> None:
        running = [p for p in self._processes if p is not None and p.is_alive()]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker %s did not stop in time; killing it", process.name)
                process.kill()
                process.join()


def run_webhook_workers(settings: Settings, workers: int) -> int:
    return Supervisor(settings, workers).run()
