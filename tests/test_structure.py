"""Documents chunked by their own structure: statutes in each shape, a PDF export, a notice
outline, a table inside text, near-duplicates, and documents that must not hurt the others."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from corpus.blocks import BlockKind, parse_blocks
from corpus.chunker import MAX_CHUNKS_PER_DOCUMENT, ChunkingSettings
from corpus.cleanup import clean_text, furniture_lines
from corpus.document import make_document
from corpus.errors import EmptyDocument, TooManyChunks, XmlEntities
from corpus.loaders import load_bytes, load_path
from retrieval.preparation import prepare_chunks

from tests.conftest import DATA

STRUCTURE = DATA / "structure"
SMALL = ChunkingSettings(target_chars=300, max_chars=450)


def chunks_of(name: str, analyzer, settings: ChunkingSettings = ChunkingSettings()):
    text = load_path(STRUCTURE / name).text
    title = make_document(text, name).title
    return text, [analysed for analysed in prepare_chunks(text, title, analyzer, settings)]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_plain_and_markdown_statutes_give_the_same_section_paths(analyzer):
    _, plain = chunks_of("labor_act.txt", analyzer)
    _, markdown = chunks_of("labor_act.md", analyzer)
    plain_paths = [c.chunk.section for c in plain]
    markdown_paths = [c.chunk.section for c in markdown]
    assert plain_paths[0] == ("제4장 근로시간과 휴식", "제50조(근로시간)")
    assert plain[0].chunk.heading == "제50조(근로시간)"
    assert markdown_paths[: len(plain_paths)] == plain_paths
    assert ("제4장 근로시간과 휴식", "제51조의2(3개월을 초과하는 탄력적 근로시간제)") in {p[:2] for p in plain_paths}


def test_a_chunk_holds_one_article_and_a_short_article_is_one_chunk(analyzer):
    text, chunks = chunks_of("labor_act.txt", analyzer)
    for analysed in chunks:
        chunk = analysed.chunk
        articles = re.findall(r"^제\d+조(?:의\d+)?\(", chunk.text, re.MULTILINE)
        assert len(articles) <= 1
        assert chunk.text == text[chunk.start : chunk.end]  # clean text: the chunk is its own span
    [article_50] = [c.chunk for c in chunks if c.chunk.heading == "제50조(근로시간)"]
    assert article_50.text.startswith("제50조(근로시간) ①") and "③" in article_50.text
    assert not any(c.chunk.text.strip() == "제4장 근로시간과 휴식" for c in chunks)  # empty headings make no chunk


def test_a_long_article_is_split_at_clauses_and_every_part_cites_it(analyzer):
    _, chunks = chunks_of("labor_act.txt", analyzer, SMALL)
    parts = [c.chunk for c in chunks if c.chunk.heading == "제51조의2(3개월을 초과하는 탄력적 근로시간제)"]
    assert len(parts) >= 3
    assert parts[0].text.startswith("제51조의2(")
    for part in parts[1:]:
        assert re.match(r"[②-⑳]", part.text)  # starts at a clause
        assert part.section[:2] == ("제4장 근로시간과 휴식", "제51조의2(3개월을 초과하는 탄력적 근로시간제)")
        assert re.fullmatch(r"[①-⑳](?:–[①-⑳])?", part.section[-1])
        assert len(part.text) <= SMALL.max_chars
    _, markdown = chunks_of("labor_act.md", analyzer, SMALL)
    markdown_parts = [c.chunk.section for c in markdown if c.chunk.heading == parts[0].heading]
    assert markdown_parts == [p.section for p in parts]
    second = next(c for c in chunks if c.chunk is parts[1])
    assert {"탄력", "근로", "시간"} <= set(second.context_tokens)  # the article header, indexed as context
    assert second.context_tokens.count("탄력") == 1  # each heading of the path counted once


def test_pdf_export_loses_page_furniture_and_wrapped_words_are_joined(analyzer):
    original, chunks = chunks_of("minor_offenses_pdf.txt", analyzer)
    lines = original.split("\n")
    dropped = furniture_lines(lines)
    assert {lines[i].strip() for i in dropped} == {"- 1 -", "- 2 -", "- 3 -", "경범죄처벌법"}
    assert 0 not in dropped  # the first line is the title
    texts = [c.chunk.text for c in chunks]
    assert not any("- 1 -" in t or "\n경범죄처벌법\n" in t for t in texts)
    joined = "\n".join(texts)
    assert "정함으로써 국민의 자유와 권리를 보호하고 사회공공의 질서유지에 이바지함을 목적으로 한다." in joined
    assert "끼우거나 글씨 또는 그림을" in joined  # a word cut across a page break
    assert "담배꽁초, 껌, 휴지, 쓰레기, 죽은 짐승, 그 밖의" in joined
    for analysed in chunks:
        chunk = analysed.chunk
        own = chunk.text[sum(e - s + 1 for s, e in chunk.pieces[:-1]) :]
        assert squeeze(own)[:12] == squeeze(original[chunk.start : chunk.end])[:12]
        for form, start in zip(analysed.tokens, analysed.token_starts):
            assert 0 <= start < len(chunk.text)


def test_an_item_keeps_the_lead_in_that_states_the_penalty(analyzer):
    _, chunks = chunks_of("minor_offenses_pdf.txt", analyzer)
    article = [c.chunk for c in chunks if c.chunk.heading == "제3조(경범죄의 종류)"]
    assert len(article) > 2
    [item] = [c for c in article if "(노상방뇨 등)" in c.text]
    assert "10만원 이하의 벌금" in item.text
    assert item.section[:3] == ("제2장 경범죄의 종류와 처벌", "제3조(경범죄의 종류)", "①")
    first, last = item.section[3].split("–")
    assert int(first.rstrip(".")) <= 12 <= int(last.rstrip("."))
    assert all(len(c.text) <= ChunkingSettings().max_chars for c in article)


def test_notice_outline_sections_and_bullets(analyzer):
    _, chunks = chunks_of("notice.txt", analyzer)
    assert [c.chunk.section for c in chunks] == [("추진 배경",), ("지원 내용",), ("신청 방법",)]
    support = chunks[1].chunk.text
    assert "- 상시 근로자 5명 이상" in support and "· 채용 후 6개월" in support


def test_tables_are_blocks_of_their_own_and_never_answer_sentences(analyzer):
    text = load_path(STRUCTURE / "table_in_text.md").text
    kinds = [b.kind for b in parse_blocks(text)]
    assert kinds.count(BlockKind.TABLE) == 2
    _, chunks = chunks_of("table_in_text.md", analyzer)
    tabled = [c for c in chunks if c.chunk.tables]
    assert len(tabled) == 2
    for analysed in tabled:
        for table_start, table_end in analysed.chunk.tables:
            assert "증명서" in analysed.chunk.text[table_start:table_end] or "개   정" in analysed.chunk.text[table_start:table_end]
            assert not any(s < table_end and e > table_start for s, e in analysed.sentences)
        assert analysed.tokens  # tables are still searchable


def test_near_duplicates_chunk_alike(analyzer):
    _, first = chunks_of("bill_a.txt", analyzer)
    _, second = chunks_of("bill_b.txt", analyzer)
    reason = [c.chunk.text for c in first if "전세 사기" in c.chunk.text]
    assert reason and reason == [c.chunk.text for c in second if "전세 사기" in c.chunk.text]
    assert [c.chunk.section for c in first] == [c.chunk.section for c in second]


def test_kiwi_decides_where_a_cut_word_joins(analyzer):
    assert analyzer.joins_without_space([("사항을 정함으", "로써 국민의"), ("이바지함을", "목적으로 한다.")]) == [True, False]
    wrapped = "\n".join(["가나다라마바사아자차카타파하 " * 3] * 10)
    assert clean_text(wrapped).text.count("\n") < 3


def test_heading_only_document_makes_no_chunks_and_is_refused(analyzer):
    text = "\n".join(f"# 제목 {n}" for n in range(50))
    assert prepare_chunks(text, "제목 0", analyzer, ChunkingSettings()) == []
    with pytest.raises(TooManyChunks) as refused:
        prepare_chunks("\n".join(f"## 제목 {n}\n본문 {n}" for n in range(30)), "x", analyzer, ChunkingSettings(max_chunks=20))
    assert "20개" in refused.value.user_message


def test_an_odd_upload_does_not_move_the_others(bundled_engine):
    question = "1차 평가에서 탈락한 팀은?"
    before = bundled_engine.ask(question)
    ranking = [(p.chunk_id, round(p.score, 6)) for p in before.passages]
    heading_lines = "\n".join(f"# 제목 {n}" for n in range(5000))
    with pytest.raises(EmptyDocument):
        bundled_engine.add_document(make_document(heading_lines, "headings.md"), "test")
    many = "\n".join(f"## 절 {n}\n내용 {n}" for n in range(MAX_CHUNKS_PER_DOCUMENT + 1))
    with pytest.raises(TooManyChunks) as refused:
        bundled_engine.add_document(make_document(many, "many.md"), "test")
    assert f"{MAX_CHUNKS_PER_DOCUMENT:,}" in refused.value.user_message
    after = bundled_engine.ask(question)
    assert [(p.chunk_id, round(p.score, 6)) for p in after.passages] == ranking
    assert after.text == before.text


def _docx_with_entities() -> bytes:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", laughs)
    return buffer.getvalue()


def test_docx_declaring_entities_is_refused_for_that_reason():
    with pytest.raises(XmlEntities) as refused:
        load_bytes(_docx_with_entities(), "laughs.docx")
    assert "엔티티" in refused.value.user_message and "laughs.docx" in refused.value.user_message
