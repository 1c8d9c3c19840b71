"""Morpheme analysis: content tags, normalised forms, and the user dictionary."""

from __future__ import annotations

from retrieval import analyzer as analyzer_module
from retrieval.analyzer import create_analyzer

VARIED_TEXTS = [
    "",
    "   \n\t ",
    "마침표 없는 문장 그리고 이어지는 말",
    "- 첫 항목\n- 둘째 항목\n\n셋째 줄",
    "LG AI연구원은 GPT-4와 Llama 3.1을 비교했다. 2024년 3월, 12.5% 늘었다!",
    "Hello world. This is English only? 123",
    "로웬버그는 <종이는 혈관 속 콜레스트롤과 같다. 나쁜 종이는 동맥을 막는다.>라고 말한다. 고맙습니다.",
]


def test_content_morphemes_only_with_normalised_forms(analyzer):
    forms = analyzer.analyse("LG AI연구원은 날씨가 추워졌다고 말했다.").forms
    assert "lg" in forms and "ai" in forms and "연구원" in forms
    assert "춥" in forms and "날씨" in forms
    assert "은" not in forms and "다" not in forms and "." not in forms


def test_sentences_are_split_with_offsets(analyzer):
    text = "첫 문장입니다. 둘째 문장입니다!"
    analysis = analyzer.analyse(text)
    assert [text[s:e] for s, e in analysis.sentences] == ["첫 문장입니다.", "둘째 문장입니다!"]


def test_sentences_are_kiwis_own_split(analyzer):
    """The spans derived from Kiwi's morphemes are exactly what Kiwi.split_into_sents returns."""
    kiwi = analyzer._kiwi
    analyses = analyzer.analyse_many(VARIED_TEXTS)
    for text, analysis in zip(VARIED_TEXTS, analyses, strict=True):
        assert list(analysis.sentences) == [(s.start, s.end) for s in kiwi.split_into_sents(text)], text


def test_user_dictionary_keeps_a_name_whole(tmp_path):
    dictionary = tmp_path / "user_dictionary.txt"
    dictionary.write_text("소버린\tNNP\t0\n", encoding="utf-8")
    plain = create_analyzer().analyse("소버린 AI의 목표").forms
    custom = create_analyzer(dictionary).analyse("소버린 AI의 목표").forms
    assert "소버린" not in plain
    assert "소버린" in custom


def test_a_multi_word_title_stays_searchable_word_by_word(analyzer):
    """Kiwi's multi-word dictionary would make the whole title one proper noun; it is not loaded."""
    forms = analyzer.analyse("해리 포터와 마법사의 돌을 읽었다.").forms
    assert "해리" in forms and "포터" in forms and "마법사" in forms
    assert not any(" " in form or "_" in form for form in forms)


def test_full_width_letters_and_digits_are_read_as_ascii_at_their_own_offsets(analyzer):
    text = "ＬＧ　ＡＩ연구원은 ２０２５년에 발표했다."
    for analysis in (analyzer.analyse(text), analyzer.analyse_many([text])[0]):
        found = {token.form: text[token.start : token.end] for token in analysis.tokens}
        assert found["lg"] == "ＬＧ" and found["ai"] == "ＡＩ" and found["2025"] == "２０２５"
        assert [text[s:e] for s, e in analysis.sentences] == [text]


def test_one_text_is_analysed_as_in_a_batch(analyzer):
    assert [analyzer.analyse(text) for text in VARIED_TEXTS] == analyzer.analyse_many(VARIED_TEXTS)


def test_texts_over_several_batches_keep_their_order(analyzer, monkeypatch):
    monkeypatch.setattr(analyzer_module, "BATCH_CHARS", 30)
    batches = list(analyzer_module.batches(VARIED_TEXTS))
    assert len(batches) > 2
    assert [text for batch in batches for text in batch] == VARIED_TEXTS
    assert all(sum(map(len, batch)) >= 30 for batch in batches[:-1])
    assert analyzer.analyse_many(VARIED_TEXTS) == [analyzer.analyse(text) for text in VARIED_TEXTS]
