"""An Answer as Telegram HTML: the answer, numbered citations with quotes, related passages.

Layout of an answered question::

    새로 뽑힌 임원은 다음과 같습니다. [1]
    • 회장 김하늘
    • 총무 박바다

    근거
    [1] 문서 제목 › 절 제목
    ┃ …quote with the question's words in bold… (expandable)

    관련 구절 (답에 인용하지 않은 구절)
    [2] 문서 제목 › 절 제목
    ┃ …

Every source under 근거 is one the answer cites; the others are set apart under 관련 구절.
Numbers run 1..n in display order and the keyboard's 원문 buttons use the same numbers.
Everything is built from escaped plain text plus fixed tags, and shrunk (related passages
dropped, quotes shortened, the answer cut at a line) until it fits 4,096 visible characters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.telegram.htmltext import MAX_MESSAGE_CHARS, bold_spans, escape, shorten, utf16_len, visible_len
from corpus.markers import place
from corpus.store import StoredChunk
from retrieval.answer import Answer, Passage

TITLE_CHARS = 80
HEADING_CHARS = 60
MAX_RELATED = 2
RELATED_FROM_TOP = 5  # related passages are taken from the best five only
MAX_MISSING_SHOWN = 8
# (cited quote, related passages, related quote) tried in turn until the message fits
_BUDGETS = ((360, 2, 180), (300, 1, 150), (240, 0, 0), (120, 0, 0), (60, 0, 0))
_BULLET = re.compile(r"^\s*[-*•·]\s+")
_LINE = re.compile(r"[^\n]+")

REFUSAL = "문서에서 답을 찾지 못했습니다."
DOCS_HINT = "어떤 문서가 있는지 /docs 로 확인해 보세요."


@dataclass(frozen=True)
class RenderedAnswer:
    html: str
    shown: tuple[Passage, ...]  # display order: number = index + 1
    cited_count: int  # the first cited_count of `shown` are cited


def citation(title: str, heading: str, section: Sequence[str] = ()) -> str:
    """'title › place' escaped, e.g. "근로기준법 › 제50조(근로시간) ②"; the place is left out when it repeats the title."""
    title = " ".join(title.split())
    heading = place(heading, tuple(section))
    where = escape(shorten(title, TITLE_CHARS))
    if heading and heading != title and heading not in title:
        where += " › " + escape(shorten(heading, HEADING_CHARS))
    return where


def shown_passages(answer: Answer) -> tuple[list[Passage], list[Passage]]:
    """(cited, related candidates) in display order; the same for the same answer, so
    buttons pressed later (even after a restart) can recompute what a reply showed."""
    cited = list(answer.cited_passages) if answer.answered else []
    related = [p for p in answer.passages[:RELATED_FROM_TOP] if not p.cited and (answer.answered or p.highlights)]
    return cited, related[:MAX_RELATED]


def _body_start(passage_text: str, heading: str) -> int:
    """Where the passage's own text starts: after its heading line, when it repeats it."""
    if heading and passage_text.startswith(heading):
        position = len(heading)
        while position < len(passage_text) and passage_text[position].isspace():
            position += 1
        return position if position < len(passage_text) else 0
    return 0


def _densest(highlights: Sequence[tuple[int, int]], start: int, limit: int) -> int:
    starts = [h for h, _ in highlights if h >= start]
    if not starts:
        return start
    return max(starts, key=lambda h: (sum(1 for s in starts if h <= s < h + limit), -h))


def quote(text: str, heading: str, highlights: Sequence[tuple[int, int]], limit: int, anchor: int | None = None) -> str:
    """A window of about `limit` characters of `text` as HTML lines, matches in bold.

    The window starts at the line holding `anchor` (else the densest run of matches),
    skips the heading line, and is cut at spaces, with … where text was left out."""
    body = _body_start(text, heading)
    anchor = _densest(highlights, body, limit) if anchor is None else max(anchor, body)
    start = text.rfind("\n", body, anchor) + 1 if anchor > body else body
    start = max(start, body)
    if anchor - start > limit // 3:
        space = text.rfind(" ", start, anchor)
        start = space + 1 if space > start else anchor
    end = min(len(text), start + limit)
    if end < len(text):
        space = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
        if space > start + limit // 2:
            end = space
    lines = []
    for match in _LINE.finditer(text, start, end):
        line_start, line_end = match.span()
        line = text[line_start:line_end]
        if not line.strip():
            continue
        spans = [(s - line_start, e - line_start) for s, e in highlights if s < line_end and e > line_start]
        lines.append(bold_spans(line, spans))
    if not lines:
        return escape(shorten(text, limit)) or "…"
    if start > body:
        lines[0] = "…" + lines[0]
    if end < len(text):
        lines[-1] = lines[-1] + "…"
    return "\n".join(lines)


def _passage_block(number: int, passage: Passage, limit: int, anchor: int | None = None) -> str:
    body = quote(passage.text, passage.heading, passage.highlights, limit, anchor)
    same = f"\n<i>같은 내용: {escape(shorten(', '.join(passage.same_as), TITLE_CHARS * 2))}</i>" if passage.same_as else ""
    return f"<b>[{number}]</b> {citation(passage.title, passage.heading, passage.section)}{same}\n<blockquote expandable>{body}</blockquote>"


def _answer_lines(answer: Answer, cited: Sequence[Passage]) -> list[str]:
    """Answer lines as plain text; the first line taken from each cited passage gets its [n]."""
    lines = [line.strip() for line in (answer.text or "").split("\n") if line.strip()]
    owners = [next((n for n, p in enumerate(cited, 1) if line in p.text), None) for line in lines]
    shown = []
    for index, (line, owner) in enumerate(zip(lines, owners, strict=True)):
        display = _BULLET.sub("• ", line)
        if owner is not None and (index == 0 or owners[index - 1] != owner):
            display += f" [{owner}]"
        shown.append(display)
    if cited and shown and not any(owners):
        shown[-1] += " " + " ".join(f"[{n}]" for n in range(1, len(cited) + 1))
    return shown


def _fit_lines(lines: Sequence[str], budget: int) -> str:
    """Lines joined, cut at a line (or inside the last one) to at most `budget` characters."""
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + utf16_len(line) + 1 > budget:
            room = budget - used - 1
            if room > 20:
                kept.append(shorten(line, room))
            elif not kept:
                kept.append(shorten(line, max(budget, 2)))
            break
        kept.append(line)
        used += utf16_len(line) + 1
    return "\n".join(kept)


def _head(answer: Answer, cited: Sequence[Passage], answer_budget: int) -> str:
    if answer.answered:
        lines = _answer_lines(answer, cited) or ["문서에서 찾은 구절입니다."]
        return escape(_fit_lines(lines, answer_budget))
    parts = [f"<b>{REFUSAL}</b>"]
    if answer.missing_terms:
        terms = ", ".join(f"<b>{escape(t)}</b>" for t in answer.missing_terms[:MAX_MISSING_SHOWN])
        parts.append(f"문서에 없는 단어: {terms}")
    else:
        parts.append("질문에 답하는 구절을 찾지 못했습니다. 다른 말로 물어봐 주세요.")
    parts.append(DOCS_HINT)
    return "\n".join(parts)


def _compose(answer: Answer, question_line: str, budget: tuple[int, int, int], answer_budget: int) -> RenderedAnswer:
    quote_chars, related_count, related_chars = budget
    cited, related = shown_passages(answer)
    related = related[:related_count]
    sections = [question_line] if question_line else []
    if answer.corrections:
        sections.append(" ".join(f"<i>‘{escape(was)}’ → ‘{escape(now)}’</i>" for was, now in answer.corrections[:3]))
    sections.append(_head(answer, cited, answer_budget))
    first_lines = [line.strip() for line in (answer.text or "").split("\n") if line.strip()]
    if cited:
        blocks = []
        for number, passage in enumerate(cited, 1):
            anchor = next((passage.text.find(line) for line in first_lines if line in passage.text), None)
            blocks.append(_passage_block(number, passage, quote_chars, anchor))
        sections.append("<b>근거</b>\n" + "\n".join(blocks))
    if related:
        note = "답에 인용하지 않은 구절" if answer.answered else "질문의 단어가 일부 나오는 곳"
        blocks = [_passage_block(len(cited) + n, p, related_chars) for n, p in enumerate(related, 1)]
        sections.append(f"<b>관련 구절</b> <i>({note})</i>\n" + "\n".join(blocks))
    return RenderedAnswer("\n\n".join(sections), tuple(cited + related), len(cited))


def render_answer(answer: Answer, with_question: bool = False) -> RenderedAnswer:
    """The reply to a question, at most 4,096 visible characters."""
    question_line = f"❓ <i>{escape(shorten(answer.question, 200))}</i>" if with_question else ""
    unlimited = MAX_MESSAGE_CHARS * 4
    for budget in _BUDGETS:
        rendered = _compose(answer, question_line, budget, unlimited)
        if visible_len(rendered.html) <= MAX_MESSAGE_CHARS:
            return rendered
    smallest = _BUDGETS[-1]
    without_answer = visible_len(_compose(answer, question_line, smallest, 0).html)
    return _compose(answer, question_line, smallest, MAX_MESSAGE_CHARS - without_answer - 16)


def render_more(passages: Sequence[Passage], first_number: int) -> str:
    """Further passages for 더 보기, numbered on from the reply's."""
    if not passages:
        return "더 보여 드릴 구절이 없습니다."
    for limit in (360, 200, 100):
        blocks = [_passage_block(first_number + i, p, limit) for i, p in enumerate(passages)]
        markup = "<b>더 찾은 구절</b>\n" + "\n".join(blocks)
        if visible_len(markup) <= MAX_MESSAGE_CHARS:
            return markup
    return "<b>더 찾은 구절</b>\n" + _passage_block(first_number, passages[0], 100)


def render_passage(passage: Passage, number: int, limit: int = 600) -> str:
    """One passage with its citation (inline results)."""
    return _passage_block(number, passage, limit)


def render_source(chunk: StoredChunk, before: StoredChunk | None, after: StoredChunk | None) -> str:
    """원문 보기: the whole passage, with the end of the one before and the start of the next."""
    for own, around in ((3000, 300), (2400, 200), (1800, 0)):
        parts = [f"📄 <b>원문</b> · {citation(chunk.title, chunk.heading, chunk.section)}"]
        if before is not None and around:
            tail = before.text[-around:]
            cut = tail.find(" ") + 1 if len(before.text) > around else 0
            parts.append("<i>앞 내용</i>\n<blockquote expandable>…" + escape(tail[cut:].strip()) + "</blockquote>")
        parts.append("<blockquote>" + escape(shorten(chunk.text, own)) + "</blockquote>")
        if after is not None and around:
            parts.append(
                "<i>뒷 내용</i>\n<blockquote expandable>" + escape(shorten(after.text, around)) + "</blockquote>"
            )
        markup = "\n".join(parts)
        if visible_len(markup) <= MAX_MESSAGE_CHARS:
            return markup
    return markup
