"""The question-answering engine over the store: ask, add, remove, with snapshot swaps.

Questions read `self.snapshot` once and answer from it to the end. Corpus changes are
serialised: the document is analysed first (the slow part, outside the lock), then
written in one store transaction, and the next snapshot is built from the previous
one plus the new rows and swapped in. The snapshot is saved beside the store in the
background, tagged with the store's generation.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.bundled import bundled_documents
from corpus.document import Document, make_document
from corpus.errors import DocumentRejected, DuplicateDocument, EmptyDocument, InvalidQuestion
from corpus.loaders import LoadedText, LoadLimits, load_bytes, load_path, safe_filename
from corpus.normalize import normalize_characters
from corpus.store import AnalysedChunk, DocumentInfo, IndexRow, StoredChunk
from corpus.stores import CorpusStore
from retrieval.analyzer import Analyzer, Token, batches
from retrieval.answer import Answer
from retrieval.bm25 import BM25Params
from retrieval.index import IndexEntry, IndexSnapshot
from retrieval.index import file_intact as index_file_intact
from retrieval.preparation import prepare_documents
from retrieval.embedding import Embedder
from retrieval.qa import ChunkFetcher, SemanticQuery, answer_question
from retrieval.semantic_index import SemanticIndex
from retrieval.vector_file import BUNDLED_VECTORS, fill_from_file
from retrieval.settings import DEFAULT_SETTINGS, RetrievalSettings
from retrieval.synonyms import SynonymTable
from retrieval.terms import chunk_terms

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
STALE_SNAPSHOT_RETRIES = 3


class _StaleSnapshot(Exception):
    """The snapshot a question used lost rows to a removal: search again on the current one."""


# Markup: "<" then a tag name, "/" or "!". Korean titles in angle brackets ("<해리 포터>")
# and comparisons ("a < b, c > d") are text, not tags.
_TAGS = re.compile(r"<(?:/?[A-Za-z]|!)[^<>\n]{0,200}>")


class PassProgress:
    """Logs how far a pass over the stored documents is, every REPORT_EVERY_S seconds,
    with the time left at the rate so far: re-analysing a large store takes minutes
    before the first answer, and a silent wait looks like a hang."""

    REPORT_EVERY_S = 10.0

    def __init__(self, documents: Sequence[DocumentInfo]) -> None:
        self.documents = len(documents)
        self.chunks = sum(info.chunk_count for info in documents)
        self.started = self.last_report = time.perf_counter()
        self.documents_done = self.chunks_done = 0

    def advance(self, info: DocumentInfo) -> None:
        self.documents_done += 1
        self.chunks_done += info.chunk_count
        now = time.perf_counter()
        if now - self.last_report < self.REPORT_EVERY_S or self.documents_done == self.documents:
            return
        self.last_report = now
        share = self.chunks_done / self.chunks if self.chunks else self.documents_done / self.documents
        left = (now - self.started) * (1 - share) / share if share else float("nan")
        log.warning(
            "analysed %d of %d documents again (%.0f%%), about %.0f s left",
            self.documents_done, self.documents, 100 * share, left,
        )


@dataclass(frozen=True)
class AddedDocument:
    info: DocumentInfo
    seconds: float


def clean_question(question: str) -> str:
    """The text that is analysed: characters as documents have them (corpus.normalize), markup removed."""
    return " ".join(_TAGS.sub(" ", normalize_characters(question)).split())


def to_index_entry(row: IndexRow, settings: RetrievalSettings) -> IndexEntry:
    terms = chunk_terms(
        settings.tokenizer, row.tokens, row.text, row.context_tokens, row.context_text, settings.context_weight
    )
    return IndexEntry(row.row_id, row.doc_id, terms)


def bm25_params(settings: RetrievalSettings) -> BM25Params:
    return BM25Params(settings.bm25, settings.k1, settings.b, settings.delta)


class Engine:
    def __init__(
        self,
        store: CorpusStore,
        analyzer: Analyzer,
        settings: RetrievalSettings = DEFAULT_SETTINGS,
        index_path: Path | None = None,
        limits: LoadLimits = LoadLimits(),
        synonyms: SynonymTable = SynonymTable(),
        embedder: Embedder | None = None,
        vectors_path: Path | None = None,
    ) -> None:
        self.store = store
        self.synonyms = synonyms
        self.analyzer = analyzer
        self.settings = settings
        self.limits = limits
        self.index_path = index_path
        self._change_lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._saver: threading.Thread | None = None
        self._verifier: threading.Thread | None = None
        self._reanalyse_if_stale()
        # the corpus generation the snapshot holds all of: read before the rows it is built from
        self.generation = self.store.generation
        self.snapshot = self._open_index()
        uses_vectors = embedder is not None and settings.matching != "lexical"
        self.semantic = SemanticIndex(store, embedder, vectors_path) if uses_vectors else None

    def _reanalyse_if_stale(self) -> None:
        """Analyse every document again when its stored tokens come from another analysis
        (an upgraded Kiwi or model, a changed user dictionary, new steps of ours): questions
        are analysed by the current one, and both sides must agree. Documents are analysed
        in groups of about one Kiwi batch, so that small ones keep both workers busy; each
        is swapped in its own transaction, which notes it done, so an interrupted pass
        resumes at the next open with the documents it had not reached."""
        current = self.analyzer.signature
        stored = self.store.analysis
        if stored == current:
            return
        done = self.store.reanalysed_by(current)
        documents = [info for info in self.store.documents() if info.id not in done]
        if documents:
            log.warning(
                "stored tokens come from another analysis (%s); analysing %d documents again with %s%s",
                stored or "not recorded", len(documents), current,
                f" ({len(done)} were analysed before the pass was interrupted)" if done else "",
            )
            progress = PassProgress(documents)
            texts = ((info, self.store.document_text(info.id)) for info in documents)
            for group in batches(texts, lambda pair: len(pair[1])):
                prepared = prepare_documents([(text, info.title) for info, text in group], self.analyzer, self.settings.chunking)
                for (info, _), chunks in zip(group, prepared):
                    if isinstance(chunks, DocumentRejected):  # e.g. past the chunk cap now: keep its old chunks
                        log.warning("document %s kept as it was: %s", info.id, chunks.user_message)
                    else:
                        self.store.replace_chunks(info.id, chunks, current)
                    progress.advance(info)
            log.warning("analysed %d documents again in %.1f s", len(documents), time.perf_counter() - progress.started)
        self.store.mark_analysed(current)

    def _index_tag(self) -> dict[str, object]:
        return {"generation": self.generation, "settings": self.settings.index_fingerprint()}

    def _open_index(self) -> IndexSnapshot:
        params = bm25_params(self.settings)
        if self.index_path is not None:
            loaded = IndexSnapshot.load(self.index_path, self._index_tag(), params)
            if loaded is not None:
                if loaded.unverified is not None:  # a large file: serve now, checksum it meanwhile
                    self._verifier = threading.Thread(target=self._verify, args=(loaded,), name="index-verify", daemon=True)
                    self._verifier.start()
                return loaded
        return self._rebuild()

    def _rebuild(self) -> IndexSnapshot:
        started = time.perf_counter()
        params = bm25_params(self.settings)
        tag = self._index_tag()
        snapshot = IndexSnapshot.build((to_index_entry(row, self.settings) for row in self.store.index_rows()), params)
        log.debug("index built from the store: %d chunks in %.2f s", len(snapshot), time.perf_counter() - started)
        self._save(snapshot, tag)
        return snapshot

    def wait_for_index_check(self) -> None:
        """Block until the background checksum of a large loaded index file, if any, is done."""
        if self._verifier is not None:
            self._verifier.join()

    def _verify(self, loaded: IndexSnapshot) -> None:
        """Checksum a large loaded index file; if it is damaged, rebuild from the store and swap."""
        if loaded.unverified is None or index_file_intact(*loaded.unverified):
            return
        log.warning("index file %s is damaged (checksum); rebuilding from the store", self.index_path)
        with self._change_lock:
            self.generation = self.store.generation
            self.snapshot = self._rebuild()

    def refresh(self) -> bool:
        """Catch up with corpus changes other processes committed (other workers, the CLI):
        the next snapshot is built beside the current one from the store's documents and
        swapped in whole, so a question sees the old corpus or the new one. False: nothing
        had changed."""
        with self._change_lock:
            generation = self.store.generation
            if generation == self.generation:
                return False
            if self.store.analysis != self.analyzer.signature:  # re-chunked elsewhere: same ids, new rows
                self.generation = generation
                self.snapshot = self._rebuild()
                self._sync_vectors(rechunked=True)
                return True
            stored = {info.id for info in self.store.documents()}
            held = set(self.snapshot.doc_ids.tolist())
            snapshot = self.snapshot
            for doc_id in held - stored:
                snapshot = snapshot.without_document(doc_id)
            entries = [
                to_index_entry(row, self.settings) for doc_id in sorted(stored - held) for row in self.store.index_rows(doc_id)
            ]
            if entries:
                snapshot = snapshot.with_entries(entries)
            self.snapshot, self.generation = snapshot, generation
            log.info("index caught up with generation %d: +%d -%d documents", generation, len(stored - held), len(held - stored))
            self._save_in_background(snapshot)
            self._sync_vectors()
        return True

    def _sync_vectors(self, rechunked: bool = False) -> None:
        if self.semantic is not None:
            self.semantic.sync(rechunked)

    def _after_own_change(self, changes: int) -> None:
        """Advance the generation past this process's own `changes` (change lock held) unless
        another process changed the corpus meanwhile: then refresh() catches up with both."""
        if self.store.generation == self.generation + changes:
            self.generation += changes

    def _save(self, snapshot: IndexSnapshot, tag: dict[str, object]) -> None:
        if self.index_path is None:
            return
        with self._save_lock:
            try:
                snapshot.save(self.index_path, tag)
            except OSError as error:
                log.warning("could not save the index to %s: %s", self.index_path, error)

    def _save_in_background(self, snapshot: IndexSnapshot) -> None:
        tag = self._index_tag()
        self._saver = threading.Thread(target=self._save, args=(snapshot, tag), name="index-save", daemon=True)
        self._saver.start()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def wait_for_vectors(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Block until every stored chunk has its embedding (no-op without semantic matching)."""
        if self.semantic is not None:
            self.semantic.wait(progress)

    def close(self) -> None:
        """Wait for the index check, the batch of embeddings under way and the last index save,
        then close the store; chunks not embedded yet are embedded at the next start."""
        self.wait_for_index_check()
        if self.semantic is not None:
            self.semantic.stop()
        if self._saver is not None:
            self._saver.join()
        self.store.close()

    def ask(self, question: str, top_k: int = 5) -> Answer:
        """Answer from the current snapshot; raises InvalidQuestion for empty or overlong input."""
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidQuestion(f"질문이 너무 깁니다({len(question):,}자). {MAX_QUESTION_CHARS:,}자 이내로 물어봐 주세요.")
        text = clean_question(question)
        if not text:
            raise InvalidQuestion("질문을 입력해 주세요.")
        tokens = self.analyzer.content_tokens(text)
        for _ in range(STALE_SNAPSHOT_RETRIES):
            try:
                return self._answer(question, text, tokens, top_k)
            except _StaleSnapshot:
                continue
        return self._answer(question, text, tokens, top_k, fetch=self.store.chunks)

    def _answer(
        self, question: str, text: str, tokens: list[Token], top_k: int, fetch: ChunkFetcher | None = None
    ) -> Answer:
        snapshot = self.snapshot
        expanded = self.synonyms.expand(text, tokens, known=lambda form: snapshot.document_frequency(form) > 0)
        if expanded is not None:
            text, tokens = expanded, self.analyzer.content_tokens(expanded)
        semantic = None
        if self.semantic is not None:
            semantic = SemanticQuery(self.semantic.snapshot, self.semantic.embedder.embed_queries([text])[0], self.semantic.embedder)
        return answer_question(
            question, text, tokens, snapshot, fetch or self._fetch_chunks, self.settings, top_k, semantic,
            reanalyse=self.analyzer.content_tokens,
        )

    def _fetch_chunks(self, row_ids: Iterable[int]) -> dict[int, StoredChunk]:
        """Chunks by row id, all of them or _StaleSnapshot.

        A removal swaps the snapshot before it deletes rows, so a question that started on the
        older snapshot and finds rows gone searches again on the current one.
        """
        wanted = list(row_ids)
        found = self.store.chunks(wanted)
        if len(found) == len(wanted):
            return found
        raise _StaleSnapshot

    def add_document(self, document: Document, added_by: str) -> AddedDocument:
        """Analyse, store and index one document; refuses duplicates before analysing."""
        [outcome] = self.add_documents([document], added_by)
        if isinstance(outcome, DocumentRejected):
            raise outcome
        return outcome

    def add_documents(self, documents: Sequence[Document], added_by: str) -> list[AddedDocument | DocumentRejected]:
        """Add several documents at once: their blocks are analysed together, as one large
        document's are, and the index is extended once, not once per document (at 100k
        chunks that costs about 0.2 s each). Returns, in order, each document's
        AddedDocument or the error that refused it (a duplicate, also of one earlier in
        `documents`, or no text); each is stored in its own transaction."""
        started = time.perf_counter()
        outcomes: list[DocumentInfo | DocumentRejected | None] = [None] * len(documents)
        fresh = []
        for position, document in enumerate(documents):
            duplicate = self.store.find_duplicate(document.sha256)
            if duplicate:
                outcomes[position] = DuplicateDocument(duplicate.id, duplicate.title)
            else:
                fresh.append(position)
        prepared = prepare_documents(
            [(documents[p].text, documents[p].title) for p in fresh], self.analyzer, self.settings.chunking
        )
        with self._change_lock:
            entries: list[IndexEntry] = []
            try:
                for position, chunks in zip(fresh, prepared):
                    outcomes[position] = self._store(documents[position], chunks, added_by, entries)
            finally:
                if entries:
                    self.snapshot = self.snapshot.with_entries(entries)
                    self._after_own_change(sum(isinstance(o, DocumentInfo) for o in outcomes))
                    self._save_in_background(self.snapshot)
                    if self.semantic is not None:
                        self.semantic.enqueue([(entry.row_id, entry.doc_id) for entry in entries])
        seconds = time.perf_counter() - started
        return [AddedDocument(o, seconds) if isinstance(o, DocumentInfo) else o for o in outcomes]

    def _store(
        self, document: Document, chunks: list[AnalysedChunk] | DocumentRejected, added_by: str, entries: list[IndexEntry]
    ) -> DocumentInfo | DocumentRejected:
        """Store one analysed document and collect its index entries (caller holds the change lock)."""
        if isinstance(chunks, DocumentRejected):  # refused while chunking (corpus.errors.TooManyChunks)
            return chunks
        if not chunks:
            return EmptyDocument(document.source)
        try:
            info = self.store.add_document(document, chunks, added_by)
        except DuplicateDocument as duplicate:
            return duplicate
        entries.extend(to_index_entry(row, self.settings) for row in self.store.index_rows(info.id))
        return info

    def add_loaded(self, loaded: LoadedText, source: str, added_by: str, title: str | None = None) -> AddedDocument:
        document = make_document(loaded.text, source, title=title, title_hint=loaded.title_hint)
        return self.add_document(document, added_by)

    def read_file(self, path: Path, title: str | None = None) -> Document:
        """The file as a document, within this engine's limits (not added)."""
        loaded = load_path(path, self.limits)
        return make_document(loaded.text, path.name, title=title, title_hint=loaded.title_hint)

    def add_file(self, path: Path, added_by: str, title: str | None = None) -> AddedDocument:
        return self.add_document(self.read_file(path, title), added_by)

    def add_bytes(self, data: bytes, filename: str, added_by: str, title: str | None = None) -> AddedDocument:
        return self.add_loaded(load_bytes(data, filename, self.limits), safe_filename(filename), added_by, title)

    def remove_document(self, doc_id: str) -> DocumentInfo:
        with self._change_lock:
            info = self.store.document(doc_id)
            previous = self.snapshot
            self.snapshot = previous.without_document(info.id)
            try:
                self.store.remove_document(info.id)
            except BaseException:
                self.snapshot = previous
                raise
            self._after_own_change(1)
            self._save_in_background(self.snapshot)
            if self.semantic is not None:
                self.semantic.remove_document(info.id)
        return info

    def seed_if_new(self) -> list[DocumentInfo]:
        """Fill a never-seeded store from the bundled corpus; later removals are respected."""
        if self.store.seeded:
            return []
        if self.semantic is not None:  # the bundled corpus ships its vectors: nothing to compute
            fill_from_file(self.store, BUNDLED_VECTORS, self.semantic.embedder.model_id)
        added = []
        for path in bundled_documents():
            added.append(self.add_file(path, added_by="bundled").info)
        self.store.mark_seeded()
        return added
