"""What every handler shares, kept in application.bot_data: settings, engine, rate limiter."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram.ext import ContextTypes

from bot.settings import Settings
from bot.telegram.help_text import ExampleQuestions
from bot.telegram.ratelimit import RateLimiter, SharedRateLimiter
from retrieval.engine import Engine

KEY = "qabot"
T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    engine: Engine
    limiter: RateLimiter | SharedRateLimiter
    examples: ExampleQuestions = field(init=False)
    corpus_changes: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.examples = ExampleQuestions(self.engine)
        # Uploads and removals queue on one thread of their own, so however many arrive
        # at once, the default pool's threads stay free for questions.
        self.corpus_changes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qabot-corpus")

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """CPU or disk work off the event loop (Kiwi, BM25, SQLite), so the bot keeps answering."""
        return await asyncio.to_thread(function, *args, **kwargs)

    async def run_corpus_change(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Adding or removing a document: off the event loop, one at a time."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.corpus_changes, functools.partial(function, *args, **kwargs))


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data[KEY]
