"""Inline keyboards under answers and the callback_data they carry (≤64 bytes, Telegram's limit).

    s:<row id>:<doc id>     원문 보기: a passage by its store row, checked against (a prefix of) its document id
    m:<question id>:<page>  더 보기: the next passages of a logged question
    f:<question id>:<+|->   👍 / 👎 on a logged question

Everything a button needs is in the store, so a button pressed after a restart still
works; anything that does not parse (forged, truncated, from an older format) decodes to
None and is answered politely.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from retrieval.answer import Passage

MAX_CALLBACK_BYTES = 64
MAX_SOURCE_BUTTONS = 3
DOC_ID_CHARS = 16  # a prefix of the document id: enough to tell a reused row id apart
MAX_MORE_PAGES = 10
PASSAGES_PER_PAGE = 3


@dataclass(frozen=True)
class SourceButton:
    row_id: int
    doc_id: str  # the document id, or (decoded) its first DOC_ID_CHARS characters


@dataclass(frozen=True)
class MoreButton:
    question_id: int
    page: int


@dataclass(frozen=True)
class FeedbackButton:
    question_id: int
    value: int  # +1 or -1


ButtonData = SourceButton | MoreButton | FeedbackButton

_PATTERNS = (
    (re.compile(r"s:([1-9][0-9]{0,18}):([0-9a-f]{6,16})"), lambda m: SourceButton(int(m[1]), m[2])),
    (re.compile(r"m:([1-9][0-9]{0,18}):([1-9][0-9]?)"), lambda m: MoreButton(int(m[1]), int(m[2]))),
    (re.compile(r"f:([1-9][0-9]{0,18}):([+-])"), lambda m: FeedbackButton(int(m[1]), 1 if m[2] == "+" else -1)),
)


def encode(button: ButtonData) -> str:
    if isinstance(button, SourceButton):
        data = f"s:{button.row_id}:{button.doc_id[:DOC_ID_CHARS]}"
    elif isinstance(button, MoreButton):
        data = f"m:{button.question_id}:{button.page}"
    else:
        data = f"f:{button.question_id}:{'+' if button.value > 0 else '-'}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES or decode(data) is None:
        raise ValueError(f"cannot encode {button!r} as callback_data")
    return data


def decode(data: str | None) -> ButtonData | None:
    """The button behind callback_data, or None for anything malformed."""
    if not isinstance(data, str) or len(data.encode("utf-8", "replace")) > MAX_CALLBACK_BYTES:
        return None
    for pattern, build in _PATTERNS:
        match = pattern.fullmatch(data)
        if match:
            button = build(match)
            if isinstance(button, MoreButton) and button.page > MAX_MORE_PAGES:
                return None
            return button
    return None


def _source_row(passages: Sequence[Passage], first_number: int) -> list[InlineKeyboardButton]:
    shown = list(passages)[:MAX_SOURCE_BUTTONS]
    if len(shown) == 1 and first_number == 1:
        labels = ["📄 원문 보기"]
    else:
        labels = [f"📄 원문 [{first_number + i}]" for i in range(len(shown))]
    return [
        InlineKeyboardButton(label, callback_data=encode(SourceButton(p.row_id, p.doc_id)))
        for label, p in zip(labels, shown, strict=True)
    ]


def answer_keyboard(question_id: int, sources: Sequence[Passage], has_more: bool) -> InlineKeyboardMarkup:
    """원문 보기 for the cited (else shown) passages, 더 보기, 👍 and 👎."""
    rows = []
    source_row = _source_row(sources, 1)
    if source_row:
        rows.append(source_row)
    last = [
        InlineKeyboardButton("👍", callback_data=encode(FeedbackButton(question_id, 1))),
        InlineKeyboardButton("👎", callback_data=encode(FeedbackButton(question_id, -1))),
    ]
    if has_more:
        last.insert(0, InlineKeyboardButton("더 보기 ▸", callback_data=encode(MoreButton(question_id, 1))))
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def more_keyboard(
    question_id: int, passages: Sequence[Passage], first_number: int, next_page: int | None
) -> InlineKeyboardMarkup | None:
    """원문 buttons for further passages, and 더 보기 for the page after."""
    rows = []
    source_row = _source_row(passages, first_number)
    if source_row:
        rows.append(source_row)
    if next_page is not None and next_page <= MAX_MORE_PAGES:
        rows.append([InlineKeyboardButton("더 보기 ▸", callback_data=encode(MoreButton(question_id, next_page)))])
    return InlineKeyboardMarkup(rows) if rows else None
