"""Retrieval settings: one frozen value handed down from the front end, compared by `qabot eval --compare`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from corpus.chunker import ChunkingSettings

TOKENIZERS = ("whitespace", "morphemes", "bigrams", "morphemes+bigrams")
BM25_VARIANTS = ("bm25l", "okapi", "lucene")


@dataclass(frozen=True)
class RetrievalSettings:
    tokenizer: str = "morphemes+bigrams"
    bm25: str = "bm25l"
    k1: float = 1.5
    b: float = 0.75
    delta: float = 0.5
    context_weight: int = 1  # how many times the title and heading tokens count
    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)

    def __post_init__(self) -> None:
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(f"tokenizer must be one of {TOKENIZERS}")
        if self.bm25 not in BM25_VARIANTS:
            raise ValueError(f"bm25 must be one of {BM25_VARIANTS}")

    def with_changes(self, **changes: object) -> "RetrievalSettings":
        return replace(self, **changes)

    def index_fingerprint(self) -> str:
        """What an index file must match to be reused: everything that changes its terms or weights."""
        return f"{self.tokenizer}|{self.bm25}|{self.k1}|{self.b}|{self.delta}|{self.context_weight}"


DEFAULT_SETTINGS = RetrievalSettings()
