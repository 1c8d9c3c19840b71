"""Private chats through the real bot: questions, citations, help, refusals, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.telegram.conftest import ask


pytestmark = pytest.mark.slow  # the real bot end to end against the local Bot API server

SEED = [
    json.loads(line)
    for line in (Path(__file__).parents[1] / "data" / "seed_qa.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def test_the_example_question_is_answered_with_citations(server, bot, ids):
    user = ids()
    reply = ask(server, user, user, "1차 평가에서 탈락한 팀은 어디야?")
    assert reply.parse_mode == "HTML"
    assert "네이버클라우드" in reply.plain_text and "NC AI" in reply.plain_text
    assert "[1]" in reply.plain_text and "근거" in reply.plain_text
    assert "대한민국 독자 AI 파운데이션 모델" in reply.plain_text  # the document title, not a file name
    assert any(e["type"] == "blockquote" or e["type"] == "expandable_blockquote" for e in reply.entities)
    assert any(e["type"] == "bold" for e in reply.entities)
    assert [b["text"] for b in reply.buttons][-2:] == ["👍", "👎"]
    assert reply.button(contains="원문")


@pytest.mark.parametrize("case", [c for c in SEED if c.get("answerable", True)], ids=lambda c: c["id"])
def test_seed_questions_answered_with_citations(server, bot, ids, case):
    user = ids()
    reply = ask(server, user, user, case["question"])
    assert "찾지 못했습니다" not in reply.plain_text
    assert "[1]" in reply.plain_text
    for expected in case["answers"]:
        assert expected in reply.plain_text


@pytest.mark.parametrize("case", [c for c in SEED if not c.get("answerable", True)], ids=lambda c: c["id"])
def test_unanswerable_seed_questions_are_refused(server, bot, ids, case):
    user = ids()
    reply = ask(server, user, user, case["question"])
    assert "찾지 못했습니다" in reply.plain_text and "/docs" in reply.plain_text
    assert "근거" not in reply.plain_text


def test_refusal_names_the_missing_words(server, bot, ids):
    user = ids()
    reply = ask(server, user, user, "오늘 서울 날씨 알려줘")
    assert "문서에 없는 단어" in reply.plain_text
    assert "서울" in reply.plain_text and "날씨" in reply.plain_text


def test_typing_action_is_sent_before_the_answer(server, bot, ids):
    user = ids()
    sent = server.send_text(user, user, "2단계로 진출한 팀은?")
    server.wait_for_message(user, since=sent)
    methods = [c.method for c in server.calls(since=sent) if c.params.get("chat_id") in (user, str(user))]
    assert "sendChatAction" in methods
    assert methods.index("sendChatAction") < methods.index("sendMessage")
    action = next(c for c in server.calls("sendChatAction", since=sent) if str(c.params.get("chat_id")) == str(user))
    assert action.params["action"] == "typing"


def test_start_and_help_describe_the_corpus_with_examples_from_it(server, bot, ids):
    user = ids()
    for command in ("/start", "/help"):
        reply = ask(server, user, user, command)
        text = reply.plain_text
        assert "문서 1개" in text
        assert "대한민국 독자 AI 파운데이션 모델 1차 평가 결과" in text
        assert "이런 걸 물어보세요" in text
        assert "@qabot_test_bot" in text
        assert "관리자 명령" not in text
    examples = [
        line.strip("• ").strip()
        for line in text.split("이런 걸 물어보세요")[1].split("\n\n")[0].splitlines()
        if line.startswith("•")
    ]
    assert examples
    for example in examples:  # every example is taken from the corpus and answerable
        assert "찾지 못했습니다" not in ask(server, user, user, example).plain_text


def test_commands_are_registered_for_the_menu(server, bot):
    names = [c["command"] for c in server.commands()]
    assert {"ask", "help", "docs", "start"} <= set(names)


def test_docs_lists_titles_and_ids(server, bot, ids):
    user = ids()
    reply = ask(server, user, user, "/docs")
    assert "대한민국 독자 AI 파운데이션 모델" in reply.plain_text and "ID" in reply.plain_text


def test_ask_command_in_private(server, bot, ids):
    user = ids()
    assert "LG AI연구원" in ask(server, user, user, "/ask 종합 점수 1위를 기록한 곳은?").plain_text
    assert "/ask" in ask(server, user, user, "/ask").plain_text


def test_html_in_questions_is_harmless(server, bot, ids):
    user = ids()
    reply = ask(server, user, user, "<b>1차 평가</b>에서 탈락한 <script>팀</script>은? & <i>")
    assert "네이버클라우드" in reply.plain_text
    reply = ask(server, user, user, "<<>> & </blockquote> <a href='x'>")
    assert reply.plain_text  # refused or asked again, but valid HTML (no API error)


def test_overlong_question_gets_the_engines_message_and_the_bot_keeps_answering(server, bot, ids):
    user = ids()
    # Users cannot send more than 4,096 characters; the engine's limit is 1,000.
    reply = ask(server, user, user, "가" * 4096)
    assert "질문이 너무 깁니다" in reply.plain_text
    assert "네이버클라우드" in ask(server, user, user, "1차 평가에서 탈락한 팀은?").plain_text


def test_non_text_messages_and_unknown_commands(server, bot, ids):
    user = ids()
    reply = ask(server, user, user, "/nonsense")
    assert "/help" in reply.plain_text


def test_rate_limit_is_polite_and_per_user(server, bot, ids):
    user, other = ids(), ids()
    limit = 20  # the default QABOT_RATE_LIMIT_PER_MINUTE
    first = server.mark()
    for i in range(limit):
        server.send_text(user, user, f"소버린 AI 사업의 목표는 무엇인가요? {i}")
    server.wait_for_messages(user, count=limit, since=first)
    reply = ask(server, user, user, "1차 평가 결과는 언제 발표되었나요?")
    assert "너무 잦습니다" in reply.plain_text and "초 뒤" in reply.plain_text
    assert "2026년 1월 15일" in ask(server, other, other, "1차 평가 결과는 언제 발표되었나요?").plain_text
