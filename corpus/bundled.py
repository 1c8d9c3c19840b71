"""The bundled default corpus, shipped as package data so it is found after any install."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from corpus.loaders import SUPPORTED_EXTENSIONS


def bundled_documents() -> list[Path]:
    """Paths of the files in corpus/documents/, sorted by name."""
    folder = Path(str(resources.files("corpus") / "documents"))
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_EXTENSIONS)
