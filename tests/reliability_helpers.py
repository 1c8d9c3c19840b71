"""Helpers shared by the reliability tests: distinctive documents, store checks, subprocess env.

Not a test module; imported by test_crash_safety, test_concurrency, test_hostile_input and
the bot-level reliability tests.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from retrieval.engine import Engine

REPO = Path(__file__).resolve().parent.parent

_TOPICS = ("전력", "급수", "통신", "소방", "환기", "승강기", "배수", "조명", "난방", "보안")


def big_document(marker: str, sections: int = 40, fact: str | None = None) -> str:
    """A long Korean document, distinct per `marker`, with one unique fact in the middle.

    About 1.6 KB of UTF-8 per section; `fact` (a sentence) is placed in the middle section.
    """
    lines = [f"# {marker} 시설 운영 보고서", ""]
    for i in range(sections):
        topic = _TOPICS[i % len(_TOPICS)]
        lines += [f"## 제{i + 1}절 {topic} 설비 점검", ""]
        for j in range(4):
            other = _TOPICS[(i + j + 3) % len(_TOPICS)]
            lines.append(
                f"{marker} {i + 1}구역의 {topic} 담당 부서는 {j + 1}분기마다 {other} 설비 {i * 7 + j}대를 점검하고 "
                f"결과를 본부에 보고합니다. 점검에서 이상이 발견되면 {j + 2}시간 안에 현장 조치반이 투입됩니다."
            )
            lines.append("")
        if fact and i == sections // 2:
            lines += [fact, ""]
    return "\n".join(lines)


def subprocess_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a `qabot` / `python -m bot` child: no inherited qabot or Telegram settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("QABOT_", "TELEGRAM_")) and key not in ("PYTHONPATH",)
    }
    env["QABOT_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(REPO)
    env.setdefault("QABOT_LOG_LEVEL", "WARNING")
    env.update(extra)
    return env


def qabot_command(*args: str) -> list[str]:
    """`qabot ARGS` with the console script next to this interpreter, else `python -m bot.cli`."""
    script = Path(sys.executable).with_name("qabot")
    if script.is_file():
        return [str(script), *args]
    return [sys.executable, "-m", "bot.cli", *args]


def assert_store_consistent(store_path: Path) -> dict[str, tuple[str, int]]:
    """The store opens, is intact, has no orphan chunks and every chunk_count is right.

    Returns {document id: (title, chunk_count)}.
    """
    with closing(sqlite3.connect(store_path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = connection.execute(
            "SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)"
        ).fetchone()[0]
        assert orphans == 0, f"{orphans} orphan chunks"
        wrong = connection.execute(
            "SELECT d.id, d.chunk_count, COUNT(c.id) FROM documents d LEFT JOIN chunks c ON c.doc_id = d.id"
            " GROUP BY d.id HAVING d.chunk_count != COUNT(c.id)"
        ).fetchall()
        assert wrong == [], f"chunk_count differs from the stored chunks: {wrong}"
        empty = connection.execute(
            "SELECT id FROM documents WHERE id NOT IN (SELECT doc_id FROM chunks)"
        ).fetchall()
        assert empty == [], f"documents without chunks: {empty}"
        rows = connection.execute("SELECT id, title, chunk_count FROM documents").fetchall()
    return {doc_id: (title, count) for doc_id, title, count in rows}


def store_chunk_rows(store_path: Path) -> dict[int, str]:
    """{chunk row id: document id} as the store has them."""
    with closing(sqlite3.connect(store_path)) as connection:
        return dict(connection.execute("SELECT id, doc_id FROM chunks"))


def assert_index_matches_store(engine: Engine) -> None:
    """The engine's snapshot holds exactly the store's chunks, each under its own document."""
    snapshot = engine.snapshot
    indexed = dict(zip(snapshot.row_ids.tolist(), snapshot.doc_ids.tolist(), strict=True))
    assert len(indexed) == len(snapshot), "duplicate row ids in the index"
    assert indexed == store_chunk_rows(engine.store.path)
