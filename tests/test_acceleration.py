"""The compiled kernels are optional: small corpora never wait for numba, an unwritable
cache falls back to the data directory, and NUMBA_DISABLE_JIT=1 runs them as Python."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_python(code: str, env: dict[str, str], cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_small_corpus_is_answered_without_importing_numba(tmp_path: Path) -> None:
    env = {**os.environ, "QABOT_DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = run_python(
        """
        import sys
        from bot.cli import main
        main(["ask", "1차 평가 결과는?"])
        print("numba loaded:", "numba" in sys.modules)
        """,
        env,
    )
    assert done.returncode == 0, done.stderr
    assert "근거 구절" in done.stdout
    assert "numba loaded: False" in done.stdout


@pytest.mark.slow
def test_an_unwritable_numba_cache_falls_back_to_the_data_directory(tmp_path: Path) -> None:
    """numba caches beside the package, else in the user's cache directory; with neither
    writable (a file where each directory should be) the kernels cache under the data dir."""
    code_dir = tmp_path / "code"
    shutil.copytree(REPO / "retrieval", code_dir / "retrieval", ignore=shutil.ignore_patterns("__pycache__"))
    (code_dir / "retrieval" / "__pycache__").write_text("not a directory")
    (tmp_path / "home").write_text("not a directory")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "home" / "cache"), PYTHONPATH=str(code_dir))
    fallback = tmp_path / "data" / "numba-cache"
    done = run_python(
        f"""
        import logging
        from pathlib import Path
        logging.basicConfig(level=logging.WARNING)
        from retrieval.acceleration import COMPILED
        COMPILED.use_cache_fallback(Path({str(fallback)!r}))
        COMPILED.load()
        print("loaded")
        """,
        env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "loaded" in done.stdout
    assert "numba cannot cache beside the package" in done.stderr
    assert any(fallback.rglob("*.nbi")), "no cached kernel index under the fallback directory"


def test_kernels_run_as_plain_python_with_the_jit_disabled() -> None:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(REPO)}
    done = run_python(
        """
        import numpy as np
        from retrieval import acceleration, kernels, plain_kernels
        from retrieval.bm25 import BM25Params
        from retrieval.index import IndexEntry, IndexSnapshot
        words = [f"w{i}" for i in range(40)]
        rng = np.random.default_rng(4)
        docs = [[words[j] for j in rng.integers(0, 40, rng.integers(1, 30))] for _ in range(60)]
        snapshot = IndexSnapshot.build([IndexEntry(i, "d", d) for i, d in enumerate(docs)], BM25Params())
        numpy_hits = [snapshot.search(["w1", "w7", "w7", "w30"], 5), snapshot.search(["w3"], 5)]
        acceleration.COMPILED_FROM = 0
        assert acceleration.COMPILED.load().kernels is kernels
        compiled_hits = [snapshot.search(["w1", "w7", "w7", "w30"], 5), snapshot.search(["w3"], 5)]
        assert numpy_hits == compiled_hits and numpy_hits[0], (numpy_hits, compiled_hits)
        print("same")
        """,
        env,
    )
    assert done.returncode == 0, done.stderr
    assert "same" in done.stdout
