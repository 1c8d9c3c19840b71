"""The PostgreSQL store: the same tables and behaviour as the SQLite one, shared by every
worker and machine that points QABOT_DATABASE_URL at one database.

psycopg 3 with a connection pool; every write is one transaction. A corpus change bumps
`generation` in its transaction and sends NOTIFY on a channel named after the schema, so
listening workers learn of it as soon as it commits; `wait_for_change` listens on a
connection of its own. The schema is created in the connection's current schema (tests
give each case one of its own through `options=-csearch_path=...`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from corpus.document import Document
from corpus.errors import DocumentNotFound, DuplicateDocument, StoreError
from corpus.store import (
    FINISHED_UPDATES_KEPT_SECONDS,
    SCHEMA_VERSION,
    AnalysedChunk,
    Claim,
    DocumentInfo,
    FeedbackCase,
    IndexRow,
    InterruptedAddition,
    RateCount,
    StoredChunk,
    _chunk_row,
    _now,
    _stored_chunk,
    decide_claim,
    decide_rate,
)

POOL_SIZE = 8
_MIGRATION_LOCK = 0x7161_626F_7400  # pg_advisory_xact_lock key: one migration at a time

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
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL,
    token_starts BYTEA NOT NULL,
    sentences BYTEA NOT NULL,
    context_tokens TEXT NOT NULL,
    section TEXT NOT NULL DEFAULT '[]',
    UNIQUE (doc_id, ordinal)
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS questions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    notify TEXT NOT NULL,
    started_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    vector BYTEA NOT NULL,
    PRIMARY KEY (model, text_sha256)
);
CREATE TABLE IF NOT EXISTS feedback (
    question_id BIGINT NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (-1, 1)),
    given_at TEXT NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
CREATE TABLE IF NOT EXISTS workers (id TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS updates (
    update_id BIGINT PRIMARY KEY,
    worker TEXT NOT NULL,
    claimed_at DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS updates_by_finish ON updates(finished_at);
CREATE TABLE IF NOT EXISTS rate_hits (key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS rate_hits_by_key ON rate_hits(key, at);
CREATE TABLE IF NOT EXISTS rate_notices (key TEXT PRIMARY KEY, at DOUBLE PRECISION NOT NULL);
"""

_INSERT_CHUNK = (
    'INSERT INTO chunks(doc_id, ordinal, start, "end", heading, text, tokens, token_starts, sentences,'
    " context_tokens, section) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_DOCUMENT_INFO = "SELECT id, title, source, chunk_count, added_at, added_by FROM documents"


def redacted(url: str) -> str:
    """The URL without its password, fit for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://…"
    return f"postgresql://{info.get('user', '')}@{info.get('host', '')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


class PostgresStore:
    """The store in a PostgreSQL database; thread-safe (a pooled connection per call)."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            psycopg.connect(url, connect_timeout=10).close()  # a clear error now, not a pool timeout later
        except psycopg.Error as error:
            raise StoreError(f"PostgreSQL 저장소에 연결할 수 없습니다: {redacted(url)} ({error})") from error
        self._pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=True)
        self._listener: psycopg.Connection | None = None
        self._listener_lock = threading.Lock()
        try:
            with self._pool.connection() as connection:
                schema = connection.execute("SELECT current_schema()").fetchone()[0]
            self.channel = f"qabot_corpus_{schema}"[:63]
            self._migrate()
        except psycopg.Error as error:
            self._pool.close()
            raise StoreError(f"PostgreSQL 저장소를 준비할 수 없습니다: {redacted(url)} ({error})") from error
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        with self._pool.connection() as connection, connection.transaction():
            yield connection

    @contextmanager
    def _bookkeeping(self) -> Iterator[psycopg.Connection]:
        """A transaction of coordination state (claims, heartbeats, rate windows) that does not
        wait for its commit to reach disk: a database crash may forget the last moment of
        it, which costs at most a reply sent twice or a question let through, while every
        question pays several such commits."""
        with self._transaction() as connection:
            connection.execute("SET LOCAL synchronous_commit TO OFF")
            yield connection

    def _query(self, query: str, params: Sequence = ()) -> list[tuple]:
        with self._pool.connection() as connection:
            return connection.execute(query, params).fetchall()

    def _migrate(self) -> None:
        with self._transaction() as connection:
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            connection.execute(_SCHEMA)
            version = _meta(connection, "schema_version")
            if version is None:
                _set_meta(connection, "schema_version", str(SCHEMA_VERSION))
                _set_meta(connection, "generation", "0")
            elif int(version) < SCHEMA_VERSION:
                self._upgrade(connection, int(version))
            elif int(version) > SCHEMA_VERSION:
                raise StoreError(f"이 저장소는 더 새로운 qabot(스키마 {version})이 만들었습니다: {redacted(self.url)}")

    @staticmethod
    def _upgrade(connection: psycopg.Connection, version: int) -> None:
        """Bring an older schema to this one; tables new since are made by _SCHEMA already."""
        if version < 2:
            connection.execute("ALTER TABLE chunks ADD COLUMN IF NOT EXISTS section TEXT NOT NULL DEFAULT '[]'")
        _set_meta(connection, "schema_version", str(SCHEMA_VERSION))

    def close(self) -> None:
        with self._listener_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self._pool.close()

    def _meta(self, key: str) -> str | None:
        with self._pool.connection() as connection:
            return _meta(connection, key)

    @property
    def generation(self) -> int:
        return int(self._meta("generation") or 0)

    @property
    def seeded(self) -> bool:
        return self._meta("seeded") == "1"

    def mark_seeded(self) -> None:
        with self._transaction() as connection:
            _set_meta(connection, "seeded", "1")

    @property
    def analysis(self) -> str | None:
        return self._meta("analysis")

    def mark_analysed(self, signature: str) -> None:
        with self._transaction() as connection:
            _set_meta(connection, "analysis", signature)
            connection.execute("DELETE FROM reanalysed")

    def reanalysed_by(self, signature: str) -> set[str]:
        return {doc_id for (doc_id,) in self._query("SELECT doc_id FROM reanalysed WHERE analysis = %s", (signature,))}

    def find_duplicate(self, sha256: str) -> DocumentInfo | None:
        rows = self._query(f"{_DOCUMENT_INFO} WHERE sha256 = %s", (sha256,))
        return DocumentInfo(*rows[0]) if rows else None

    def add_document(self, document: Document, chunks: Sequence[AnalysedChunk], added_by: str) -> DocumentInfo:
        """Store the document and its chunks in one transaction; refuse duplicates by hash,
        also when another worker adds the same text at the same moment."""
        try:
            with self._corpus_change() as connection:
                existing = connection.execute(f"{_DOCUMENT_INFO} WHERE sha256 = %s", (document.sha256,)).fetchone()
                if existing:
                    raise DuplicateDocument(existing[0], existing[1])
                doc_id = _free_id(connection, document.sha256)
                info = DocumentInfo(doc_id, document.title, document.source, len(chunks), _now(), added_by)
                connection.execute(
                    "INSERT INTO documents(id, title, source, text, sha256, added_at, added_by, chunk_count)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (doc_id, info.title, info.source, document.text, document.sha256, info.added_at, added_by, len(chunks)),
                )
                with connection.cursor() as cursor:
                    cursor.executemany(_INSERT_CHUNK, [_chunk_row(doc_id, analysed) for analysed in chunks])
        except psycopg.errors.UniqueViolation as error:
            existing = self.find_duplicate(document.sha256)
            if existing is None:
                raise
            raise DuplicateDocument(existing.id, existing.title) from error
        return info

    def replace_chunks(self, doc_id: str, chunks: Sequence[AnalysedChunk], analysis: str) -> None:
        info = self.document(doc_id)
        with self._corpus_change() as connection:
            connection.execute("DELETE FROM chunks WHERE doc_id = %s", (info.id,))
            with connection.cursor() as cursor:
                cursor.executemany(_INSERT_CHUNK, [_chunk_row(info.id, analysed) for analysed in chunks])
            connection.execute("UPDATE documents SET chunk_count = %s WHERE id = %s", (len(chunks), info.id))
            connection.execute(
                "INSERT INTO reanalysed(doc_id, analysis) VALUES (%s, %s)"
                " ON CONFLICT(doc_id) DO UPDATE SET analysis = excluded.analysis",
                (info.id, analysis),
            )

    @contextmanager
    def _corpus_change(self) -> Iterator[psycopg.Connection]:
        """One transaction that changes documents or chunks: the generation rises and
        listeners are told, both at commit. The generation row's lock orders changes."""
        with self._transaction() as connection:
            generation = connection.execute(
                "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'generation' RETURNING value"
            ).fetchone()[0]
            yield connection
            connection.execute("SELECT pg_notify(%s, %s)", (self.channel, generation))

    def remove_document(self, doc_id: str) -> DocumentInfo:
        info = self.document(doc_id)
        with self._corpus_change() as connection:
            connection.execute("DELETE FROM chunks WHERE doc_id = %s", (info.id,))
            if connection.execute("DELETE FROM documents WHERE id = %s", (info.id,)).rowcount == 0:
                raise DocumentNotFound(doc_id)  # removed by another worker meanwhile: roll back
        return info

    def document(self, doc_id: str) -> DocumentInfo:
        rows = self._query(f"{_DOCUMENT_INFO} WHERE id = %s", (doc_id.strip(),))
        if not rows:
            raise DocumentNotFound(doc_id)
        return DocumentInfo(*rows[0])

    def documents(self) -> list[DocumentInfo]:
        return [DocumentInfo(*row) for row in self._query(f"{_DOCUMENT_INFO} ORDER BY added_at, id")]

    def chunk_count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM chunks")[0][0])

    def chunk_rows(self) -> list[tuple[int, str]]:
        """(row id, document id) of every chunk, in row order."""
        return [(int(row), doc) for row, doc in self._query("SELECT id, doc_id FROM chunks ORDER BY id")]

    def index_rows(self, doc_id: str | None = None) -> Iterator[IndexRow]:
        where = "WHERE c.doc_id = %s" if doc_id is not None else ""
        with self._pool.connection() as connection, connection.cursor(name="index_rows") as cursor, connection.transaction():
            cursor.itersize = 2000
            cursor.execute(
                "SELECT c.id, c.doc_id, c.tokens, c.context_tokens, c.text, d.title, c.heading"
                f" FROM chunks c JOIN documents d ON d.id = c.doc_id {where} ORDER BY c.id",
                (doc_id,) if doc_id is not None else (),
            )
            for row_id, owner, tokens, context_tokens, text, title, heading in cursor:
                yield IndexRow(row_id, owner, tokens.split(), context_tokens.split(), text, f"{title}\n{heading}")

    def chunks(self, row_ids: Iterable[int]) -> dict[int, StoredChunk]:
        ids = list(row_ids)
        if not ids:
            return {}
        rows = self._query(
            'SELECT c.id, c.doc_id, c.ordinal, d.title, c.heading, c.text, c.start, c."end", c.tokens,'
            " c.token_starts, c.sentences, c.context_tokens, c.section"
            " FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id = ANY(%s)",
            (ids,),
        )
        return {row[0]: _stored_chunk(row) for row in rows}

    def neighbours(self, row_id: int, before: int = 1, after: int = 1) -> list[StoredChunk]:
        rows = self._query("SELECT doc_id, ordinal FROM chunks WHERE id = %s", (row_id,))
        if not rows:
            return []
        doc_id, ordinal = rows[0]
        ids = [
            r[0]
            for r in self._query(
                "SELECT id FROM chunks WHERE doc_id = %s AND ordinal BETWEEN %s AND %s ORDER BY ordinal",
                (doc_id, ordinal - before, ordinal + after),
            )
        ]
        found = self.chunks(ids)
        return [found[i] for i in ids if i in found]

    def vectors(self, model: str, text_hashes: Iterable[str]) -> dict[str, bytes]:
        wanted = list(dict.fromkeys(text_hashes))
        if not wanted:
            return {}
        rows = self._query(
            "SELECT text_sha256, vector FROM vectors WHERE model = %s AND text_sha256 = ANY(%s)", (model, wanted)
        )
        return {digest: bytes(vector) for digest, vector in rows}

    def put_vectors(self, model: str, items: Iterable[tuple[str, bytes]]) -> None:
        with self._transaction() as connection, connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO vectors(model, text_sha256, vector) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                [(model, digest, vector) for digest, vector in items],
            )

    def document_text(self, doc_id: str) -> str:
        rows = self._query("SELECT text FROM documents WHERE id = %s", (doc_id,))
        if not rows:
            raise DocumentNotFound(doc_id)
        return rows[0][0]

    def begin_addition(self, label: str, requested_by: str, notify: str) -> int:
        rows = self._query(
            "INSERT INTO additions_in_progress(label, requested_by, notify, started_at) VALUES (%s, %s, %s, %s) RETURNING id",
            (label, requested_by, notify, _now()),
        )
        return int(rows[0][0])

    def end_addition(self, addition_id: int) -> None:
        self._query_none("DELETE FROM additions_in_progress WHERE id = %s", (addition_id,))

    def interrupted_additions(self) -> list[InterruptedAddition]:
        rows = self._query("SELECT id, label, requested_by, notify FROM additions_in_progress ORDER BY id")
        return [InterruptedAddition(*row) for row in rows]

    def log_question(self, asked_by: str, question: str, answered: bool, answer: str | None, evidence: str | None) -> int:
        rows = self._query(
            "INSERT INTO questions(asked_at, asked_by, question, answered, answer, evidence)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (_now(), asked_by, question, int(answered), answer, evidence),
        )
        return int(rows[0][0])

    def question(self, question_id: int) -> tuple[str, str] | None:
        rows = self._query("SELECT asked_by, question FROM questions WHERE id = %s", (question_id,))
        return (rows[0][0], rows[0][1]) if rows else None

    def add_feedback(self, question_id: int, user_id: str, value: int) -> bool:
        with self._transaction() as connection:
            if not connection.execute("SELECT 1 FROM questions WHERE id = %s", (question_id,)).fetchone():
                return False
            connection.execute(
                "INSERT INTO feedback(question_id, user_id, value, given_at) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT(question_id, user_id) DO UPDATE SET value = excluded.value, given_at = excluded.given_at",
                (question_id, user_id, 1 if value > 0 else -1, _now()),
            )
        return True

    def feedback_cases(self) -> list[FeedbackCase]:
        rows = self._query(
            "SELECT q.question, q.answer, q.evidence, SUM(f.value) FROM feedback f JOIN questions q ON q.id = f.question_id"
            " GROUP BY q.id ORDER BY q.id"
        )
        return [FeedbackCase(question, answer, evidence, int(score)) for question, answer, evidence, score in rows]

    def stats(self) -> dict[str, int]:
        [row] = self._query(
            "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM chunks), (SELECT COUNT(*) FROM questions),"
            " (SELECT COUNT(*) FROM questions WHERE answered = 1), (SELECT COUNT(*) FROM feedback WHERE value = 1),"
            " (SELECT COUNT(*) FROM feedback WHERE value = -1)"
        )
        names = ("documents", "chunks", "questions", "answered", "feedback_up", "feedback_down")
        return {name: int(value) for name, value in zip(names, row)}

    def _query_none(self, query: str, params: Sequence = ()) -> None:
        with self._pool.connection() as connection:
            connection.execute(query, params)

    def wait_for_change(self, timeout: float) -> None:
        """Return at the first corpus-change notification, or after `timeout` seconds. A lost
        listening connection is opened again on the next call; the caller's generation check
        covers what was missed meanwhile."""
        deadline = time.monotonic() + timeout
        try:
            listener = self._listening()
            for _ in listener.notifies(timeout=max(0.0, deadline - time.monotonic()), stop_after=1):
                break
        except psycopg.Error:
            with self._listener_lock:
                if self._listener is not None:
                    self._listener.close()
                self._listener = None
            time.sleep(max(0.0, deadline - time.monotonic()))

    def _listening(self) -> psycopg.Connection:
        with self._listener_lock:
            if self._listener is None or self._listener.closed:
                self._listener = psycopg.connect(self.url, autocommit=True)
                self._listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            return self._listener

    def heartbeat(self, worker: str) -> None:
        now = time.time()
        with self._bookkeeping() as connection:
            connection.execute(
                "INSERT INTO workers(id, seen_at) VALUES (%s, %s) ON CONFLICT(id) DO UPDATE SET seen_at = excluded.seen_at",
                (worker, now),
            )
            connection.execute("DELETE FROM updates WHERE finished_at < %s", (now - FINISHED_UPDATES_KEPT_SECONDS,))
            connection.execute("DELETE FROM workers WHERE seen_at < %s", (now - FINISHED_UPDATES_KEPT_SECONDS,))
            connection.execute("DELETE FROM rate_hits WHERE at < %s", (now - FINISHED_UPDATES_KEPT_SECONDS,))

    def claim_update(self, update_id: int, worker: str) -> Claim:
        """Claim an update for `worker`; the row lock makes two workers' claims take turns."""
        now = time.time()
        with self._bookkeeping() as connection:
            connection.execute(
                "INSERT INTO updates(update_id, worker, claimed_at) VALUES (%s, '', %s) ON CONFLICT DO NOTHING",
                (update_id, now),
            )
            holder, finished, seen_at = connection.execute(
                "SELECT u.worker, u.finished_at IS NOT NULL, w.seen_at FROM updates u"
                " LEFT JOIN workers w ON w.id = u.worker WHERE u.update_id = %s FOR UPDATE OF u",
                (update_id,),
            ).fetchone()
            claim = decide_claim(holder or None, finished, seen_at, worker, now)
            if claim is Claim.MINE:
                connection.execute(
                    "UPDATE updates SET worker = %s, claimed_at = %s WHERE update_id = %s", (worker, now, update_id)
                )
        return claim

    def finish_update(self, update_id: int) -> None:
        with self._bookkeeping() as connection:
            connection.execute("UPDATE updates SET finished_at = COALESCE(finished_at, %s) WHERE update_id = %s", (time.time(), update_id))

    def release_update(self, update_id: int) -> None:
        with self._bookkeeping() as connection:
            connection.execute("DELETE FROM updates WHERE update_id = %s AND finished_at IS NULL", (update_id,))

    def count_rate_hit(self, key: str, limit: int, window: float) -> RateCount:
        """A shared sliding window; an advisory lock on the key makes one key's hits take turns."""
        now = time.time()
        with self._bookkeeping() as connection:
            connection.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"rate:{key}",))
            connection.execute("DELETE FROM rate_hits WHERE key = %s AND at <= %s", (key, now - window))
            times = [at for (at,) in connection.execute("SELECT at FROM rate_hits WHERE key = %s ORDER BY at", (key,))]
            notice = connection.execute("SELECT at FROM rate_notices WHERE key = %s", (key,)).fetchone()
            decision = decide_rate(times, notice[0] if notice else None, limit, window, now)
            if decision.allowed:
                connection.execute("INSERT INTO rate_hits(key, at) VALUES (%s, %s)", (key, now))
                connection.execute("DELETE FROM rate_notices WHERE key = %s", (key,))
            else:
                connection.execute(
                    "INSERT INTO rate_notices(key, at) VALUES (%s, %s) ON CONFLICT(key) DO UPDATE SET at = excluded.at",
                    (key, now),
                )
        return decision


def _meta(connection: psycopg.Connection, key: str) -> str | None:
    row = connection.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
    return row[0] if row else None


def _set_meta(connection: psycopg.Connection, key: str, value: str) -> None:
    connection.execute(
        "INSERT INTO meta(key, value) VALUES (%s, %s) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value)
    )


def _free_id(connection: psycopg.Connection, sha256: str) -> str:
    for length in range(10, len(sha256) + 1, 2):
        candidate = sha256[:length]
        if not connection.execute("SELECT 1 FROM documents WHERE id = %s", (candidate,)).fetchone():
            return candidate
    raise StoreError("문서 ID를 만들 수 없습니다")
