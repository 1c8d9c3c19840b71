"""Documents, file names and questions follow one set of character rules (corpus.normalize)."""

from __future__ import annotations

import pytest

from corpus.loaders import load_bytes, safe_filename
from corpus.normalize import normalize_characters
from retrieval.engine import Engine, clean_question

INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u200e", "\u202e", "\u2060", "\u2066", "\ufeff"]


@pytest.mark.parametrize("mark", INVISIBLE)
def test_an_invisible_character_is_deleted_alike_in_documents_names_and_questions(mark: str) -> None:
    word = f"한{mark}국어"
    assert load_bytes(f"{word} 문서".encode(), "a.txt").text == "한국어 문서"
    assert clean_question(f"{word}는?") == "한국어는?"
    assert safe_filename(f"{word}.txt") == "한국어.txt"


def test_controls_line_breaks_and_decomposed_hangul() -> None:
    decomposed = "\u1112\u1161\u11ab"  # 한 as jamo
    assert normalize_characters(f"a\r\nb\u2028c\x00d\te{decomposed}\ud800") == "a\nb\ncd\te한"


def test_a_question_finds_a_word_a_document_wrote_with_a_zero_width_non_joiner(empty_engine: Engine) -> None:
    empty_engine.add_bytes("하늘마을 도서관은 매주 월요일에 쉽니다.".replace("도서", "도\u200c서").encode(), "a.txt", "test")
    answer = empty_engine.ask("도서관은 언제 쉬나요?")
    assert answer.answered and "월요일" in answer.text
    answer = empty_engine.ask("도\u200c서관은 언제 쉬나요?")
    assert answer.answered and "월요일" in answer.text
