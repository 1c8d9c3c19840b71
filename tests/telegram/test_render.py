"""Answer -> Telegram HTML: valid for Telegram's parser, escaped, within 4,096 characters."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.htmltext import MAX_MESSAGE_CHARS, visible_len
from bot.telegram.render import citation, quote, render_answer, render_more, render_passage, render_source
from corpus.store import StoredChunk
from retrieval.answer import Answer, Passage
from tests.botapi import parse_html, utf16_len

TITLE = "대한민국 독자 AI 파운데이션 모델 1차 평가 결과"
TEXT = (
    "탈락한 팀은 네이버와 NC AI\n\n이번 평가에서 탈락한 팀은 다음과 같습니다.\n"
    "- 네이버클라우드\n- NC AI\n\n국내 대표 IT 기업이 포함되어 있습니다."
)


def passage(
    rank: int,
    text: str = TEXT,
    cited: bool = False,
    title: str = TITLE,
    heading: str = "탈락한 팀은 네이버와 NC AI",
    highlights=None,
) -> Passage:
    if highlights is None:
        highlights = tuple((m.start(), m.end()) for m in re.finditer("탈락", text))
    return Passage(
        rank,
        100 + rank,
        "4d390042ac",
        f"4d390042ac:{rank}",
        title,
        heading,
        text,
        0,
        len(text),
        1.0 / rank,
        tuple(highlights),
        cited,
    )


def answer(text: str | None, passages, answered: bool = True, missing=()) -> Answer:
    return Answer("1차 평가에서 탈락한 팀은 어디야?", answered, text, tuple(passages), tuple(missing))


def check(markup: str) -> str:
    """Parse as Telegram would; return the visible text."""
    plain, _ = parse_html(markup)
    assert utf16_len(plain.strip()) <= MAX_MESSAGE_CHARS
    assert visible_len(markup) == utf16_len(plain.strip())
    return plain


def test_answer_with_numbered_citation_quote_and_bold_matches():
    rendered = render_answer(
        answer(
            "이번 평가에서 탈락한 팀은 다음과 같습니다.\n- 네이버클라우드\n- NC AI",
            [passage(1, cited=True), passage(2)],
        )
    )
    plain = check(rendered.html)
    assert plain.startswith("이번 평가에서 탈락한 팀은 다음과 같습니다. [1]\n• 네이버클라우드\n• NC AI")
    assert "[1] " + TITLE + " › 탈락한 팀은 네이버와 NC AI" in plain
    assert "<blockquote expandable>" in rendered.html
    assert "<b>탈락</b>" in rendered.html
    assert "관련 구절" in plain and plain.index("관련 구절") > plain.index("[1]")
    assert [p.rank for p in rendered.shown] == [1, 2] and rendered.cited_count == 1


def test_uncited_passages_only_under_related():
    rendered = render_answer(
        answer("이번 평가에서 탈락한 팀은 다음과 같습니다.", [passage(1), passage(2, cited=True), passage(3)])
    )
    plain = check(rendered.html)
    head, related = plain.split("관련 구절")
    assert "[1]" in head and "[2]" not in head
    assert "[2]" in related and "[3]" in related
    assert rendered.shown[0].rank == 2


def test_title_not_repeated_when_heading_is_the_title():
    assert citation("소버린 AI", "소버린 AI") == "소버린 AI"
    assert citation("A &amp; <B>", "절") == "A &amp;amp; &lt;B&gt; › 절"


def test_refusal_names_missing_words_and_suggests_docs():
    rendered = render_answer(answer(None, [passage(1, highlights=())], answered=False, missing=["서울", "날씨"]))
    plain = check(rendered.html)
    assert "찾지 못했습니다" in plain and "서울" in plain and "날씨" in plain and "/docs" in plain
    assert "근거" not in plain and "[1]" not in plain  # a passage without matches is not offered


def test_everything_escaped():
    nasty = "<script>alert(1)</script> & <b>굵게</b> &amp; </blockquote>"
    rendered = render_answer(
        answer(nasty, [passage(1, text=nasty + "\n" + nasty, cited=True, title=nasty, heading=nasty)], missing=[nasty]),
        with_question=True,
    )
    plain = check(rendered.html)
    assert "<script>alert(1)</script>" in plain


def test_long_answer_and_passages_fit_and_are_never_cut_inside_a_tag():
    long_text = "\n".join(f"- 항목 {i} 탈락 " + "가나다라 " * 30 for i in range(60))
    passages = [passage(i, text=long_text, cited=i < 3) for i in range(1, 6)]
    rendered = render_answer(answer(long_text, passages))
    plain = check(rendered.html)
    assert utf16_len(plain) <= MAX_MESSAGE_CHARS
    assert plain.startswith("• 항목 0")


def test_emoji_counted_in_utf16():
    text = "😀" * 3000
    rendered = render_answer(answer(text, [passage(1, text=text, cited=True, highlights=())]))
    check(rendered.html)


def test_quote_skips_heading_and_marks_cuts():
    text = "제목 줄\n" + "앞 문장입니다. " * 40 + "여기 탈락 팀이 있습니다. " + "뒤 문장입니다. " * 40
    markup = quote(text, "제목 줄", [(text.index("탈락"), text.index("탈락") + 2)], 120)
    assert "제목 줄" not in markup and "<b>탈락</b>" in markup
    assert markup.startswith("…") and markup.endswith("…")
    parse_html(f"<blockquote expandable>{markup}</blockquote>")


def test_more_passage_and_source_views_are_valid():
    check(render_more([passage(4), passage(5)], 4))
    check(render_more([], 4))
    check(render_passage(passage(1), 1))
    chunk = StoredChunk(1, "d", "d:0", "<T>", "<H>", "<본문> & " * 800, 0, 10, [], None, None, [])
    check(render_source(chunk, chunk, chunk))
    check(render_source(chunk, None, None))


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(min_size=1, max_size=3000),
    title=st.text(min_size=1, max_size=200),
    spans=st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 20)), max_size=30),
)
def test_any_text_renders_to_valid_html(text, title, spans):
    highlights = tuple(sorted((s, s + n) for s, n in spans if s + n <= len(text)))
    first_line = next((line.strip() for line in text.split("\n") if line.strip()), None)
    p = passage(1, text=text, cited=True, title=title, heading=title[:10], highlights=highlights)
    check(render_answer(answer(first_line, [p, passage(2, text=text, title=title, highlights=highlights)])).html)
    check(render_answer(answer(None, [p], answered=False, missing=[title])).html)


@pytest.mark.parametrize("limit", [10, 60, 360])
def test_quote_respects_limit_roughly(limit):
    text = "가" * 5000
    assert visible_len(quote(text, "", [], limit)) <= limit + 2
