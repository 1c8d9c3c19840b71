"""One webhook worker process: receives Telegram's deliveries and answers each only after
the update was handled.

Every worker binds TELEGRAM_WEBHOOK_PORT with SO_REUSEPORT, so the kernel spreads incoming
connections over the workers. A delivery is checked against the webhook secret, then
claimed in the shared store by its update_id before it is handled:
- claimed by nobody, or by a worker whose heartbeat stopped: handle it, mark it finished,
  answer 200;
- finished already (a redelivery after a lost answer): answer 200 without handling it;
- held by a live worker: answer 503, and Telegram delivers it again later.
Telegram redelivers whatever did not get a 2xx, so a worker killed mid-update loses nothing:
its claims are taken over once its heartbeat is WORKER_STALE_SECONDS old. The claim is
marked finished the moment the reply's API call returns (FloodControl's after_reply, with
the update found through a context variable), not when the handler ends: what is left is
the millisecond between Telegram accepting the reply and that write, where a kill would
send the reply twice; no transaction can span Telegram and the store. Slow corpus changes
(uploads, /add, /remove) run beside the stream and count as answered at their first
message; an upload cut short is reported by the interrupted-upload notice instead.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import re
import secrets
import signal
import socket
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from multiprocessing.synchronize import Event as ProcessEvent
from urllib.parse import urlparse

import tornado.web
from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from bot.app import open_engine
from bot.settings import Settings
from bot.telegram.application import build_application, on_startup
from bot.telegram.logging_filter import install_token_redaction
from corpus.store import Claim
from corpus.stores import CorpusStore
from retrieval.freshness import FreshnessWatcher

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEARTBEAT_SECONDS = 1.0
STOP_GRACE_SECONDS = 3.0
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_handling: ContextVar[int | None] = ContextVar("handling", default=None)  # the update being handled


@dataclass(frozen=True)
class WorkerPlan:
    """What the supervisor tells worker `index` of `workers`."""

    settings: Settings
    secret: str
    workers: int
    index: int
    announce: bool  # set the command menu and report interrupted uploads (first start, one worker)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def webhook_path(url: str) -> str:
    return urlparse(url).path or "/"


class Receiver:
    """Checks, claims and handles deliveries; answers with the HTTP status to send back."""

    application: Application  # set once built: it calls back into `replied`

    def __init__(self, store: CorpusStore, worker_id: str, secret: str) -> None:
        self.store = store
        self.worker_id = worker_id
        self.secret = secret
        self.in_flight = 0

    async def receive(self, secret: str | None, body: bytes) -> int:
        if secret is None or not hmac.compare_digest(secret.encode(), self.secret.encode()):
            return 403
        try:
            update = Update.de_json(json.loads(body), self.application.bot)
        except (ValueError, TypeError, KeyError):
            return 400
        claim = await asyncio.to_thread(self.store.claim_update, update.update_id, self.worker_id)
        if claim is Claim.DONE:
            return 200
        if claim is Claim.BUSY:
            return 503
        self.in_flight += 1
        _handling.set(update.update_id)  # this request's own context: handlers and their tasks see it
        try:
            await self.application.process_update(update)
        except BaseException:
            await asyncio.to_thread(self.store.release_update, update.update_id)
            raise
        finally:
            self.in_flight -= 1
        await asyncio.to_thread(self.store.finish_update, update.update_id)
        return 200

    def replied(self) -> None:
        """The update being handled was answered: mark it finished now, before anything else
        runs (a blocking write of a millisecond on the event loop, which is the point)."""
        update_id = _handling.get()
        if update_id is not None:
            self.store.finish_update(update_id)


class _Delivery(tornado.web.RequestHandler):
    def initialize(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def post(self) -> None:
        self.set_status(await self.receiver.receive(self.request.headers.get(SECRET_HEADER), self.request.body))
        await self.finish()


class _Heartbeat:
    """Tells the store every HEARTBEAT_SECONDS that this worker is alive."""

    def __init__(self, store: CorpusStore, worker_id: str) -> None:
        self.store, self.worker_id = store, worker_id
        self._stopped = threading.Event()
        store.heartbeat(worker_id)
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(HEARTBEAT_SECONDS):
            try:
                self.store.heartbeat(self.worker_id)
            except Exception:
                log.exception("heartbeat failed")

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(HEARTBEAT_SECONDS + 5)


def run_worker(plan: WorkerPlan, ready: ProcessEvent) -> None:
    """A worker process's main: serve deliveries until SIGTERM or SIGINT."""
    settings = plan.settings
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_token_redaction(settings.token or "", settings.log_level)
    engine = open_engine(settings)
    worker_id = new_worker_id()
    heartbeat = _Heartbeat(engine.store, worker_id)
    receiver = Receiver(engine.store, worker_id, plan.secret)
    try:
        with FreshnessWatcher(engine):
            receiver.application = build_application(settings, engine, plan.workers, after_reply=receiver.replied)
            asyncio.run(_serve(plan, receiver, ready))
    finally:
        heartbeat.stop()
        engine.close()
    log.info("worker %d stopped", plan.index)


async def _serve(plan: WorkerPlan, receiver: Receiver, ready: ProcessEvent) -> None:
    application = receiver.application
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in _STOP_SIGNALS:
        loop.add_signal_handler(number, stop.set)
    await application.initialize()
    if plan.announce:
        await on_startup(application)
    await application.start()
    path = re.escape(webhook_path(plan.settings.webhook_url or ""))
    server = HTTPServer(tornado.web.Application([(path, _Delivery, {"receiver": receiver})]))
    server.add_sockets(bind_sockets(plan.settings.webhook_port, address="0.0.0.0", reuse_port=True))
    log.info("webhook worker %d (%s) listening on port %d", plan.index, receiver.worker_id, plan.settings.webhook_port)
    ready.set()
    await stop.wait()
    server.stop()  # no new connections; the deliveries being handled are answered first
    deadline = loop.time() + STOP_GRACE_SECONDS
    while receiver.in_flight and loop.time() < deadline:
        await asyncio.sleep(0.05)
    await server.close_all_connections()
    await application.stop()
    await application.shutdown()
