"""The admins' synonym table: file format, morpheme matching, and what it changes in answers."""

from __future__ import annotations

from corpus.document import make_document
from retrieval.synonyms import SynonymTable, ensure_synonyms_file

ARTICLE = (
    "# 대회 결과\n\n## 본선\n올해 대회에서 본선에 진출한 학교는 다음과 같습니다.\n- 한빛고\n- 새솔고\n\n"
    "## 예선\n예선에서 탈락한 학교는 다음과 같습니다.\n- 가람고\n- 누리고\n"
)


def test_file_format_and_conjugated_matches(tmp_path, analyzer):
    path = tmp_path / "synonyms.txt"
    path.write_text("# 주석\n떨어지다 => 탈락\n본선, 결선\n혼자\n", encoding="utf-8")
    table = SynonymTable.load(path, analyzer)
    assert len(table) == 3  # 떨어지 → 탈락, 본선 ↔ 결선; the single word is skipped
    text = "예선에서 떨어진 학교는?"
    expanded = table.expand(text, analyzer.content_tokens(text), known=lambda form: form != "떨어지")
    assert expanded is not None and "탈락" in expanded and "떨어" not in expanded


def test_words_the_corpus_holds_are_left_alone(tmp_path, analyzer):
    path = tmp_path / "synonyms.txt"
    path.write_text("떨어지다 => 탈락\n", encoding="utf-8")
    table = SynonymTable.load(path, analyzer)
    text = "예선에서 떨어진 학교는?"
    assert table.expand(text, analyzer.content_tokens(text), known=lambda form: True) is None


def test_a_paraphrased_question_is_answered_through_the_table(tmp_path, empty_engine, analyzer):
    empty_engine.add_document(make_document(ARTICLE, "contest.md"), "test")
    assert not empty_engine.ask("떨어진 학교는 어디야?").answered
    path = tmp_path / "synonyms.txt"
    path.write_text("떨어지다 => 탈락\n", encoding="utf-8")
    empty_engine.synonyms = SynonymTable.load(path, analyzer)
    answer = empty_engine.ask("떨어진 학교는 어디야?")
    assert answer.answered and "가람고" in answer.text and "한빛고" not in answer.text


def test_the_default_table_is_put_in_the_data_dir_once(tmp_path):
    path = tmp_path / "data" / "synonyms.txt"
    ensure_synonyms_file(path)
    assert "=>" in path.read_text(encoding="utf-8")
    path.write_text("", encoding="utf-8")
    ensure_synonyms_file(path)
    assert path.read_text(encoding="utf-8") == ""
