"""Speed and memory of the engine beside the reference implementations, at growing scale.

The corpus: the contexts of a SQuAD-format file, chunked by our chunker, replicated
until N chunks. Every replica shuffles the sentences inside each paragraph, and from the
second replica on a share of the rare words (Hangul words found in a single base chunk)
is renamed — their first syllable replaced, length kept — so the vocabulary keeps growing
with N as a real corpus's does. Up to `analysed` chunks are analysed by Kiwi like any
document; beyond that the analysed replicas' token lists are copied and renamed the same
way (the renamed morphemes re-read from the renamed text), because analysing a million
chunks takes hours on two cores.

Each scale is a real store (SQLite) and a real engine with the default settings; the
index is built from the stored tokens like a cold start, persisted, and the engine that
answers is reopened from that file like the bot. Measured on the same tokens:
- `query_*`: engine.ask end to end (cleaning, Kiwi, search, store, answer extraction),
  timed once the start-up checksum of a large index file has finished in the background
  (it reads the whole file on one core, 1.6 GB at 1M chunks, and could overlap the first questions)
  and the store file has been read once, so that both are in the OS's page cache as in a
  bot that has been serving for a while (after building a 1M index a third of the 4.6 GB
  store was no longer cached, and a chunk read from disk costs milliseconds);
- `retrieve_p50_ms`: IndexSnapshot.search, top-10, timed in turns with bm25s's two paths
  below: ROUNDS passes over the questions each, the order turning every round, so that the
  machine's drift during a run weighs on both sides of the ratio alike;
- `reference_p50_ms`: rank-bm25's BM25L get_scores, as released up to 0.2.1 (`ReferenceBM25L`;
  0.2.2 multiplies every term by its count a second time, which is no longer BM25L);
- `bm25s_p50_ms`: bm25s's "bm25l" (get_scores + top-k on the query's token ids), its
  default numpy backend; beside it (table and log only) the same model through bm25s's
  numba backend (`retrieve` on one thread), its fastest path for one question;
- `same_top10`: share of queries whose top-10 equals the reference's, ties broken by
  chunk position, among chunks that hold a query term (the engine never returns others);
- build time split into Kiwi analysis and the rest, and throughputs beside Kiwi's own
  2-worker batch on the same text (the two take turns going first, batch by batch);
  start-up and peak RSS through a probe the caller runs (a BM25-only bot: `startup_s`,
  `peak_rss_mb`).

The semantic stage, when an embedder is given, on the same stores:
- `chunk_embed_*`: the embedder's throughput on the first EMBED_SAMPLE base chunks, embedded
  as the engine embeds a chunk (title and heading, then the text); measured once per run.
  Embedding 1M chunks would take a day on two cores, so every scale's matrix repeats these
  real vectors: a chunk gets its base chunk's sampled vector (modulo the sample), perturbed
  and normalised again unless it is the very chunk embedded. The matrix is saved where the
  engine keeps it and read memory-mapped, as at a bot's start;
- `question_embed_*`: each question embedded alone, the model warm;
- `dense_*`: DenseSnapshot.search, top-DENSE_TOP over every chunk's vector;
- `hybrid_query_*`: engine.ask end to end with the embedder (question embedding, BM25, dense
  top-k, fusion, answer extraction comparing candidate sentences by meaning);
- `vectors_mb`: the matrix's size, what the vectors add to a bot's memory once searched;
- `hybrid_startup_s`, `hybrid_peak_rss_mb`: the probe again, as a bot with semantic matching
  serving the same store and its saved vectors (answering HYBRID_PROBE_QUESTIONS questions
  after the first).
"""

from __future__ import annotations

import gc
import hashlib
import importlib.util
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from rank_bm25 import BM25L

from corpus.chunker import Chunk
from corpus.document import Document
from corpus.store import AnalysedChunk, Store
from retrieval.acceleration import COMPILED, use_compiled
from retrieval.analyzer import Analysis, Analyzer, Token, new_kiwi
from retrieval.bm25 import csc_weights
from retrieval.bm25 import top_k as select_top_k
from retrieval.embedding import EMBED_BATCH, PASSAGE_CHARS, Embedder, passage_text
from retrieval.engine import Engine, clean_question, to_index_entry
from retrieval.index import IndexSnapshot
from retrieval.preparation import prepare_chunks
from retrieval.settings import RetrievalSettings
from retrieval.terms import index_terms
from retrieval.vectors import VECTOR_DTYPE, DenseSnapshot

DEFAULT_SCALES = (1_000, 10_000, 100_000, 1_000_000)
DEFAULT_ANALYSED = 100_000
REFERENCE_LIMIT = 100_000  # rank-bm25 above this: hours of Python loops and tens of GB
BM25S_BUILD_LIMIT = 100_000  # bm25s's own builder above this needs ~13 GB of Python ints
RENAME_SHARE = 0.2
ANALYSIS_BATCH = 512
TOP = 10
ROUNDS = 6  # timed passes over the questions per side of the speed comparison, taking turns
JSON_KEYS = (
    "chunks", "queries", "reference", "query_p50_ms", "query_p95_ms", "retrieve_p50_ms",
    "reference_p50_ms", "bm25s_p50_ms", "same_top10", "build_s", "analysis_chars_per_s",
    "kiwi_chars_per_s", "startup_s", "peak_rss_mb",
    # the semantic stage (None without an embedder)
    "question_embed_p50_ms", "question_embed_p95_ms", "embedded_chunks", "chunk_embed_per_s",
    "chunk_embed_chars_per_s", "dense_p50_ms", "dense_p95_ms", "hybrid_query_p50_ms", "hybrid_query_p95_ms",
    "vectors_mb", "hybrid_startup_s", "hybrid_peak_rss_mb",
)
EMBED_SAMPLE = 200  # real chunks embedded per run: one costs about 0.1 s on two cores
DENSE_TOP = 20
PERTURBATION = 0.3  # noise norm beside a unit vector for repeated vectors: cosine about 0.96 to their source
# Questions a hybrid probe answers after the first: its peak RSS is reached by the first dense
# search (every vector read), and a hybrid answer costs up to a second in its long tail.
HYBRID_PROBE_QUESTIONS = 20
FILL_BLOCK = 65_536  # rows of the vector matrix filled at a time (float32 scratch: 100 MB)
T = TypeVar("T")
_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]{2,}")

# data dir, questions, matching ("lexical" or "hybrid") → (startup s, peak RSS MB)
Probe = Callable[[Path, Sequence[str], str], tuple[float, float]]


class ReferenceBM25L(BM25L):
    """rank-bm25's BM25L with the get_scores it shipped up to 0.2.1: textbook BM25L plus a
    per-term constant for chunks lacking the term (0.2.2 multiplies by the count again)."""

    def get_scores(self, query):
        score = np.zeros(self.corpus_size)
        doc_len = np.array(self.doc_len)
        for q in query:
            q_freq = np.array([(doc.get(q) or 0) for doc in self.doc_freqs])
            ctd = q_freq / (1 - self.b + self.b * doc_len / self.avgdl)
            score += (self.idf.get(q) or 0) * (self.k1 + 1) * (ctd + self.delta) / (self.k1 + ctd + self.delta)
        return score


@dataclass(frozen=True)
class BaseChunk:
    article: int
    title: str
    text: str
    heading: str
    sentences: tuple[tuple[int, int], ...]
    context_tokens: tuple[str, ...]
    rare: frozenset[str]


@dataclass(frozen=True)
class Question:
    text: str
    context: int


@dataclass
class ScaleResult:
    chunks: int
    queries: int
    reference: str
    query_p50_ms: float | None = None
    query_p95_ms: float | None = None
    retrieve_p50_ms: float | None = None
    retrieve_p95_ms: float | None = None
    reference_p50_ms: float | None = None
    bm25s_p50_ms: float | None = None
    bm25s_p95_ms: float | None = None
    bm25s_numba_p50_ms: float | None = None
    bm25s_numba_p95_ms: float | None = None
    same_top10: float | None = None
    bm25s_same_top10: float | None = None
    build_s: float | None = None
    analysis_s: float | None = None
    index_s: float | None = None
    analysed_chunks: int = 0
    analysis_chars_per_s: float | None = None
    kiwi_chars_per_s: float | None = None
    store_s: float | None = None
    startup_s: float | None = None
    peak_rss_mb: float | None = None
    add_s: float | None = None
    remove_s: float | None = None
    vocabulary: int = 0
    postings: int = 0
    question_embed_p50_ms: float | None = None
    question_embed_p95_ms: float | None = None
    embedded_chunks: int | None = None
    chunk_embed_per_s: float | None = None
    chunk_embed_chars_per_s: float | None = None
    dense_p50_ms: float | None = None
    dense_p95_ms: float | None = None
    hybrid_query_p50_ms: float | None = None
    hybrid_query_p95_ms: float | None = None
    vectors_mb: float | None = None
    hybrid_startup_s: float | None = None
    hybrid_peak_rss_mb: float | None = None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {key: _rounded(getattr(self, key)) for key in JSON_KEYS}


def _rounded(value: object) -> object:
    return round(value, 4) if isinstance(value, float) else value


def method_text(analysed: int, seed: int) -> str:
    return (
        "Corpus: the contexts of the SQuAD file chunked by qabot's chunker, replicated to N chunks; each replica "
        "shuffles the sentences inside every paragraph and, from the second replica on, renames "
        f"{RENAME_SHARE:.0%} of the rare words (Hangul words of a single base chunk; first syllable replaced) so "
        f"the vocabulary grows with N. Up to {analysed:,} chunks are analysed by Kiwi; beyond, analysed token lists "
        "are copied with the same renaming. Index: default settings, built from the stored tokens, saved, "
        f"reopened from the file (memory-mapped). Queries: a seeded sample (seed {seed}) of the file's questions; "
        f"top-{TOP}. Retrieval and bm25s: {ROUNDS} timed passes over the questions each, taking turns (the order "
        "turns every round). Reference: rank-bm25 BM25L get_scores as in rank-bm25 0.2.1 (0.2.2 counts tf twice); above "
        f"{REFERENCE_LIMIT:,} chunks rank-bm25 is skipped and the top-10 is checked against exhaustive float64 "
        "scoring of every chunk. same_top10 ties: lower chunk position first, among chunks holding a query term. "
        f"Semantic stage: the first {EMBED_SAMPLE} base chunks are embedded for real (chunk throughput); every "
        "chunk's vector is its base chunk's sampled vector, perturbed and normalised unless it is that very chunk; "
        f"saved and read memory-mapped as the bot does. Dense: top-{DENSE_TOP} over all vectors; hybrid: engine.ask "
        "with the embedder. Start-up and peak RSS: a BM25-only bot, and a hybrid bot with the vectors."
    )


# corpus ---------------------------------------------------------------------------


def load_squad(path: Path) -> tuple[list[tuple[str, str]], list[Question]]:
    """(title, context) of every paragraph in file order, and every question with its context index."""
    data = json.loads(path.read_text(encoding="utf-8"))
    contexts: list[tuple[str, str]] = []
    questions: list[Question] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph.get("qas", []):
                questions.append(Question(qa["question"], len(contexts)))
            contexts.append((article.get("title", ""), paragraph["context"]))
    return contexts, questions


def base_chunks(contexts: Sequence[tuple[str, str]], analyzer: Analyzer, settings: RetrievalSettings) -> list[BaseChunk]:
    titles: dict[str, int] = {}
    prepared = []
    for title, context in contexts:
        article = titles.setdefault(title, len(titles))
        for analysed in prepare_chunks(context, title, analyzer, settings.chunking):
            prepared.append((article, title, analysed))
    words_per_chunk = [set(_HANGUL_WORD.findall(a.chunk.text)) for _, _, a in prepared]
    df = Counter(word for words in words_per_chunk for word in words)
    return [
        BaseChunk(
            article, title, a.chunk.text, a.chunk.heading, tuple(map(tuple, a.sentences)), tuple(a.context_tokens),
            frozenset(w for w in words if df[w] == 1),
        )
        for (article, title, a), words in zip(prepared, words_per_chunk)
    ]


def _unit(seed: int, *parts: object) -> int:
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def shuffled_text(chunk: BaseChunk, rng: random.Random) -> str:
    """The chunk's sentences shuffled inside each paragraph (lines kept apart)."""
    paragraphs: dict[int, list[str]] = {}
    for start, end in chunk.sentences:
        paragraphs.setdefault(chunk.text.count("\n", 0, start), []).append(chunk.text[start:end].strip())
    lines = []
    for _, sentences in sorted(paragraphs.items()):
        sentences = [s for s in sentences if s]
        rng.shuffle(sentences)
        lines.append(" ".join(sentences))
    return "\n".join(line for line in lines if line) or chunk.text


def renamed(text: str, rare: frozenset[str], replica: int, seed: int) -> tuple[str, list[tuple[int, int]]]:
    """Rename a share of the rare words for this replica; returns the text and the renamed spans."""
    if replica == 0 or not rare:
        return text, []
    spans: list[tuple[int, int]] = []

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        if word not in rare or _unit(seed, "pick", replica, word) % 1000 >= RENAME_SHARE * 1000:
            return word
        syllable = chr(0xAC00 + _unit(seed, "syllable", replica, word) % 11172)
        spans.append(match.span())
        return syllable + word[1:]

    return _HANGUL_WORD.sub(swap, text), spans


def rename_tokens(tokens: Sequence[Token], old: str, new: str, spans: Sequence[tuple[int, int]]) -> list[Token]:
    """Tokens of a copied replica: a morpheme read from a renamed span is read again from the new text."""
    if not spans:
        return list(tokens)
    result = []
    for token in tokens:
        inside = any(s <= token.start < e for s, e in spans)
        if inside and old[token.start : token.end] == token.form:
            token = Token(new[token.start : token.end], token.tag, token.start, token.end)
        result.append(token)
    return result


@dataclass
class ReplicaChunk:
    base: int
    text: str
    analysis: Analysis


class Corpus:
    """Replicas of the base chunks, analysed once and shared by every scale of a run."""

    def __init__(self, base: list[BaseChunk], analyzer: Analyzer, seed: int, analysed_limit: int) -> None:
        self.base = base
        self.analyzer = analyzer
        self.seed = seed
        self.analysed_limit = max(analysed_limit, len(base))
        self.analysed: list[ReplicaChunk] = []
        self.analysis_seconds: list[float] = []  # per analysed batch
        self.batch_ends: list[int] = []
        self.analysed_chars = 0
        # Kiwi's own batch timed on every batch beside ours, each going first on alternate
        # batches: the machine's speed drifts during a run (one run's later batches went
        # 20% slower for both), so a rate over only the first batches misjudged the rest
        self.kiwi = None
        self.kiwi_seconds = 0.0

    def _time_kiwi(self, batch: list[str]) -> None:
        if self.kiwi is None:
            self.kiwi = new_kiwi(num_workers=2)  # configured as ours
            self.kiwi.tokenize("형태소 분석기를 미리 깨웁니다.")
        began = time.perf_counter()
        for _ in self.kiwi.tokenize(batch):
            pass
        self.kiwi_seconds += time.perf_counter() - began

    @property
    def kiwi_rate(self) -> float | None:
        return self.analysed_chars / self.kiwi_seconds if self.kiwi_seconds else None

    def replica_texts(self, replica: int) -> list[tuple[str, list[tuple[int, int]]]]:
        rng = random.Random(_unit(self.seed, "shuffle", replica))
        result = []
        for chunk in self.base:
            text = chunk.text if replica == 0 else shuffled_text(chunk, rng)
            result.append(renamed(text, chunk.rare, replica, self.seed))
        return result

    def ensure_analysed(self, n_chunks: int, progress: Callable[[str], None]) -> None:
        """Analyse replicas (whole ones) until `n_chunks` chunks, or the analysed limit, are analysed."""
        wanted = min(n_chunks, self.analysed_limit)
        while len(self.analysed) < wanted:
            replica = len(self.analysed) // len(self.base)
            texts = [text for text, _ in self.replica_texts(replica)]
            for start in range(0, len(texts), ANALYSIS_BATCH):
                batch = texts[start : start + ANALYSIS_BATCH]
                kiwi_first = len(self.analysis_seconds) % 2 == 1
                if kiwi_first:
                    self._time_kiwi(batch)
                began = time.perf_counter()
                analyses = self.analyzer.analyse_many(batch)
                spent = time.perf_counter() - began
                self.analysis_seconds.append(spent)
                for offset, (text, analysis) in enumerate(zip(batch, analyses)):
                    self.analysed.append(ReplicaChunk(start + offset, text, analysis))
                # The corpus keeps every analysis for the scales to come, which no indexing run
                # does: millions of Token tuples (a tuple subclass, which the cyclic collector
                # never untracks). Left tracked, every full collection walks them all, so the
                # timed batches (and queries) would pay for the bench's own heap: converting
                # 300 texts' morphemes took 35 ms with none alive and up to 190 ms with 3,300.
                # Frozen, they are out of the collector's way.
                gc.freeze()
                self.batch_ends.append(len(self.analysed))
                chars = sum(map(len, batch))
                self.analysed_chars += chars
                if not kiwi_first:
                    self._time_kiwi(batch)
            progress(f"analysed {len(self.analysed):,} chunks")

    def analysis_cost(self, n_chunks: int) -> tuple[int, int, float]:
        """(chunks analysed, their chars, Kiwi seconds) behind the first n_chunks."""
        seconds = 0.0
        count = 0
        for end, spent in zip(self.batch_ends, self.analysis_seconds):
            if count >= n_chunks:
                break
            seconds += spent
            count = end
        chars = sum(len(chunk.text) for chunk in self.analysed[:count])
        return count, chars, seconds

    def chunk(self, position: int) -> tuple[ReplicaChunk, int]:
        """The replica chunk at corpus position `position`, and its replica number."""
        replica = position // len(self.base)
        if position < len(self.analysed):
            return self.analysed[position], replica
        source = self.analysed[position % len(self.analysed)]
        base = self.base[source.base]
        text, spans = renamed(source.text, base.rare, replica, self.seed)
        tokens = rename_tokens(source.analysis.tokens, source.text, text, spans)
        return ReplicaChunk(source.base, text, Analysis(tuple(tokens), source.analysis.sentences)), replica


def fill_store(store: Store, corpus: Corpus, n_chunks: int) -> np.ndarray:
    """One document per (replica, article): its chunks' texts joined by blank lines. Returns
    each stored chunk's base chunk, in the order of the store's rows."""
    groups: dict[tuple[int, int], list[ReplicaChunk]] = {}
    order: list[tuple[int, int]] = []
    bases: list[int] = []

    def flush() -> None:
        for key in order:
            bases.extend(chunk.base for chunk in groups[key])
            _add_group(store, corpus, key, groups[key])
        groups.clear()
        order.clear()

    current_replica = 0
    for position in range(n_chunks):
        chunk, replica = corpus.chunk(position)
        if replica != current_replica:
            flush()
            current_replica = replica
        key = (replica, corpus.base[chunk.base].article)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(chunk)
    flush()
    store.mark_seeded()
    store.mark_analysed(corpus.analyzer.signature)
    return np.asarray(bases, dtype=np.int64)


def _add_group(store: Store, corpus: Corpus, key: tuple[int, int], chunks: list[ReplicaChunk]) -> None:
    replica, _ = key
    title = corpus.base[chunks[0].base].title
    analysed = []
    offset = 0
    for ordinal, chunk in enumerate(chunks):
        base = corpus.base[chunk.base]
        analysis = chunk.analysis
        analysed.append(
            AnalysedChunk(
                chunk=Chunk(ordinal, offset, offset + len(chunk.text), chunk.text, base.heading),
                tokens=[t.form for t in analysis.tokens],
                token_starts=[t.start for t in analysis.tokens],
                sentences=list(analysis.sentences),
                context_tokens=list(base.context_tokens),
            )
        )
        offset += len(chunk.text) + 2
    text = "\n\n".join(chunk.text for chunk in chunks)
    digest = hashlib.sha256(f"{replica}\n{title}\n{text}".encode()).hexdigest()
    store.add_document(Document(title, f"bench-{replica}", text, digest), analysed, "bench")


# semantic stage ---------------------------------------------------------------------


@dataclass(frozen=True)
class EmbeddedSample:
    """Real embeddings of the first base chunks (float32 rows), and what computing them cost."""

    vectors: np.ndarray
    chars: int
    seconds: float


def embed_sample(corpus: Corpus, embedder: Embedder, size: int) -> EmbeddedSample:
    """Embed the first `size` base chunks as the engine embeds a stored chunk, in its batches;
    the model is warmed on one chunk first. `chars` counts what the model reads (cut at PASSAGE_CHARS)."""
    texts = [passage_text(chunk.title, (), chunk.heading, chunk.text) for chunk in corpus.base[:size]]
    embedder.embed_passages(texts[:1])
    began = time.perf_counter()
    vectors = np.concatenate(
        [embedder.embed_passages(texts[start : start + EMBED_BATCH]) for start in range(0, len(texts), EMBED_BATCH)]
    )
    seconds = time.perf_counter() - began
    return EmbeddedSample(vectors, sum(min(len(text), PASSAGE_CHARS) for text in texts), seconds)


def vector_matrix(sample: np.ndarray, bases: np.ndarray, seed: int) -> np.ndarray:
    """Every stored chunk's vector (float16 rows, store order): its base chunk's sampled vector
    (modulo the sample), with noise of norm PERTURBATION added and normalised again, except for
    the sampled chunks themselves (the first replica's), which keep their real vector."""
    dim = sample.shape[1]
    matrix = np.empty((len(bases), dim), VECTOR_DTYPE)
    rng = np.random.default_rng(seed)
    for start in range(0, len(bases), FILL_BLOCK):
        block = bases[start : start + FILL_BLOCK]
        rows = sample[block % len(sample)]
        noise = rng.standard_normal(rows.shape, dtype=np.float32) * np.float32(PERTURBATION / np.sqrt(dim))
        noise[(np.arange(start, start + len(block)) == block) & (block < len(sample))] = 0
        rows += noise
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        matrix[start : start + len(block)] = rows
    return matrix


def save_vectors(store: Store, path: Path, matrix: np.ndarray, model_id: str) -> None:
    """Save the matrix where an engine on this store loads it from: keyed to the store's rows and generation."""
    rows = store.chunk_rows()
    snapshot = DenseSnapshot(np.asarray([row for row, _ in rows], np.int64), [doc for _, doc in rows], matrix, model_id)
    snapshot.save(path, {"generation": store.generation})  # the tag SemanticIndex loads by; checked on opening


def measure_semantic(
    result: ScaleResult,
    store_path: Path,
    index_path: Path,
    vectors_path: Path,
    questions: Sequence[Question],
    analyzer: Analyzer,
    settings: RetrievalSettings,
    embedder: Embedder,
    progress: Callable[[str], None],
) -> None:
    """Question embedding, dense top-k over the saved vectors, and hybrid answers end to end."""
    texts = [clean_question(question.text) for question in questions]
    embedder.embed_queries(texts[:1])
    embedded, spent = [], []
    for text in texts:
        began = time.perf_counter()
        embedded.append(embedder.embed_queries([text])[0])
        spent.append(time.perf_counter() - began)
    result.question_embed_p50_ms, result.question_embed_p95_ms = _ms(spent, 0.5), _ms(spent, 0.95)

    hybrid = settings.with_changes(matching="hybrid")
    store = Store(store_path)
    with Engine(store, analyzer, hybrid, index_path=index_path, embedder=embedder, vectors_path=vectors_path) as engine:
        dense = engine.semantic.snapshot if engine.semantic is not None else None
        if dense is None or len(dense) != result.chunks:
            raise RuntimeError(f"the engine did not load the {result.chunks:,} saved vectors ({vectors_path})")
        dense.search(embedded[0], DENSE_TOP)  # the memory-mapped file read once, as in a serving bot
        timings = _timed_pass(lambda vector: dense.search(vector, DENSE_TOP), embedded)()
        result.dense_p50_ms, result.dense_p95_ms = _ms(timings, 0.5), _ms(timings, 0.95)
        progress(
            f"{result.chunks:,}: question embedding p50 {result.question_embed_p50_ms:.1f} ms, "
            f"dense top-{DENSE_TOP} p50 {result.dense_p50_ms:.2f} ms"
        )
        engine.ask(questions[0].text, top_k=TOP)
        timings = _timed_pass(lambda question: engine.ask(question.text, top_k=TOP), questions)()
        result.hybrid_query_p50_ms, result.hybrid_query_p95_ms = _ms(timings, 0.5), _ms(timings, 0.95)
    progress(f"{result.chunks:,}: hybrid engine p50 {result.hybrid_query_p50_ms:.1f} ms")


# measurements -----------------------------------------------------------------------


def _read_through(path: Path) -> None:
    """Read a file once, dropping the bytes: its pages are then in the OS's page cache."""
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass


def percentile(values: Sequence[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def reference_top(scores: np.ndarray, holders: np.ndarray, k: int) -> list[int]:
    """The reference's top-k among chunks holding a query term, ties by lower position."""
    positions, _ = select_top_k(holders, scores[holders], k)
    return positions.tolist()


def bm25s_model(entries_terms: Sequence[Sequence[str]], settings: RetrievalSettings):
    """bm25s "bm25l" built by bm25s itself over the same terms, and its vocabulary."""
    import bm25s

    model = bm25s.BM25(method="bm25l", k1=settings.k1, b=settings.b, delta=settings.delta)
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(term, len(vocab)) for term in terms] for terms in entries_terms]
    model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    return model, vocab


def run_scale(
    n_chunks: int,
    corpus: Corpus,
    questions: Sequence[Question],
    settings: RetrievalSettings,
    workdir: Path,
    probe: Probe | None,
    progress: Callable[[str], None],
    embedder: Embedder | None = None,
    sample: EmbeddedSample | None = None,
) -> ScaleResult:
    analyzer = corpus.analyzer
    corpus.ensure_analysed(n_chunks, progress)
    analysed_count, analysed_chars, analysis_s = corpus.analysis_cost(n_chunks)
    reference_name = "rank-bm25 BM25L (0.2.1 scoring)" if n_chunks <= REFERENCE_LIMIT else "exhaustive float64 (rank-bm25 skipped)"
    result = ScaleResult(n_chunks, len(questions), reference_name)
    result.analysed_chunks = analysed_count
    result.analysis_s = analysis_s
    result.analysis_chars_per_s = analysed_chars / analysis_s if analysis_s else None
    result.kiwi_chars_per_s = corpus.kiwi_rate
    if analysed_count < n_chunks:
        result.notes.append(f"analysed {analysed_count:,} chunks; the other {n_chunks - analysed_count:,} copy their token lists")

    data_dir = workdir / f"scale-{n_chunks}"
    data_dir.mkdir(parents=True, exist_ok=True)
    store_path, index_path = data_dir / "qabot.sqlite3", data_dir / "index" / "bm25.index"
    vectors_path = data_dir / "index" / "vectors.npy"  # where the bot's settings put them
    began = time.perf_counter()
    store = Store(store_path)
    bases = fill_store(store, corpus, n_chunks)
    result.store_s = time.perf_counter() - began
    progress(f"{n_chunks:,}: store written in {result.store_s:.1f} s")
    if embedder is not None and sample is not None:
        matrix = vector_matrix(sample.vectors, bases, corpus.seed)
        result.vectors_mb = matrix.nbytes / 2**20
        save_vectors(store, vectors_path, matrix, embedder.model_id)
        del matrix
        result.embedded_chunks = len(sample.vectors)
        result.chunk_embed_per_s = len(sample.vectors) / sample.seconds
        result.chunk_embed_chars_per_s = sample.chars / sample.seconds
        if n_chunks > len(sample.vectors):
            result.notes.append(
                f"embedded {len(sample.vectors):,} chunks; "
                f"the other {n_chunks - len(sample.vectors):,} repeat their vectors with noise"
            )
    del bases

    began = time.perf_counter()
    with Engine(store, analyzer, settings, index_path=index_path) as engine:
        result.index_s = time.perf_counter() - began  # read stored tokens, count, weigh, save
        built = engine.snapshot
        result.vocabulary = int(np.count_nonzero(built.df))
        result.postings = int(built.indices.size)
    del built, engine
    gc.collect()
    result.build_s = analysis_s + result.index_s
    progress(f"{n_chunks:,}: index built in {result.index_s:.1f} s")

    engine = Engine(Store(store_path), analyzer, settings, index_path=index_path)  # reopened like the bot
    engine.wait_for_index_check()
    if use_compiled(n_chunks):  # timed as a bot that has finished loading its compiled kernels
        COMPILED.load()
    _read_through(store_path)
    snapshot = engine.snapshot
    queries = []
    for question in questions:
        text = clean_question(question.text)
        tokens = analyzer.content_tokens(text)
        queries.append(index_terms(settings.tokenizer, [t.form for t in tokens], text))

    engine.ask(questions[0].text, top_k=TOP)
    end_to_end = []
    for question in questions:
        began = time.perf_counter()
        engine.ask(question.text, top_k=TOP)
        end_to_end.append(time.perf_counter() - began)
    result.query_p50_ms, result.query_p95_ms = _ms(end_to_end, 0.5), _ms(end_to_end, 0.95)
    progress(f"{n_chunks:,}: engine p50 {result.query_p50_ms:.2f} ms")
    ours = [[hit.position for hit in snapshot.search(terms, TOP)] for terms in queries]

    holders = [_holders(snapshot, terms) for terms in queries]
    entries_terms = None
    if n_chunks <= max(REFERENCE_LIMIT, BM25S_BUILD_LIMIT):
        entries_terms = [list(to_index_entry(row, settings).terms) for row in engine.store.index_rows()]
    reference_tops: list[list[int]] = []
    if n_chunks <= REFERENCE_LIMIT:
        reference = ReferenceBM25L(entries_terms, k1=settings.k1, b=settings.b, delta=settings.delta)
        spent = []
        for terms, held in zip(queries, holders):
            began = time.perf_counter()
            scores = reference.get_scores(terms)
            spent.append(time.perf_counter() - began)
            reference_tops.append(reference_top(scores, held, TOP))
        result.reference_p50_ms = _ms(spent, 0.5)
        del reference
        gc.collect()
    else:
        for terms, held in zip(queries, holders):
            reference_tops.append(reference_top(snapshot.all_scores(terms), held, TOP))
    result.same_top10 = sum(a == b for a, b in zip(ours, reference_tops)) / len(queries)
    progress(f"{n_chunks:,}: reference p50 {result.reference_p50_ms} ms, same_top10 {result.same_top10}")

    bm25s = _bm25s_model(result, snapshot, entries_terms if n_chunks <= BM25S_BUILD_LIMIT else None, queries, settings)
    del entries_terms
    gc.collect()
    _compare_speed(result, snapshot, queries, holders, reference_tops, bm25s)
    del bm25s
    gc.collect()
    progress(
        f"{n_chunks:,}: retrieval p50 {result.retrieve_p50_ms:.3f} ms, "
        f"bm25s p50 {result.bm25s_p50_ms} ms, with numba {result.bm25s_numba_p50_ms} ms"
    )

    if embedder is not None and sample is not None:
        measure_semantic(result, store_path, index_path, vectors_path, questions, analyzer, settings, embedder, progress)
        gc.collect()

    if probe is not None:
        engine.close()
        result.startup_s, result.peak_rss_mb = probe(data_dir, [q.text for q in questions], "lexical")
        progress(f"{n_chunks:,}: start-up {result.startup_s:.2f} s, peak RSS {result.peak_rss_mb:.0f} MB")
        if embedder is not None and sample is not None:
            asked = [q.text for q in questions[: HYBRID_PROBE_QUESTIONS + 1]]
            result.hybrid_startup_s, result.hybrid_peak_rss_mb = probe(data_dir, asked, "hybrid")
            progress(
                f"{n_chunks:,}: hybrid start-up {result.hybrid_startup_s:.2f} s, "
                f"peak RSS {result.hybrid_peak_rss_mb:.0f} MB"
            )
        engine = Engine(Store(store_path), analyzer, settings, index_path=index_path)
    _measure_add_remove(result, engine, corpus, settings)
    engine.close()
    progress(f"{n_chunks:,}: add {result.add_s:.2f} s beyond analysis, remove {result.remove_s:.2f} s")
    progress(json.dumps({k: _rounded(v) for k, v in vars(result).items()}, ensure_ascii=False))
    return result


def _ms(values: Sequence[float], share: float) -> float | None:
    value = percentile(values, share)
    return None if value is None else value * 1000


def _holders(snapshot: IndexSnapshot, terms: Sequence[str]) -> np.ndarray:
    ids, _ = snapshot.term_ids(terms)
    if not ids.size:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.concatenate([snapshot.indices[snapshot.indptr[t] : snapshot.indptr[t + 1]] for t in ids])).astype(np.int64)


def _compare_speed(
    result: ScaleResult,
    snapshot: IndexSnapshot,
    queries: Sequence[Sequence[str]],
    holders: Sequence[np.ndarray],
    reference_tops: Sequence[list[int]],
    bm25s: tuple[object, list[list[int]]] | None,
) -> None:
    """Our retrieval beside bm25s's two paths, timed in turns (`take_turns`); bm25s's
    ranking is checked against the reference first, outside the timings."""
    passes = {"retrieve": _timed_pass(lambda terms: snapshot.search(terms, TOP), queries)}
    if bm25s is not None:
        from bm25s.selection import topk as bm25s_topk

        model, query_ids = bm25s
        result.bm25s_same_top10 = _bm25s_same_top10(model, query_ids, holders, reference_tops)
        asked = [ids for ids in query_ids if ids]
        # get_scores + top-k: bm25s's numpy path as its `retrieve` runs it for one question
        passes["bm25s"] = _timed_pass(lambda ids: bm25s_topk(model.get_scores(ids), k=TOP, sorted=True), asked)
        _use_numba(model, asked)
        passes["bm25s_numba"] = _timed_pass(
            lambda ids: model.retrieve([ids], k=TOP, show_progress=False, n_threads=1), asked
        )
    timings = take_turns(passes, ROUNDS)
    result.retrieve_p50_ms, result.retrieve_p95_ms = _ms(timings["retrieve"], 0.5), _ms(timings["retrieve"], 0.95)
    if bm25s is not None:
        result.bm25s_p50_ms, result.bm25s_p95_ms = _ms(timings["bm25s"], 0.5), _ms(timings["bm25s"], 0.95)
        numba = timings["bm25s_numba"]
        result.bm25s_numba_p50_ms, result.bm25s_numba_p95_ms = _ms(numba, 0.5), _ms(numba, 0.95)


def take_turns(passes: dict[str, Callable[[], list[float]]], rounds: int) -> dict[str, list[float]]:
    """Every pass's timings over `rounds` rounds, the order of the passes turning by one each
    round. The machine's speed drifts within a run (another tenant, the CPU's clock); taking
    turns spreads the drift over every side of a ratio instead of landing on one of them."""
    names = list(passes)
    timings: dict[str, list[float]] = {name: [] for name in names}
    for turn in range(rounds):
        shift = turn % len(names)
        for name in names[shift:] + names[:shift]:
            timings[name].extend(passes[name]())
    return timings


def _timed_pass(ask: Callable[[T], object], questions: Sequence[T]) -> Callable[[], list[float]]:
    """A pass asking every question once, returning each one's seconds."""

    def timed() -> list[float]:
        spent = []
        for question in questions:
            began = time.perf_counter()
            ask(question)
            spent.append(time.perf_counter() - began)
        return spent

    return timed


def _bm25s_model(
    result: ScaleResult,
    snapshot: IndexSnapshot,
    entries_terms: Sequence[Sequence[str]] | None,
    queries: Sequence[Sequence[str]],
    settings: RetrievalSettings,
) -> tuple[object, list[list[int]]] | None:
    """bm25s's model of the same chunks and each query's token ids in it; None (with a note)
    without bm25s."""
    if importlib.util.find_spec("bm25s") is None:
        result.notes.append("bm25s is not installed: pip install bm25s")
        return None
    if entries_terms is not None:
        model, vocab = bm25s_model(entries_terms, settings)
        return model, [[vocab[t] for t in terms if t in vocab] for terms in queries]
    result.notes.append("bm25s: its index arrays taken from ours (its builder needs ~13 GB of Python ints here)")
    return _bm25s_from_snapshot(snapshot, settings), [snapshot._searched(terms).tolist() for terms in queries]


def _bm25s_same_top10(
    model, query_ids: Sequence[list[int]], holders: Sequence[np.ndarray], reference_tops: Sequence[list[int]]
) -> float:
    same = 0
    for ids, held, expected in zip(query_ids, holders, reference_tops):
        if ids:
            same += reference_top(np.asarray(model.get_scores(ids), dtype=np.float64), held, TOP) == expected
        else:
            same += expected == []
    return same / len(query_ids)


def _use_numba(model, asked: Sequence[list[int]]) -> None:
    """Switch `retrieve` to bm25s's numba backend and compile it: one question per call on
    one thread, as a bot would ask it. Its ranking is not compared: it sorts the same float32
    scores as the numpy path, and equal scores come out in no fixed order. get_scores, the
    numpy path, stays as it was."""
    model.backend = "numba"
    if asked:
        model.retrieve([asked[0]], k=TOP, show_progress=False, n_threads=1)


def _bm25s_from_snapshot(snapshot: IndexSnapshot, settings: RetrievalSettings):
    """A bm25s model whose arrays are what its builder makes of the same counts (f - f(0), float32)."""
    import bm25s

    model = bm25s.BM25(method="bm25l", k1=settings.k1, b=settings.b, delta=settings.delta)
    model.scores = {
        "data": csc_weights(
            snapshot.indptr, snapshot.indices, snapshot.term_counts, 1.0 / snapshot.inverse_norm, snapshot.idf, snapshot.params
        ),
        "indices": np.asarray(snapshot.indices),
        "indptr": np.asarray(snapshot.indptr),
        "num_docs": len(snapshot),
    }
    model.nonoccurrence_array = snapshot.absent.astype(np.float32)
    model.vocab_dict = {}
    model.unique_token_ids_set = range(len(snapshot.indptr) - 1)  # what retrieve() checks ids against
    return model


def _measure_add_remove(result: ScaleResult, engine: Engine, corpus: Corpus, settings: RetrievalSettings) -> None:
    """Add one new document (a base context with every word renamed) and remove it again."""
    base = corpus.base[0]
    text = "\n\n".join(c.text for c in corpus.base[:3]) + "\n\n측정용 새 문서입니다."
    analyse_began = time.perf_counter()
    prepare_chunks(text, base.title, corpus.analyzer, settings.chunking)
    analysis = time.perf_counter() - analyse_began
    document = Document(base.title, "bench-add", text, hashlib.sha256(("add" + text).encode()).hexdigest())
    began = time.perf_counter()
    added = engine.add_document(document, "bench")
    result.add_s = max(0.0, time.perf_counter() - began - analysis)
    if engine._saver is not None:
        engine._saver.join()
    began = time.perf_counter()
    engine.remove_document(added.info.id)
    result.remove_s = time.perf_counter() - began


def run_bench(
    data: Path,
    scales: Sequence[int],
    n_queries: int,
    seed: int,
    analyzer: Analyzer,
    settings: RetrievalSettings,
    workdir: Path,
    probe: Probe | None = None,
    analysed_limit: int = DEFAULT_ANALYSED,
    progress: Callable[[str], None] = lambda message: None,
    embedder: Embedder | None = None,
    embed_sample_size: int = EMBED_SAMPLE,
) -> list[ScaleResult]:
    """Every scale's figures; the semantic stage too when an embedder is given."""
    contexts, all_questions = load_squad(data)
    if not contexts or not all_questions:
        raise ValueError(f"{data}: no contexts or questions")
    questions = random.Random(seed).sample(all_questions, min(n_queries, len(all_questions)))
    began = time.perf_counter()
    base = base_chunks(contexts, analyzer, settings)
    progress(f"{len(contexts)} contexts → {len(base)} base chunks in {time.perf_counter() - began:.1f} s")
    corpus = Corpus(base, analyzer, seed, analysed_limit)
    sample = None
    if embedder is not None:
        sample = embed_sample(corpus, embedder, embed_sample_size)
        progress(
            f"embedded {len(sample.vectors)} chunks in {sample.seconds:.1f} s: "
            f"{len(sample.vectors) / sample.seconds:.1f} chunks/s, {sample.chars / sample.seconds:,.0f} characters/s"
        )
    results = []
    for n_chunks in sorted(scales):
        results.append(run_scale(n_chunks, corpus, questions, settings, workdir, probe, progress, embedder, sample))
    return results
