"""The test half of the natural-question set is well-formed: every evidence and answer is in its document.

tests/data/natural_qa_test.jsonl is reported on and never tuned on, so a broken line
(an evidence the document does not hold, an answer far from its evidence) would
silently count as a miss. Texts are compared with all whitespace removed, as
`qabot eval` does, so a PDF export's line breaks do not matter.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
QUESTIONS = DATA / "natural_qa_test.jsonl"
DOCUMENTS = DATA / "natural"

CATEGORIES = {
    "paraphrase", "abbreviation", "number", "yes/no", "list-item", "typo", "english",
    "absent-entity", "absent-focus", "out-of-scope",
}
UNANSWERABLE = {"absent-entity", "absent-focus", "out-of-scope"}
MIN_PER_CATEGORY = 6
MIN_UNANSWERABLE_SHARE = 0.20
MIN_PER_DOCUMENT = 6
EVIDENCE_CHARS = range(15, 61)
ANSWER_WINDOW = 300


def squash(text: str) -> str:
    """Remove all whitespace, as the evaluation does on both sides."""
    return re.sub(r"\s+", "", text)


def load_questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


QUESTIONS_LIST = load_questions()
ANSWERABLE = [q for q in QUESTIONS_LIST if q["answerable"]]


def test_every_line_has_the_format_fields() -> None:
    ids = [q["id"] for q in QUESTIONS_LIST]
    assert len(ids) == len(set(ids))
    for question in QUESTIONS_LIST:
        assert question["split"] == "test", question["id"]
        assert question["category"] in CATEGORIES, question["id"]
        assert question["question"].strip(), question["id"]
        assert question["answerable"] == (question["category"] not in UNANSWERABLE), question["id"]


def test_unanswerable_questions_carry_no_answer_and_name_an_existing_document_or_none() -> None:
    for question in QUESTIONS_LIST:
        if question["answerable"]:
            continue
        assert question["answers"] == [] and "evidence" not in question, question["id"]
        if question["category"] == "out-of-scope":
            assert question["document"] == "", question["id"]
        else:
            assert (DOCUMENTS / question["document"]).is_file(), question["id"]


@pytest.mark.parametrize("question", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_evidence_and_answers_occur_in_the_document(question: dict) -> None:
    document = squash((DOCUMENTS / question["document"]).read_text(encoding="utf-8"))
    assert len(question["evidence"]) in EVIDENCE_CHARS
    evidence = squash(question["evidence"])
    position = document.find(evidence)
    assert position >= 0, "evidence not in the document"
    window = document[max(0, position - ANSWER_WINDOW): position + len(evidence) + ANSWER_WINDOW]
    assert question["answers"]
    for answer in question["answers"]:
        assert squash(answer) in window, f"answer {answer!r} is not near the evidence"


def test_categories_and_unanswerable_share_are_large_enough_to_report() -> None:
    counts = Counter(q["category"] for q in QUESTIONS_LIST)
    assert {c: n for c, n in counts.items() if n < MIN_PER_CATEGORY} == {}
    assert set(counts) == CATEGORIES
    unanswerable = sum(not q["answerable"] for q in QUESTIONS_LIST)
    assert unanswerable / len(QUESTIONS_LIST) >= MIN_UNANSWERABLE_SHARE


def test_questions_spread_over_every_test_document() -> None:
    counts = Counter(q["document"] for q in QUESTIONS_LIST if q["document"])
    for document in counts:
        assert (DOCUMENTS / document).is_file(), document
    assert min(counts.values()) >= MIN_PER_DOCUMENT


def test_test_documents_are_not_dev_documents() -> None:
    """Splitting by document: no document of the test half is asked about in any dev question."""
    test_documents = {q["document"] for q in QUESTIONS_LIST if q["document"]}
    dev_documents = {
        json.loads(line).get("document")
        for path in DATA.glob("natural_qa*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line).get("split") == "dev"
    }
    assert test_documents.isdisjoint(dev_documents)
