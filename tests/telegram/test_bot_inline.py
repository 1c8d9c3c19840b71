"""Inline mode: `@bot 질문` in any chat."""

from __future__ import annotations

import pytest

from tests.botapi import parse_html


pytestmark = pytest.mark.slow  # the real bot end to end against the local Bot API server

def test_inline_query_offers_the_answer_and_passages_with_citations(server, bot, ids):
    query_id = server.inline_query(ids(), "1차 평가에서 탈락한 팀은?")
    answer = server.wait_for_query_answer(query_id)
    results = answer["results"]
    assert 1 < len(results) <= 50
    assert len({r["id"] for r in results}) == len(results)
    first = results[0]
    assert first["type"] == "article"
    text, _ = parse_html(first["input_message_content"]["message_text"])
    assert "네이버클라우드" in text and "[1]" in text and "대한민국 독자 AI" in text
    for result in results[1:]:
        text, _ = parse_html(result["input_message_content"]["message_text"])
        assert result["title"].startswith("[") and "대한민국 독자 AI" in text


def test_empty_inline_query_offers_help_only(server, bot, ids):
    answer = server.wait_for_query_answer(server.inline_query(ids(), ""))
    assert answer["results"] == []
    button = answer.get("button")
    if isinstance(button, str):
        import json

        button = json.loads(button)
    assert button["start_parameter"] == "help"


def test_inline_refusal_and_markup(server, bot, ids):
    answer = server.wait_for_query_answer(server.inline_query(ids(), "<b>비트코인</b> 시세는 얼마야? & <"))
    text, _ = parse_html(answer["results"][0]["input_message_content"]["message_text"])
    assert "찾지 못했습니다" in text
