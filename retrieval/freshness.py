"""Keeps an engine's index current with a store that other processes change too.

A thread waits for the store's change notification (PostgreSQL LISTEN/NOTIFY) or for
`check_every` seconds, whichever comes first, and then lets the engine catch up with the
store's generation. The periodic check is the fallback: SQLite has no notifications, and a
notification sent while the listening connection was down is lost, but the generation is not.
"""

from __future__ import annotations

import logging
import threading

from retrieval.engine import Engine

log = logging.getLogger(__name__)

CHECK_EVERY_SECONDS = 1.0


class FreshnessWatcher:
    def __init__(self, engine: Engine, check_every: float = CHECK_EVERY_SECONDS) -> None:
        self.engine = engine
        self.check_every = check_every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index-freshness", daemon=True)

    def start(self) -> FreshnessWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(self.check_every + 5)

    def __enter__(self) -> FreshnessWatcher:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.engine.store.wait_for_change(self.check_every)
                if not self._stopped.is_set():
                    self.engine.refresh()
            except Exception:  # a store hiccup must not end the watch: the next round retries
                log.exception("could not bring the index up to date with the store")
                self._stopped.wait(self.check_every)
