"""Crash safety: `qabot add` killed with SIGKILL mid-way, and damaged index files.

Two `qabot add BIG.txt` processes run at once, each on its own copy of a seeded data dir,
and each is killed with SIGKILL at a moment observed from outside, without hooks:

* during analysis: BIG.txt's access time is set before its modification time, so the
  kernel (relatime) updates it when the child reads the file; the child is killed a moment
  later, while it analyses, having written nothing (no SQLite write lock taken, WAL empty);
* at the first write: SQLite takes the WAL write lock (a POSIX lock on byte 120 of the
  `-shm` file) at `BEGIN IMMEDIATE`; the child is killed as soon as /proc/locks shows it,
  i.e. inside the document's transaction (should the whole transaction slip between two
  looks, the checks still run and the test is skipped, saying so).

After each kill the data dir is opened again: the store is intact, the document is wholly
present or wholly absent, no chunk is orphaned, chunk counts match, the index matches the
store, and adding the document again works (or is refused as a duplicate when it landed).
Index files that are corrupt, truncated, stale or not index files at all are detected and
rebuilt from the store, and the answers stay right.

The same for the bot: two `python -m bot` processes (own Bot API server and data dir each)
get an admin's large upload; one is killed while it analyses the downloaded file (after the
server saw the download), the other at its first write. Each is restarted; the store is
consistent, the upload is processed again or the admin resends it and is told it was
added (or that it is already there), the document answers questions, and the index the
bot left matches the store.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from bot.app import open_engine
from bot.settings import Settings
from corpus.errors import DuplicateDocument
from retrieval.analyzer import Analyzer
from retrieval.engine import Engine
from tests.botapi import BotApiServer
from tests.reliability_bot import ADMIN_ID, BOT_USERNAME, TOKEN, BotRun, fresh_id
from tests.reliability_helpers import (
    assert_index_matches_store,
    assert_store_consistent,
    big_document,
    qabot_command,
    subprocess_env,
)


pytestmark = pytest.mark.slow  # kills real qabot processes and restarts from copies of a data dir

FACT = "시험용 고유 사실로, 청록색 등대의 관리인은 김하늘입니다."
FACT_QUESTION = "청록색 등대의 관리인은 누구인가요?"
SEED_QUESTION = "1차 평가에서 탈락한 팀은 어디인가요?"
SEED_ANSWERS = ("네이버클라우드", "NC AI")
RUN_TIMEOUT = 240.0
ANALYSIS_GRACE = 0.05  # seconds after the file was read: inside the analysis (Kiwi's first call alone takes seconds)
WAL_WRITE_LOCK_BYTE = "120"  # WALINDEX_LOCK_OFFSET + WAL_WRITE_LOCK in SQLite's wal.c


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


def _store_files(data_dir: Path) -> tuple[Path, Path, Path]:
    store = _settings(data_dir).store_path
    return store, store.with_name(store.name + "-wal"), store.with_name(store.name + "-shm")


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory, analyzer: Analyzer) -> Path:
    """A data dir seeded with the bundled document, its index saved, the store closed cleanly."""
    data_dir = tmp_path_factory.mktemp("base") / "data"
    with open_engine(_settings(data_dir), warm_up=False):
        pass
    assert _settings(data_dir).index_path.is_file()
    assert not _store_files(data_dir)[1].exists()
    return data_dir


def _holds_wal_write_lock(pid: int, shm_inode: int) -> bool:
    """True when /proc/locks shows `pid` holding SQLite's WAL write lock on the -shm file."""
    for line in Path("/proc/locks").read_text().splitlines():
        fields = [f for f in line.split() if f != "->"]
        # "7: POSIX  ADVISORY  WRITE 7838 fe:00:2148835 120 120"
        if (
            len(fields) >= 8 and fields[3] == "WRITE" and fields[4] == str(pid)
            and fields[5].rsplit(":", 1)[-1] == str(shm_inode) and fields[6] == WAL_WRITE_LOCK_BYTE
        ):
            return True
    return False


@dataclass
class KillRun:
    """One `qabot add BIG.txt` child and the moment it is to be killed at."""

    name: str  # "analysis" or "first_write"
    data_dir: Path
    big: Path
    process: subprocess.Popen | None = None
    atime: float = 0.0
    read_at: float | None = None
    killed: bool = False
    note: dict[str, object] = field(default_factory=dict)

    def start(self, cwd: Path) -> None:
        stat = self.big.stat()
        # relatime updates atime on the next read when atime is older than mtime.
        os.utime(self.big, (stat.st_mtime - 3 * 86400, stat.st_mtime))
        self.atime = self.big.stat().st_atime
        self.log = open(cwd / f"{self.name}.log", "wb")  # noqa: SIM115 - closed in finish()
        self.process = subprocess.Popen(
            qabot_command("add", str(self.big)),
            cwd=cwd,
            env=subprocess_env(self.data_dir),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, **note: object) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.killed = True
        self.note.update(note)

    def poll(self) -> bool:
        """Look once; kill when the moment has come. True when this run needs no more polling."""
        assert self.process is not None
        if self.killed or self.process.poll() is not None:
            return True
        _, wal, shm = _store_files(self.data_dir)
        if self.name == "analysis":
            if self.read_at is None:
                if self.big.stat().st_atime != self.atime:
                    self.read_at = time.monotonic()
                return False
            if time.monotonic() - self.read_at < ANALYSIS_GRACE:
                return False
            wal_size = wal.stat().st_size if wal.exists() else 0
            locked = shm.exists() and _holds_wal_write_lock(self.process.pid, shm.stat().st_ino)
            self.kill(wal_size=wal_size, write_locked=locked)
            return True
        try:
            inode = shm.stat().st_ino
        except FileNotFoundError:
            return False
        if _holds_wal_write_lock(self.process.pid, inode):
            self.kill(wal_size=wal.stat().st_size if wal.exists() else 0)
            return True
        return False

    def finish(self) -> int:
        assert self.process is not None
        try:
            code = self.process.wait(timeout=30)
        finally:
            self.log.close()
        return code

    def output(self) -> str:
        return (self.big.parent / f"{self.name}.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def killed_runs(base_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, KillRun]:
    """Both children started together and polled until each has been killed (or has exited)."""
    if not Path("/proc/locks").is_file():
        pytest.skip("needs /proc/locks to see SQLite's write lock")
    runs: dict[str, KillRun] = {}
    for name in ("analysis", "first_write"):
        work = tmp_path_factory.mktemp(f"kill_{name}")
        data_dir = work / "data"
        shutil.copytree(base_dir, data_dir)
        big = work / "BIG.txt"
        big.write_text(big_document("크래시 시험", fact=FACT), encoding="utf-8")
        runs[name] = KillRun(name, data_dir, big)
    _require_atime_updates(tmp_path_factory.mktemp("atime_probe") / "probe.txt")
    for run in runs.values():
        run.start(run.big.parent)
    deadline = time.monotonic() + RUN_TIMEOUT
    pending = list(runs.values())
    try:
        while pending and time.monotonic() < deadline:
            pending = [run for run in pending if not run.poll()]
            time.sleep(0.0005)
    finally:
        for run in pending:
            run.process.kill()
    for run in runs.values():
        run.note["returncode"] = run.finish()
    assert not pending, f"no kill moment seen in {RUN_TIMEOUT:.0f} s: {[r.output() for r in pending]}"
    return runs


def _require_atime_updates(probe: Path) -> None:
    probe.write_text("x")
    stat = probe.stat()
    os.utime(probe, (stat.st_mtime - 3 * 86400, stat.st_mtime))
    before = probe.stat().st_atime
    probe.read_bytes()
    if probe.stat().st_atime == before:
        pytest.skip("the file system does not update access times (noatime)")


def _restart_and_readd(run: KillRun, base_docs: dict[str, tuple[str, int]]) -> str:
    """Open the crashed data dir again; check it; add BIG.txt again; ask about it. Returns the outcome."""
    store_path = _store_files(run.data_dir)[0]
    docs = assert_store_consistent(store_path)
    for doc_id, info in base_docs.items():
        assert docs.get(doc_id) == info, "a document that was there before the crash changed"
    added = {doc_id: info for doc_id, info in docs.items() if doc_id not in base_docs}
    assert len(added) <= 1
    outcome = "present" if added else "absent"
    with open_engine(_settings(run.data_dir), warm_up=False) as engine:
        assert_index_matches_store(engine)
        if added:
            with pytest.raises(DuplicateDocument):
                engine.add_file(run.big, added_by="cli")
        else:
            new = engine.add_file(run.big, added_by="cli")
            assert new.info.chunk_count > 20
            assert_index_matches_store(engine)
        answer = engine.ask(FACT_QUESTION)
        assert answer.answered and "김하늘" in answer.text
        big_id = next(doc_id for doc_id in assert_store_consistent(store_path) if doc_id not in base_docs)
        assert any(p.cited and p.doc_id == big_id for p in answer.passages)
    with open_engine(_settings(run.data_dir), warm_up=False) as engine:  # a second restart: the saved index
        assert_index_matches_store(engine)
    return outcome


def test_kill_during_analysis_changes_nothing(killed_runs: dict[str, KillRun], base_dir: Path) -> None:
    run = killed_runs["analysis"]
    assert run.note["returncode"] == -signal.SIGKILL, run.output()
    # Killed after reading the file and before the first write.
    assert run.note["write_locked"] is False
    assert run.note["wal_size"] == 0
    base_docs = assert_store_consistent(_store_files(base_dir)[0])
    assert assert_store_consistent(_store_files(run.data_dir)[0]) == base_docs
    index = _settings(run.data_dir).index_path
    assert index.read_bytes() == _settings(base_dir).index_path.read_bytes()
    assert _restart_and_readd(run, base_docs) == "absent"


def test_kill_at_first_write_keeps_document_whole_or_absent(killed_runs: dict[str, KillRun], base_dir: Path) -> None:
    run = killed_runs["first_write"]
    base_docs = assert_store_consistent(_store_files(base_dir)[0])
    outcome = _restart_and_readd(run, base_docs)
    if not run.killed and run.note["returncode"] == 0:
        pytest.skip("the write transaction ended between two looks at /proc/locks; nothing was killed")
    assert run.note["returncode"] == -signal.SIGKILL, run.output()
    print(f"kill at the first write: document {outcome}, WAL {run.note['wal_size']} bytes at the kill")


# --- damaged index files -----------------------------------------------------------------


def _truncate(data: bytes, tmp: Path) -> bytes:
    return data[: len(data) // 2]


def _drop_last_byte(data: bytes, tmp: Path) -> bytes:
    return data[:-1]


def _flip(fraction: float):
    def flip(data: bytes, tmp: Path) -> bytes:
        flipped = bytearray(data)
        flipped[min(len(data) - 1, int(len(data) * fraction))] ^= 0xFF
        return bytes(flipped)

    return flip


def _zero_block(data: bytes, tmp: Path) -> bytes:
    """A torn write: a 4 KB page in the middle reads back as zeros."""
    middle = (len(data) // 2) & ~4095
    return data[:middle] + b"\0" * min(4096, len(data) - middle) + data[middle + 4096 :]


def _garbage(data: bytes, tmp: Path) -> bytes:
    return os.urandom(len(data))


def _empty(data: bytes, tmp: Path) -> bytes:
    return b""


def _plain_npy(data: bytes, tmp: Path) -> bytes:
    target = tmp / "array.npy"
    np.save(target, np.arange(10))
    return target.read_bytes()


def _zip_file(data: bytes, tmp: Path) -> bytes:
    target = tmp / "arrays.npz"
    np.savez(target, header=np.frombuffer(b'{"format": 1}', dtype=np.uint8))
    return target.read_bytes()


# Damage that lands inside the saved arrays rather than in the header or the file's length:
# caught by the CRC-32 of the arrays (retrieval.index).
INSIDE_THE_ARRAYS = {"bit flip at a quarter", "bit flip in the middle", "bit flip near the end", "zeroed page"}
DAMAGE = {
    "truncated": _truncate,
    "last byte missing": _drop_last_byte,
    "bit flip near the start": _flip(0.001),
    "bit flip at a quarter": _flip(0.25),
    "bit flip in the middle": _flip(0.5),
    "bit flip near the end": _flip(0.999),
    "zeroed page": _zero_block,
    "garbage": _garbage,
    "empty": _empty,
    "plain .npy": _plain_npy,
    "some other .npz": _zip_file,
}


@pytest.fixture
def data_copy(base_dir: Path, tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(base_dir, data_dir)
    return data_dir


def _assert_answers_right(engine: Engine) -> None:
    answer = engine.ask(SEED_QUESTION)
    assert answer.answered
    assert all(expected in answer.text for expected in SEED_ANSWERS), answer.text


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_index_is_rebuilt_from_the_store(
    damage: str, data_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = _settings(data_copy).index_path
    index.write_bytes(DAMAGE[damage](index.read_bytes(), tmp_path))
    with caplog.at_level(logging.INFO, logger="retrieval"), open_engine(_settings(data_copy), warm_up=False) as engine:
        assert_index_matches_store(engine)
        _assert_answers_right(engine)
    messages = " ".join(record.getMessage() for record in caplog.records)
    detected = "rebuil" in messages or "built from the store" in messages
    assert detected, f"{damage}: the damaged index was used as it was"
    if damage in INSIDE_THE_ARRAYS:  # header and length intact: only the arrays' CRC-32 can tell
        assert "checksum mismatch" in messages, messages
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="retrieval"), open_engine(_settings(data_copy), warm_up=False) as engine:
        assert_index_matches_store(engine)  # the rebuilt index was saved and is used
    assert not [r for r in caplog.records if "store" in r.getMessage()], caplog.text


def test_stale_index_and_leftover_temporary_file_are_not_used(data_copy: Path, analyzer: Analyzer) -> None:
    """An index saved before a later change (e.g. a crash before the background save) is rebuilt."""
    settings = _settings(data_copy)
    old_index = settings.index_path.read_bytes()
    with open_engine(settings, warm_up=False) as engine:
        path = data_copy.parent / "extra.txt"
        path.write_text(big_document("추가 문서", sections=3, fact=FACT), encoding="utf-8")
        engine.add_file(path, added_by="cli")
    settings.index_path.write_bytes(old_index)  # as if the process died before saving
    settings.index_path.with_name(settings.index_path.name + ".tmp").write_bytes(b"half-written")
    with open_engine(settings, warm_up=False) as engine:
        assert_index_matches_store(engine)
        answer = engine.ask(FACT_QUESTION)
        assert answer.answered and "김하늘" in answer.text


# --- the bot: kill -9 while an admin's upload is being indexed ----------------------------


BOT_BIG_SECTIONS = 100  # about 90 KB: a second or more of analysis with a warm Kiwi
BOT_ANALYSIS_GRACE = 0.1


@dataclass
class BotCrash:
    """One bot on its own server and data dir, killed at `name` ("analysis" or "first_write")."""

    name: str
    server: BotApiServer
    run: BotRun
    document: bytes
    read_at: float | None = None
    note: dict[str, object] = field(default_factory=dict)

    def upload(self) -> dict:
        return self.server.send_document(ADMIN_ID, ADMIN_ID, self.document, "large-upload.md")

    def poll(self) -> bool:
        """Look once; kill when the moment has come. True when done."""
        if not self.run.running:
            return True
        shm = _store_files(self.run.data_dir)[2]
        if self.name == "analysis":
            if self.read_at is None:
                if self.server.downloads():
                    self.read_at = time.monotonic()
                return False
            if time.monotonic() - self.read_at < BOT_ANALYSIS_GRACE:
                return False
            self.note["write_locked"] = _holds_wal_write_lock(self.run.pid, shm.stat().st_ino)
        elif not (shm.exists() and _holds_wal_write_lock(self.run.pid, shm.stat().st_ino)):
            if self.server.sent_messages(ADMIN_ID, since=self.note["upload"]):
                self.note["missed"] = True  # the whole transaction ran between two looks
                return True
            return False
        self.note["returncode"] = self.run.kill()
        return True


def _poll_all(crashes: list[BotCrash]) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    pending = list(crashes)
    while pending and time.monotonic() < deadline:
        pending = [crash for crash in pending if not crash.poll()]
        time.sleep(0.0005)
    for crash in pending:
        crash.run.kill()
    assert not pending, f"no kill moment seen: {[c.run.output()[-2000:] for c in pending]}"


@pytest.fixture(scope="module")
def bot_crashes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BotCrash]]:
    """Two bots, each killed once mid-upload; restarted; the admin resends. Both run side by side."""
    if not Path("/proc/locks").is_file():
        pytest.skip("needs /proc/locks to see SQLite's write lock")
    crashes: dict[str, BotCrash] = {}
    try:
        for name in ("analysis", "first_write"):
            base = tmp_path_factory.mktemp(f"bot_kill_{name}")
            server = BotApiServer(token=TOKEN, bot_username=BOT_USERNAME).start()
            document = big_document("텔레그램 업로드 시험", sections=BOT_BIG_SECTIONS, fact=FACT).encode()
            crashes[name] = BotCrash(name, server, BotRun(server, base / "data", base), document)
        marks = {name: crash.server.mark() for name, crash in crashes.items()}
        for crash in crashes.values():
            crash.run.start(wait=False)
        for name, crash in crashes.items():
            crash.run.wait_polling(marks[name])
            crash.note["before"] = assert_store_consistent(_store_files(crash.run.data_dir)[0])
        for crash in crashes.values():
            crash.note["upload"] = crash.upload()
        _poll_all(list(crashes.values()))
        for crash in crashes.values():
            crash.note["after_kill"] = assert_store_consistent(_store_files(crash.run.data_dir)[0])
            crash.note["replies_before_restart"] = crash.server.sent_messages(ADMIN_ID, since=crash.note["upload"])
            crash.note["restart_mark"] = crash.server.mark()
            crash.note["downloads_before_restart"] = len(crash.server.downloads())
            crash.run.start(wait=False)
        for crash in crashes.values():
            crash.run.wait_polling(crash.note["restart_mark"])
        time.sleep(1.0)  # time to pick the upload up again, or to tell the admin
        for crash in crashes.values():
            crash.note["redelivered"] = len(crash.server.downloads()) > crash.note["downloads_before_restart"]
            crash.note["told"] = [m.plain_text for m in crash.server.sent_messages(ADMIN_ID, since=crash.note["restart_mark"])]
        yield crashes
    finally:
        for crash in crashes.values():
            if crash.run.running:
                crash.run.stop(timeout=20)
            crash.server.stop()


@pytest.mark.parametrize("moment", ["analysis", "first_write"])
def test_bot_killed_mid_upload_recovers_and_the_admin_can_resend(
    bot_crashes: dict[str, BotCrash], moment: str, analyzer: Analyzer
) -> None:
    crash = bot_crashes[moment]
    server, note = crash.server, crash.note
    if note.get("missed"):
        assert_store_consistent(_store_files(crash.run.data_dir)[0])
        pytest.skip("the write transaction ended between two looks at /proc/locks; nothing was killed")
    assert note["returncode"] == -signal.SIGKILL
    if moment == "analysis":
        assert note["write_locked"] is False
    assert note["replies_before_restart"] == [], "the bot answered the upload before it was killed"
    before, after = note["before"], note["after_kill"]
    added = {doc_id: info for doc_id, info in after.items() if doc_id not in before}
    assert {doc_id: info for doc_id, info in after.items() if doc_id in before} == before
    assert len(added) <= 1 and (moment == "first_write" or not added)

    # After the restart: the upload is processed again (redelivered) or the admin resends it.
    sent = note["restart_mark"] if note["redelivered"] else crash.upload()
    reply = server.wait_for_message(ADMIN_ID, since=sent, timeout=120)
    expected = "이미 같은 내용" if added else "추가했습니다"
    assert expected in reply.plain_text, reply.plain_text
    user = fresh_id()
    answer = server.wait_for_message(user, since=server.send_text(user, user, FACT_QUESTION), timeout=60)
    assert "김하늘" in answer.plain_text, answer.plain_text
    assert server.errors == []

    assert crash.run.stop(timeout=20)[0] == 0
    store_path = _store_files(crash.run.data_dir)[0]
    docs = assert_store_consistent(store_path)
    assert len(docs) == len(before) + 1
    with open_engine(_settings(crash.run.data_dir), warm_up=False) as engine:
        assert_index_matches_store(engine)


@pytest.mark.parametrize("moment", ["analysis", "first_write"])
def test_after_a_crash_the_admin_hears_about_the_upload(bot_crashes: dict[str, BotCrash], moment: str) -> None:
    """Issue 6: "the document is either wholly present or absent (the admin is told to resend)"."""
    note = bot_crashes[moment].note
    if note.get("missed"):
        pytest.skip("nothing was killed")
    assert note["redelivered"] or any("다시 보내" in text for text in note["told"]), note["told"]
