"""The SQLite store: documents, their chunks with analysed tokens, questions and feedback,
and what several bot workers share (update claims, heartbeats, per-user rate limits).

One file under the data dir, WAL mode so readers never wait for the writer. Each added
document is one transaction: a crash leaves it wholly present or wholly absent. The
`generation` counter rises with every corpus change; index files saved beside the store
carry the generation they were built from, so a stale index is never used.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

import numpy as np

from corpus.chunker import Chunk
from corpus.document import Document
from corpus.errors import DocumentNotFound, DuplicateDocument, StoreError

SCHEMA_VERSION = 3  # 2: chunks.section, vectors; 3: workers, updates, rate_hits, rate_notices

WORKER_STALE_SECONDS = 5.0  # a worker not seen for this long is dead: its claims may be taken over
FINISHED_UPDATES_KEPT_SECONDS = 86_400.0  # Telegram gives up redelivering long before this
CHANGE_POLL_SECONDS = 0.1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    text TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL,
    chunk_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL,
    token_starts BLOB NOT NULL,
    sentences BLOB NOT NULL,
    context_tokens TEXT NOT NULL,
    section TEXT NOT NULL DEFAULT '[]',
    UNIQUE (doc_id, ordinal)
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    asked_at TEXT NOT NULL,
    asked_by TEXT NOT NULL,
    question TEXT NOT NULL,
    answered INTEGER NOT NULL,
    answer TEXT,
    evidence TEXT
);
CREATE TABLE IF NOT EXISTS reanalysed (
    doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    analysis TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS additions_in_progress (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    notify TEXT NOT NULL,
    started_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, text_sha256)
);
CREATE TABLE IF NOT EXISTS workers (id TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS updates (
    update_id INTEGER PRIMARY KEY,
    worker TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS updates_by_finish ON updates(finished_at);
CREATE TABLE IF NOT EXISTS rate_hits (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS rate_hits_by_key ON rate_hits(key, at);
CREATE TABLE IF NOT EXISTS rate_notices (key TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (-1, 1)),
    given_at TEXT NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
"""


@dataclass(frozen=True)
class AnalysedChunk:
    """A chunk with what the analyser made of it; offsets are relative to the chunk text."""

    chunk: Chunk
    tokens: Sequence[str]
    token_starts: Sequence[int]
    sentences: Sequence[tuple[int, int]]
    context_tokens: Sequence[str]  # the document title's and section heading's tokens


@dataclass(frozen=True)
class DocumentInfo:
    id: str
    title: str
    source: str
    chunk_count: int
    added_at: str
    added_by: str


@dataclass(frozen=True)
class StoredChunk:
    row_id: int
    doc_id: str
    chunk_id: str
    title: str
    heading: str
    text: str
    start: int
    end: int
    tokens: list[str]
    token_starts: np.ndarray
    sentences: np.ndarray  # shape (n, 2)
    context_tokens: list[str]
    section: tuple[str, ...] = ()  # structural path of the chunk in its document


@dataclass(frozen=True)
class IndexRow:
    """What the index needs of a chunk: its stored tokens and texts, never re-analysed."""

    row_id: int
    doc_id: str
    tokens: list[str]
    context_tokens: list[str]
    text: str
    context_text: str  # document title and section heading


@dataclass(frozen=True)
class InterruptedAddition:
    """An addition that was started and never finished: the process died during it."""

    id: int
    label: str
    requested_by: str
    notify: str  # front end's note on whom to tell, e.g. a chat and message id as JSON


@dataclass(frozen=True)
class FeedbackCase:
    question: str
    answer: str | None
    evidence: str | None
    score: int


class Claim(Enum):
    """What claiming an incoming update found: handle it, it was handled, or a live worker has it."""

    MINE = "mine"
    DONE = "done"
    BUSY = "busy"


@dataclass(frozen=True)
class RateCount:
    """One counted (or refused) event of a shared per-key rate limit."""

    allowed: bool
    retry_after: float = 0.0  # seconds until the next event is allowed
    notify: bool = False  # the first refusal since the window's oldest event


def decide_claim(holder: str | None, finished: bool, holder_seen_at: float | None, worker: str, now: float) -> Claim:
    """Whether `worker` may handle an update that `holder` claimed before (None: nobody did)."""
    if holder is None:
        return Claim.MINE
    if finished:
        return Claim.DONE
    alive = holder_seen_at is not None and now - holder_seen_at < WORKER_STALE_SECONDS
    return Claim.BUSY if alive or holder == worker else Claim.MINE


def decide_rate(times: Sequence[float], notified_at: float | None, limit: int, window: float, now: float) -> RateCount:
    """A sliding-window decision from the key's event times inside the window, oldest first."""
    if len(times) < limit:
        return RateCount(True)
    oldest = times[0]
    return RateCount(False, max(0.0, oldest + window - now), notified_at is None or notified_at < oldest)


def chunk_key(doc_id: str, ordinal: int) -> str:
    return f"{doc_id}:{ordinal}"


_INSERT_CHUNK = (
    "INSERT INTO chunks(doc_id, ordinal, start, end, heading, text, tokens, token_starts, sentences, context_tokens, section)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    """Thread-safe access to one SQLite file: a connection per thread, writes serialised."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"데이터 폴더를 만들 수 없습니다: {self.path.parent} ({error})") from error
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._migrate()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("PRAGMA foreign_keys=ON")
            except sqlite3.DatabaseError as error:
                raise StoreError(f"저장소를 열 수 없습니다: {self.path} ({error})") from error
            self._local.connection = connection
            self._connections.append(connection)
        return connection

    def _migrate(self) -> None:
        connection = self._connection()
        try:
            with self._write_lock:
                connection.executescript(_SCHEMA)
                version = self._meta("schema_version")
                if version is None:
                    self._set_meta("schema_version", str(SCHEMA_VERSION))
                    self._set_meta("generation", "0")
                elif int(version) < SCHEMA_VERSION:
                    self._upgrade(int(version))
                elif int(version) > SCHEMA_VERSION:
                    raise StoreError(
                        f"이 저장소는 더 새로운 qabot(스키마 {version})이 만들었습니다: {self.path}"
                    )
        except sqlite3.DatabaseError as error:
            raise StoreError(f"저장소 파일이 손상되었습니다: {self.path} ({error})") from error

    def _upgrade(self, version: int) -> None:
        """Bring an older schema to this one (write lock held); the vectors table is new in 2."""
        connection = self._connection()
        if version < 2:
            columns = {row[1] for row in connection.execute("PRAGMA table_info(chunks)")}
            if "section" not in columns:
                connection.execute("ALTER TABLE chunks ADD COLUMN section TEXT NOT NULL DEFAULT '[]'")
        self._set_meta("schema_version", str(SCHEMA_VERSION))

    def close(self) -> None:
        for connection in self._connections:
            connection.close()
        self._connections.clear()
        self._local = threading.local()

    def _meta(self, key: str) -> str | None:
        row = self._connection().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._connection().execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @property
    def generation(self) -> int:
        return int(self._meta("generation") or 0)

    @property
    def seeded(self) -> bool:
        return self._meta("seeded") == "1"

    def mark_seeded(self) -> None:
        with self._write_lock:
            self._set_meta("seeded", "1")

    @property
    def analysis(self) -> str | None:
        """The signature of the analysis its tokens come from (None: not recorded)."""
        return self._meta("analysis")

    def mark_analysed(self, signature: str) -> None:
        """Record that every document's tokens come from this analysis (a pass is over)."""
        with self._write_lock, self._transaction() as connection:
            self._set_meta("analysis", signature)
            connection.execute("DELETE FROM reanalysed")

    def reanalysed_by(self, signature: str) -> set[str]:
        """Ids of the documents a pass not yet over has already analysed with this analysis."""
        rows = self._connection().execute("SELECT doc_id FROM reanalysed WHERE analysis = ?", (signature,))
        return {doc_id for (doc_id,) in rows}

    def find_duplicate(self, sha256: str) -> DocumentInfo | None:
        row = self._connection().execute(
            "SELECT id, title, source, chunk_count, added_at, added_by FROM documents WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return DocumentInfo(*row) if row else None

    def add_document(self, document: Document, chunks: Sequence[AnalysedChunk], added_by: str) -> DocumentInfo:
        """Store the document and its chunks in one transaction; refuse duplicates by hash."""
        with self._write_lock, self._corpus_change() as connection:
            # checked inside the write transaction: another process may add the same text
            existing = self.find_duplicate(document.sha256)
            if existing:
                raise DuplicateDocument(existing.id, existing.title)
            doc_id = self._free_id(document.sha256)
            info = DocumentInfo(doc_id, document.title, document.source, len(chunks), _now(), added_by)
            connection.execute(
                "INSERT INTO documents(id, title, source, text, sha256, added_at, added_by, chunk_count)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (doc_id, info.title, info.source, document.text, document.sha256, info.added_at, added_by, len(chunks)),
            )
            connection.executemany(_INSERT_CHUNK, (_chunk_row(doc_id, analysed) for analysed in chunks))
        return info

    def replace_chunks(self, doc_id: str, chunks: Sequence[AnalysedChunk], analysis: str) -> None:
        """Swap a document's chunks for a new analysis of the same text, and note which
        analysis they come from, in one transaction: an interrupted pass resumes after it."""
        with self._write_lock:
            info = self.document(doc_id)
            with self._corpus_change() as connection:
                connection.execute("DELETE FROM chunks WHERE doc_id = ?", (info.id,))
                connection.executemany(_INSERT_CHUNK, (_chunk_row(info.id, analysed) for analysed in chunks))
                connection.execute("UPDATE documents SET chunk_count = ? WHERE id = ?", (len(chunks), info.id))
                connection.execute(
                    "INSERT INTO reanalysed(doc_id, analysis) VALUES (?, ?)"
                    " ON CONFLICT(doc_id) DO UPDATE SET analysis = excluded.analysis",
                    (info.id, analysis),
                )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (write lock held)."""
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    @contextmanager
    def _corpus_change(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that changes documents or chunks, and so the generation (write lock held)."""
        with self._transaction() as connection:
            yield connection
            self._bump_generation()

    def _free_id(self, sha256: str) -> str:
        for length in range(10, len(sha256) + 1, 2):
            candidate = sha256[:length]
            if not self._connection().execute("SELECT 1 FROM documents WHERE id = ?", (candidate,)).fetchone():
                return candidate
        raise StoreError("문서 ID를 만들 수 없습니다")

    def _bump_generation(self) -> None:
        self._set_meta("generation", str(self.generation + 1))

    def remove_document(self, doc_id: str) -> DocumentInfo:
        with self._write_lock:
            info = self.document(doc_id)
            with self._corpus_change() as connection:
                connection.execute("DELETE FROM chunks WHERE doc_id = ?", (info.id,))
                connection.execute("DELETE FROM documents WHERE id = ?", (info.id,))
        return info

    def document(self, doc_id: str) -> DocumentInfo:
        row = self._connection().execute(
            "SELECT id, title, source, chunk_count, added_at, added_by FROM documents WHERE id = ?",
            (doc_id.strip(),),
        ).fetchone()
        if row is None:
            raise DocumentNotFound(doc_id)
        return DocumentInfo(*row)

    def documents(self) -> list[DocumentInfo]:
        rows = self._connection().execute(
            "SELECT id, title, source, chunk_count, added_at, added_by FROM documents ORDER BY added_at, id"
        ).fetchall()
        return [DocumentInfo(*row) for row in rows]

    def chunk_count(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def chunk_rows(self) -> list[tuple[int, str]]:
        """(row id, document id) of every chunk, in row order."""
        return [(row, doc) for row, doc in self._connection().execute("SELECT id, doc_id FROM chunks ORDER BY id")]

    def index_rows(self, doc_id: str | None = None) -> Iterator[IndexRow]:
        """Chunks' stored tokens in row order (of one document, or all): what the index is built from."""
        where = "WHERE c.doc_id = ?" if doc_id is not None else ""
        cursor = self._connection().execute(
            "SELECT c.id, c.doc_id, c.tokens, c.context_tokens, c.text, d.title, c.heading"
            f" FROM chunks c JOIN documents d ON d.id = c.doc_id {where} ORDER BY c.id",
            (doc_id,) if doc_id is not None else (),
        )
        for row_id, owner, tokens, context_tokens, text, title, heading in cursor:
            yield IndexRow(row_id, owner, tokens.split(), context_tokens.split(), text, f"{title}\n{heading}")

    def chunks(self, row_ids: Iterable[int]) -> dict[int, StoredChunk]:
        """Chunks by row id; ids of chunks removed meanwhile are simply absent."""
        ids = list(row_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._connection().execute(
            "SELECT c.id, c.doc_id, c.ordinal, d.title, c.heading, c.text, c.start, c.end, c.tokens,"
            f" c.token_starts, c.sentences, c.context_tokens, c.section FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})",
            ids,
        ).fetchall()
        return {row[0]: _stored_chunk(row) for row in rows}

    def neighbours(self, row_id: int, before: int = 1, after: int = 1) -> list[StoredChunk]:
        """The chunk with its neighbours in the same document, in reading order."""
        row = self._connection().execute("SELECT doc_id, ordinal FROM chunks WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            return []
        doc_id, ordinal = row
        ids = [
            r[0]
            for r in self._connection().execute(
                "SELECT id FROM chunks WHERE doc_id = ? AND ordinal BETWEEN ? AND ? ORDER BY ordinal",
                (doc_id, ordinal - before, ordinal + after),
            )
        ]
        found = self.chunks(ids)
        return [found[i] for i in ids if i in found]

    def vectors(self, model: str, text_hashes: Iterable[str]) -> dict[str, bytes]:
        """Stored embeddings of `model` by the hash of the text they embed; unknown hashes are absent."""
        wanted = list(dict.fromkeys(text_hashes))
        found: dict[str, bytes] = {}
        connection = self._connection()
        for at in range(0, len(wanted), 500):
            part = wanted[at : at + 500]
            rows = connection.execute(
                f"SELECT text_sha256, vector FROM vectors WHERE model = ? AND text_sha256 IN ({','.join('?' * len(part))})",
                (model, *part),
            )
            found.update((digest, bytes(vector)) for digest, vector in rows)
        return found

    def put_vectors(self, model: str, items: Iterable[tuple[str, bytes]]) -> None:
        """Keep embeddings by text hash; they outlive chunks, so re-chunking and re-adding reuse them."""
        with self._write_lock, self._transaction() as connection:
            connection.executemany(
                "INSERT OR IGNORE INTO vectors(model, text_sha256, vector) VALUES (?, ?, ?)",
                ((model, digest, vector) for digest, vector in items),
            )

    def document_text(self, doc_id: str) -> str:
        row = self._connection().execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise DocumentNotFound(doc_id)
        return row[0]

    def begin_addition(self, label: str, requested_by: str, notify: str) -> int:
        """Note that an addition is under way, so a crash during it can be reported after a restart."""
        with self._write_lock:
            cursor = self._connection().execute(
                "INSERT INTO additions_in_progress(label, requested_by, notify, started_at) VALUES (?, ?, ?, ?)",
                (label, requested_by, notify, _now()),
            )
        return int(cursor.lastrowid)

    def end_addition(self, addition_id: int) -> None:
        with self._write_lock:
            self._connection().execute("DELETE FROM additions_in_progress WHERE id = ?", (addition_id,))

    def interrupted_additions(self) -> list[InterruptedAddition]:
        """Additions begun before this process started and never ended; call once at start-up."""
        rows = self._connection().execute(
            "SELECT id, label, requested_by, notify FROM additions_in_progress ORDER BY id"
        ).fetchall()
        return [InterruptedAddition(*row) for row in rows]

    def log_question(self, asked_by: str, question: str, answered: bool, answer: str | None, evidence: str | None) -> int:
        with self._write_lock:
            cursor = self._connection().execute(
                "INSERT INTO questions(asked_at, asked_by, question, answered, answer, evidence) VALUES (?, ?, ?, ?, ?, ?)",
                (_now(), asked_by, question, int(answered), answer, evidence),
            )
        return int(cursor.lastrowid)

    def question(self, question_id: int) -> tuple[str, str] | None:
        """(asked_by, question) of a logged question, or None."""
        row = self._connection().execute(
            "SELECT asked_by, question FROM questions WHERE id = ?", (question_id,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def add_feedback(self, question_id: int, user_id: str, value: int) -> bool:
        """Record 👍 (+1) or 👎 (-1); a second vote by the same user replaces the first."""
        with self._write_lock:
            if not self._connection().execute("SELECT 1 FROM questions WHERE id = ?", (question_id,)).fetchone():
                return False
            self._connection().execute(
                "INSERT INTO feedback(question_id, user_id, value, given_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(question_id, user_id) DO UPDATE SET value = excluded.value, given_at = excluded.given_at",
                (question_id, user_id, 1 if value > 0 else -1, _now()),
            )
        return True

    def feedback_cases(self) -> list[FeedbackCase]:
        rows = self._connection().execute(
            "SELECT q.question, q.answer, q.evidence, SUM(f.value) FROM feedback f JOIN questions q ON q.id = f.question_id"
            " GROUP BY q.id ORDER BY q.id"
        ).fetchall()
        return [FeedbackCase(*row) for row in rows]

    def stats(self) -> dict[str, int]:
        connection = self._connection()

        def count(sql: str) -> int:
            return int(connection.execute(sql).fetchone()[0])

        return {
            "documents": count("SELECT COUNT(*) FROM documents"),
            "chunks": count("SELECT COUNT(*) FROM chunks"),
            "questions": count("SELECT COUNT(*) FROM questions"),
            "answered": count("SELECT COUNT(*) FROM questions WHERE answered = 1"),
            "feedback_up": count("SELECT COUNT(*) FROM feedback WHERE value = 1"),
            "feedback_down": count("SELECT COUNT(*) FROM feedback WHERE value = -1"),
        }

    def wait_for_change(self, timeout: float) -> None:
        """Return when the generation moves, or after `timeout`: SQLite has no notifications,
        so it is read every CHANGE_POLL_SECONDS (a read of one row of a local file)."""
        deadline = time.monotonic() + timeout
        seen = self.generation
        while time.monotonic() < deadline:
            time.sleep(min(CHANGE_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            if self.generation != seen:
                return

    def heartbeat(self, worker: str) -> None:
        """Note that `worker` is alive; forget long-finished updates and long-gone workers."""
        now = time.time()
        with self._write_lock, self._transaction() as connection:
            connection.execute(
                "INSERT INTO workers(id, seen_at) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET seen_at = excluded.seen_at",
                (worker, now),
            )
            connection.execute("DELETE FROM updates WHERE finished_at < ?", (now - FINISHED_UPDATES_KEPT_SECONDS,))
            connection.execute("DELETE FROM workers WHERE seen_at < ?", (now - FINISHED_UPDATES_KEPT_SECONDS,))
            connection.execute("DELETE FROM rate_hits WHERE at < ?", (now - FINISHED_UPDATES_KEPT_SECONDS,))

    def claim_update(self, update_id: int, worker: str) -> Claim:
        """Claim an incoming update for `worker`, unless it was handled or a live worker handles it."""
        now = time.time()
        with self._write_lock, self._transaction() as connection:
            row = connection.execute(
                "SELECT u.worker, u.finished_at IS NOT NULL, w.seen_at FROM updates u"
                " LEFT JOIN workers w ON w.id = u.worker WHERE u.update_id = ?",
                (update_id,),
            ).fetchone()
            claim = decide_claim(*(row or (None, False, None)), worker, now)
            if claim is Claim.MINE:
                connection.execute(
                    "INSERT INTO updates(update_id, worker, claimed_at) VALUES (?, ?, ?)"
                    " ON CONFLICT(update_id) DO UPDATE SET worker = excluded.worker, claimed_at = excluded.claimed_at",
                    (update_id, worker, now),
                )
        return claim

    def finish_update(self, update_id: int) -> None:
        with self._write_lock:
            self._connection().execute("UPDATE updates SET finished_at = COALESCE(finished_at, ?) WHERE update_id = ?", (time.time(), update_id))

    def release_update(self, update_id: int) -> None:
        """Give up an unfinished claim (handling failed): a redelivery may be claimed at once."""
        with self._write_lock:
            self._connection().execute("DELETE FROM updates WHERE update_id = ? AND finished_at IS NULL", (update_id,))

    def count_rate_hit(self, key: str, limit: int, window: float) -> RateCount:
        """Count an event of `key` if fewer than `limit` happened in the last `window` seconds."""
        now = time.time()
        with self._write_lock, self._transaction() as connection:
            connection.execute("DELETE FROM rate_hits WHERE key = ? AND at <= ?", (key, now - window))
            times = [at for (at,) in connection.execute("SELECT at FROM rate_hits WHERE key = ? ORDER BY at", (key,))]
            notice = connection.execute("SELECT at FROM rate_notices WHERE key = ?", (key,)).fetchone()
            decision = decide_rate(times, notice[0] if notice else None, limit, window, now)
            if decision.allowed:
                connection.execute("INSERT INTO rate_hits(key, at) VALUES (?, ?)", (key, now))
                connection.execute("DELETE FROM rate_notices WHERE key = ?", (key,))
            else:
                connection.execute(
                    "INSERT INTO rate_notices(key, at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET at = excluded.at",
                    (key, now),
                )
        return decision


def _chunk_row(doc_id: str, analysed: AnalysedChunk) -> tuple:
    chunk = analysed.chunk
    return (
        doc_id,
        chunk.ordinal,
        chunk.start,
        chunk.end,
        chunk.heading,
        chunk.text,
        " ".join(analysed.tokens),
        np.asarray(analysed.token_starts, dtype=np.int32).tobytes(),
        np.asarray(analysed.sentences, dtype=np.int32).reshape(-1, 2).tobytes(),
        " ".join(analysed.context_tokens),
        json.dumps(list(chunk.section), ensure_ascii=False),
    )


def _stored_chunk(row: tuple) -> StoredChunk:
    row_id, doc_id, ordinal, title, heading, text, start, end, tokens, token_starts, sentences, context, section = row
    return StoredChunk(
        row_id=row_id,
        doc_id=doc_id,
        chunk_id=chunk_key(doc_id, ordinal),
        title=title,
        heading=heading,
        text=text,
        start=start,
        end=end,
        tokens=tokens.split(),
        token_starts=np.frombuffer(token_starts, dtype=np.int32),
        sentences=np.frombuffer(sentences, dtype=np.int32).reshape(-1, 2),
        context_tokens=context.split(),
        section=tuple(json.loads(section)),
    )
