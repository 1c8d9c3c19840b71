"""A per-user sliding-window rate limit for questions, with one polite notice per burst:
in memory for one process, or kept in the store when several workers share the users."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from corpus.stores import CorpusStore

WINDOW_SECONDS = 60.0
_PRUNE_AT = 10_000  # users tracked before idle ones are forgotten


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until the next question is allowed
    notify: bool = False  # the first refusal of a burst: tell the user once


class RateLimiter:
    """At most `per_minute` questions per user in any 60 s; `per_minute <= 0` disables it."""

    def __init__(
        self, per_minute: int, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.window = window
        self._clock = clock
        self._times: dict[int, deque[float]] = {}
        self._notified: dict[int, float] = {}
        self._lock = threading.Lock()

    def hit(self, user_id: int) -> Decision:
        """Count a question by `user_id` if allowed; otherwise say how long to wait."""
        if self.per_minute <= 0:
            return Decision(True)
        now = self._clock()
        with self._lock:
            times = self._times.setdefault(user_id, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) < self.per_minute:
                times.append(now)
                self._notified.pop(user_id, None)
                if len(self._times) > _PRUNE_AT:
                    self._prune(now)
                return Decision(True)
            retry_after = max(0.0, times[0] + self.window - now)
            notify = self._notified.get(user_id, -1.0) < times[0]
            self._notified[user_id] = now
            return Decision(False, retry_after, notify)

    def _prune(self, now: float) -> None:
        for user_id in [u for u, t in self._times.items() if not t or t[-1] <= now - self.window]:
            del self._times[user_id]
            self._notified.pop(user_id, None)


class SharedRateLimiter:
    """The same limit counted in the store, so every worker and machine sees one window per user."""

    def __init__(self, store: CorpusStore, per_minute: int, window: float = WINDOW_SECONDS) -> None:
        self.store = store
        self.per_minute = per_minute
        self.window = window

    def hit(self, user_id: int) -> Decision:
        if self.per_minute <= 0:
            return Decision(True)
        counted = self.store.count_rate_hit(f"question:{user_id}", self.per_minute, self.window)
        return Decision(counted.allowed, counted.retry_after, counted.notify)


def rate_limited_message(retry_after: float) -> str:
    seconds = max(1, int(retry_after + 0.999))
    return f"질문이 너무 잦습니다. {seconds}초 뒤에 다시 물어봐 주세요. 🙏"
