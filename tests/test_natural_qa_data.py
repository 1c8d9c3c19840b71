"""The natural-question set (tests/data/natural_qa*.jsonl) checked against its documents.

Every answerable line must point at a real passage: its evidence is a verbatim snippet of its
document and its answers sit beside that evidence, the way `qabot eval` compares them (all
whitespace removed, so a PDF export's line breaks do not count). The set's balance (categories
per split, unanswerable share, split by document) is checked too, so per-category numbers mean
something. Pure Python over tests/data: no Kiwi, no store.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
DOCUMENTS = DATA / "natural" / "docs"
README = DATA / "natural" / "README.md"
QUESTION_FILES = sorted(DATA.glob("natural_qa*.jsonl"))

ANSWERABLE_CATEGORIES = frozenset(
    {"paraphrase", "abbreviation", "number", "yes/no", "list-item", "typo", "english"}
)
UNANSWERABLE_CATEGORIES = frozenset({"absent-entity", "absent-focus", "out-of-scope"})
SPLITS = frozenset({"dev", "test"})
FIELDS = frozenset({"id", "question", "answers", "evidence", "category", "split", "document", "answerable"})

MIN_PER_CATEGORY = 6
MIN_UNANSWERABLE_SHARE = 0.20
MIN_ANSWERABLE_PER_DOCUMENT = 3
MAX_EVIDENCE_CHARS = 60
MIN_EVIDENCE_CHARS = 8
ANSWER_WINDOW = 300  # characters (whitespace removed) between an answer and its evidence

# A statute article ("제3조(…)" in plain text, "### 제3조 …" in Markdown) or any Markdown
# heading starts a new section: evidence never spans two, and a list's lead-in is in the same one.
SECTION_START = re.compile(r"^(?:#+\s|제\d+조(?:의\d+)?\()", re.MULTILINE)


def compact(text: str) -> str:
    """The text as the evaluation compares it: every whitespace character removed."""
    return re.sub(r"\s+", "", text)


def load_questions() -> list[dict]:
    rows = []
    for path in QUESTION_FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                row["_where"] = f"{path.name}:{number}"
                rows.append(row)
    return rows


QUESTIONS = load_questions()
ANSWERABLE = [row for row in QUESTIONS if row.get("answerable") is True]


@cache
def sections(document: str) -> tuple[tuple[bool, str], ...]:
    """The document cut where articles and headings start: (starts with one, compacted text)."""
    text = (DOCUMENTS / document).read_text(encoding="utf-8")
    starts = [0, *(match.start() for match in SECTION_START.finditer(text)), len(text)]
    return tuple(
        (SECTION_START.match(text, start) is not None, compact(text[start:end]))
        for start, end in zip(starts, starts[1:])
        if start < end
    )


def holding_section(row: dict) -> tuple[bool, str]:
    """The one section that holds the row's evidence."""
    evidence = compact(row["evidence"])
    holders = [section for section in sections(row["document"]) if evidence in section[1]]
    assert len(holders) == 1, f"{row['_where']}: evidence must lie in exactly one article or section"
    return holders[0]


def occurrences(haystack: str, needle: str) -> list[int]:
    return [match.start() for match in re.finditer(re.escape(needle), haystack)]


def gap(first: tuple[int, int], second: tuple[int, int]) -> int:
    """Characters between two spans; 0 when they touch or overlap."""
    return max(0, max(first[0], second[0]) - min(first[1], second[1]))


def test_the_set_is_there():
    assert DATA / "natural_qa.jsonl" in QUESTION_FILES
    assert len(QUESTIONS) >= 80


def test_every_line_has_the_documented_fields():
    ids = Counter(row.get("id") for row in QUESTIONS)
    assert [key for key, count in ids.items() if count > 1] == []
    for row in QUESTIONS:
        where = row["_where"]
        assert FIELDS - {"evidence"} <= set(row) - {"_where"} <= FIELDS, where
        assert isinstance(row["id"], str) and row["id"], where
        assert isinstance(row["question"], str) and row["question"].strip(), where
        assert row["category"] in ANSWERABLE_CATEGORIES | UNANSWERABLE_CATEGORIES, where
        assert row["split"] in SPLITS, where
        out_of_scope = row["category"] == "out-of-scope" and row["document"] == ""  # about no document at all
        assert out_of_scope or (DOCUMENTS / row["document"]).is_file(), where
        assert row["answerable"] is (row["category"] in ANSWERABLE_CATEGORIES), where
        answers = row["answers"]
        assert isinstance(answers, list) and all(isinstance(a, str) and a.strip() for a in answers), where
        if row["answerable"]:
            assert answers, where
            assert MIN_EVIDENCE_CHARS <= len(row["evidence"].strip()) <= MAX_EVIDENCE_CHARS, where
        else:
            assert answers == [] and "evidence" not in row, where


@pytest.mark.parametrize("row", ANSWERABLE, ids=lambda row: row["id"])
def test_evidence_names_one_place(row):
    """Once in the document, or repeated only inside one article (its ① and ② may share words)."""
    headed, section = holding_section(row)
    evidence = compact(row["evidence"])
    assert headed or len(occurrences(section, evidence)) == 1, f"{row['_where']}: evidence occurs twice"
    assert evidence not in compact(row["question"]), f"{row['_where']}: the question copies the text"


@pytest.mark.parametrize("row", ANSWERABLE, ids=lambda row: row["id"])
def test_answers_sit_beside_their_evidence(row):
    """Within ANSWER_WINDOW of the evidence, or earlier in its article: the lead-in of a list."""
    headed, section = holding_section(row)
    evidence = compact(row["evidence"])
    evidence_spans = [(at, at + len(evidence)) for at in occurrences(section, evidence)]
    for answer in map(compact, row["answers"]):
        spans = [(at, at + len(answer)) for at in occurrences(section, answer)]
        near = any(gap(span, around) <= ANSWER_WINDOW for span in spans for around in evidence_spans)
        lead_in = headed and any(end <= evidence_spans[-1][0] for _, end in spans)
        assert near or lead_in, f"{row['_where']}: {answer!r} is not beside the evidence"


def test_split_is_by_document():
    splits_of = defaultdict(set)
    for row in QUESTIONS:
        splits_of[row["document"]].add(row["split"])
    assert {document: s for document, s in splits_of.items() if len(s) > 1} == {}


def test_every_document_is_asked_about_and_credited():
    answerable_per_document = Counter(row["document"] for row in ANSWERABLE)
    files = sorted(path.name for path in DOCUMENTS.iterdir())
    thin = {
        name: answerable_per_document[name]
        for name in files
        if answerable_per_document[name] < MIN_ANSWERABLE_PER_DOCUMENT
    }
    assert thin == {}
    readme = README.read_text(encoding="utf-8")
    assert [name for name in files if f"`{name}`" not in readme] == []


def test_unanswerable_share():
    unanswerable = sum(1 for row in QUESTIONS if not row["answerable"])
    assert unanswerable / len(QUESTIONS) >= MIN_UNANSWERABLE_SHARE


def test_every_category_is_large_enough_in_each_split():
    counts = Counter((row["split"], row["category"]) for row in QUESTIONS)
    present = {row["split"] for row in QUESTIONS}
    short = {
        (split, category): counts[split, category]
        for split in present
        for category in ANSWERABLE_CATEGORIES | UNANSWERABLE_CATEGORIES
        if counts[split, category] < MIN_PER_CATEGORY
    }
    assert short == {}
