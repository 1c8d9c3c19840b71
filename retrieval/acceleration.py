"""When the compiled kernels (numba) are used, and loading them without blocking a question.

The compiled kernels (retrieval.kernels, retrieval.postings) pay on large indexes and cost
about 15 s of compiling on two cores the first time after an install (later starts load
them from numba's disk cache in under a second). The plain numpy kernels
(retrieval.plain_kernels) give the same results and need no compiler, so:

- an index below COMPILED_FROM chunks is searched, built and edited with numpy, and numba
  is not even imported;
- a larger index's search asks for the compiled kernels without waiting: the first such
  ask starts loading (compiling) them on a background thread, and questions are answered
  with numpy until they are ready;
- building or editing a larger index waits for them (numpy's temporaries there grow with
  the whole index).

numba caches its machine code beside the package (or in the user's cache directory).
When neither is writable, importing the kernels fails ("no locator available"); they are
then cached under the directory given to `use_cache_fallback` (the bot passes
QABOT_DATA_DIR), with a log line.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

log = logging.getLogger(__name__)

# Chunks from which the compiled kernels are used. Median of one search, numpy vs compiled
# (200 KorQuAD questions, three rounds, two cores, KorQuAD paragraphs replicated with their
# rare terms renamed): 1k chunks 1.06 vs 0.05 ms, 3k 2.19 vs 0.06 ms, 10k 9.3 vs 0.07 ms,
# 30k 21 vs 0.13 ms, 100k 78 vs 0.45 ms. Answering a question costs ~3 ms besides the search,
# so from about 5k chunks numpy's search would be the larger part: the compile (once per
# install, ~15 s) pays there.
COMPILED_FROM = 5_000


class CompiledKernels(NamedTuple):
    kernels: ModuleType  # retrieval.kernels
    postings: ModuleType  # retrieval.postings


class _Loader:
    """Loads the compiled kernels once per process, on the caller's thread or in the background."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: CompiledKernels | None = None
        self._background: threading.Thread | None = None
        self._cache_fallback: Path | None = None

    def use_cache_fallback(self, directory: Path) -> None:
        """Where numba caches the kernels' machine code if its own places are not writable."""
        self._cache_fallback = directory

    def ready(self) -> CompiledKernels | None:
        """The compiled kernels if loaded; else None, and they start loading in the background."""
        if self._loaded is None:
            self.start_loading()
        return self._loaded

    def start_loading(self) -> None:
        """Load (compile, on a new install) the kernels on a background thread, once."""
        with self._lock:
            if self._loaded is not None or self._background is not None:
                return
            self._background = threading.Thread(target=self._load_in_background, name="compile-kernels", daemon=True)
            self._background.start()

    def _load_in_background(self) -> None:
        try:
            self.load()
        except Exception:  # the numpy kernels keep answering
            log.exception("the compiled search kernels could not be loaded; searching with numpy")

    def load(self) -> CompiledKernels:
        """The compiled kernels, loading (compiling) and warming them up first if needed."""
        with self._lock:
            if self._loaded is None:
                self._loaded = self._import()
            return self._loaded

    def _import(self) -> CompiledKernels:
        try:
            loaded = CompiledKernels(importlib.import_module("retrieval.kernels"), importlib.import_module("retrieval.postings"))
        except RuntimeError as error:
            if "no locator available" not in str(error) or self._cache_fallback is None:
                raise
            from numba import config

            config.CACHE_DIR = str(self._cache_fallback)
            log.warning("numba cannot cache beside the package (%s); caching under %s", error, self._cache_fallback)
            for name in ("retrieval.kernels", "retrieval.postings"):
                sys.modules.pop(name, None)
            loaded = CompiledKernels(importlib.import_module("retrieval.kernels"), importlib.import_module("retrieval.postings"))
        loaded.kernels.warm_up()
        return loaded

    def wait(self) -> None:
        """Block until a background load has finished (tests, benchmarks)."""
        background = self._background
        if background is not None:
            background.join()


COMPILED = _Loader()


def use_compiled(n_chunks: int) -> bool:
    """Whether an index of this many chunks is large enough for the compiled kernels."""
    return n_chunks >= COMPILED_FROM
