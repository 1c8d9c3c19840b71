"""Synonyms and aliases that admins keep in the data dir, applied to questions.

A question may use a word the documents never do ("떨어진 학생" for "불합격한 학생",
"복지부" for "보건복지부"). The table is data, one group per line, in `synonyms.txt`:

    복지부, 보건복지부         # equivalent: each stands for the others
    떨어지다 => 불합격, 낙방   # one way: the left also means the right

Entries are matched on Kiwi morphemes, so any conjugation matches ("떨어진", "떨어졌다").
Only words the corpus never holds are replaced, by the alternatives it does hold, so
a question the documents already speak to is left as it is, and a question in other
words is judged by the words the documents use.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from retrieval.analyzer import Analyzer, Token

log = logging.getLogger(__name__)

Phrase = tuple[str, ...]
DEFAULT_SYNONYMS = Path(str(resources.files("retrieval") / "default_synonyms.txt"))


def ensure_synonyms_file(path: Path) -> Path:
    """Put the default table at `path` when there is none, for admins to edit."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEFAULT_SYNONYMS, path)
    return path


@dataclass(frozen=True)
class SynonymTable:
    alternatives: dict[Phrase, tuple[tuple[Phrase, str], ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.alternatives)

    @classmethod
    def load(cls, path: Path | None, analyzer: Analyzer) -> SynonymTable:
        """The table in `path`; an absent file is an empty table, a bad line is skipped with a warning."""
        if path is None or not path.is_file():
            return cls()
        groups: list[tuple[list[str], list[str]]] = []
        for number, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            left, arrow, right = line.partition("=>")
            sources = [w.strip() for w in left.split(",") if w.strip()]
            targets = [w.strip() for w in right.split(",") if w.strip()] if arrow else sources
            if not sources or not targets or (not arrow and len(sources) < 2):
                log.warning("%s:%d: not a synonym group, skipped: %s", path, number, raw)
                continue
            groups.append((sources, targets))
        words = sorted({w for sources, targets in groups for w in (*sources, *targets)})
        phrases = {word: tuple(analysis.forms) for word, analysis in zip(words, analyzer.analyse_many(words))}
        table: dict[Phrase, list[tuple[Phrase, str]]] = {}
        for sources, targets in groups:
            for source in sources:
                if not phrases[source]:
                    continue
                for target in targets:
                    if target != source and phrases[target] and phrases[target] != phrases[source]:
                        table.setdefault(phrases[source], []).append((phrases[target], target))
        log.debug("synonyms %s: %d entries", path, len(table))
        return cls({phrase: tuple(alternatives) for phrase, alternatives in table.items()})

    def expand(self, text: str, tokens: Sequence[Token], known: Callable[[str], bool]) -> str | None:
        """The question with each matched unknown word replaced by its known alternatives, or None."""
        forms = [token.form for token in tokens]
        spans: dict[tuple[int, int], str] = {}
        for phrase, alternatives in self.alternatives.items():
            if all(known(form) for form in phrase):
                continue
            at = _find(forms, phrase)
            usable = [word for alt, word in alternatives if all(known(form) for form in alt)]
            if at is None or not usable:
                continue
            span = (tokens[at].start, tokens[at + len(phrase) - 1].end)
            if not any(s < span[1] and span[0] < e for s, e in spans):
                spans[span] = " ".join(dict.fromkeys(usable))
        if not spans:
            return None
        for (start, end), words in sorted(spans.items(), reverse=True):
            text = f"{text[:start]}{words}{text[end:]}"
        return text


def _find(forms: Sequence[str], phrase: Phrase) -> int | None:
    width = len(phrase)
    return next((i for i in range(len(forms) - width + 1) if tuple(forms[i : i + width]) == phrase), None)
