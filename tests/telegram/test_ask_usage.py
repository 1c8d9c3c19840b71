"""/ask without a question shows an example the loaded corpus answers, never a fixed one."""

from __future__ import annotations

from bot.telegram.help_text import ExampleQuestions
from bot.telegram.questions import NEUTRAL_EXAMPLE, ask_usage
from retrieval.engine import Engine

LIBRARY = """# 하늘마을 도서관 안내

하늘마을 도서관의 휴관일은 다음과 같습니다.
- 매주 월요일
- 설날과 추석 당일
"""


def test_the_example_comes_from_the_loaded_corpus(empty_engine: Engine) -> None:
    empty_engine.add_bytes(LIBRARY.encode(), "library.md", "test")
    usage = ask_usage(ExampleQuestions(empty_engine).get())
    assert "/ask 하늘마을 도서관의 휴관일은?" in usage
    assert "1차" not in usage


def test_an_empty_corpus_gets_a_neutral_example(empty_engine: Engine) -> None:
    assert ExampleQuestions(empty_engine).get() == []
    assert ask_usage([]) == f"질문을 함께 보내 주세요. 예: <code>/ask {NEUTRAL_EXAMPLE}</code>"
