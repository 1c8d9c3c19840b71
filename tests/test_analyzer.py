"""Morpheme analysis: content tags, normalised forms, and the user dictionary."""

from __future__ import annotations

from retrieval.analyzer import create_analyzer


def test_content_morphemes_only_with_normalised_forms(analyzer):
    forms = analyzer.analyse("LG AI연구원은 날씨가 추워졌다고 말했다.").forms
    assert "lg" in forms and "ai" in forms and "연구원" in forms
    assert "춥" in forms and "날씨" in forms
    assert "은" not in forms and "다" not in forms and "." not in forms


def test_sentences_are_split_with_offsets(analyzer):
    text = "첫 문장입니다. 둘째 문장입니다!"
    analysis = analyzer.analyse(text)
    assert [text[s:e] for s, e in analysis.sentences] == ["첫 문장입니다.", "둘째 문장입니다!"]


def test_user_dictionary_keeps_a_name_whole(tmp_path):
    dictionary = tmp_path / "user_dictionary.txt"
    dictionary.write_text("소버린\tNNP\t0\n", encoding="utf-8")
    plain = create_analyzer().analyse("소버린 AI의 목표").forms
    custom = create_analyzer(dictionary).analyse("소버린 AI의 목표").forms
    assert "소버린" not in plain
    assert "소버린" in custom
