"""Structure rules of the block parser and the chunker, on plain text and Markdown."""

from __future__ import annotations

from corpus.blocks import BlockKind, parse_blocks
from corpus.chunker import ChunkingSettings, chunk_blocks
from retrieval.preparation import prepare_chunks

from tests.conftest import DATA


def no_sentences(block):
    return [(block.start, block.end)]


def test_plain_text_headings_lists_and_paragraphs_are_recognised():
    text = "회사 소개\n우리 회사는 1990년에 세워졌고 지금은 직원이 100명입니다. 본사는 서울에 있습니다.\n주요 제품은 다음과 같습니다.\n- 검색 엔진\n• 번역기\n1. 요약기\n"
    kinds = [(b.kind, b.text) for b in parse_blocks(text)]
    assert kinds == [
        (BlockKind.HEADING, "회사 소개"),
        (BlockKind.PARAGRAPH, "우리 회사는 1990년에 세워졌고 지금은 직원이 100명입니다. 본사는 서울에 있습니다."),
        (BlockKind.PARAGRAPH, "주요 제품은 다음과 같습니다."),
        (BlockKind.LIST_ITEM, "검색 엔진"),
        (BlockKind.LIST_ITEM, "번역기"),
        (BlockKind.LIST_ITEM, "요약기"),
    ]


def test_question_shaped_line_before_a_paragraph_is_a_heading():
    text = "이 사업이란?\n이 사업은 정부가 주관하는 국가 프로젝트로 여러 기업이 참여하고 있으며 올해 처음 시작되었습니다.\n"
    assert parse_blocks(text)[0].kind is BlockKind.HEADING


def test_short_sentence_with_final_punctuation_is_not_a_heading():
    text = "좋은 하루입니다.\n오늘은 날씨가 맑고 바람이 적당히 불어서 산책하기에 아주 좋은 날이라고 합니다.\n"
    assert parse_blocks(text)[0].kind is BlockKind.PARAGRAPH


def test_markdown_headings_keep_offsets_of_their_text():
    text = "# 제목\n\n## 둘째 절\n본문입니다.\n"
    blocks = parse_blocks(text)
    assert [(b.kind, b.level, text[b.start : b.end]) for b in blocks] == [
        (BlockKind.HEADING, 1, "제목"),
        (BlockKind.HEADING, 2, "둘째 절"),
        (BlockKind.PARAGRAPH, 0, "본문입니다."),
    ]


def test_hard_wrapped_lines_are_joined_into_one_paragraph():
    line = "이 문장은 PDF에서 뽑은 글처럼 줄이 중간에서 끊어져 있어서 다음 줄로 이어지는 긴 문장의"
    text = f"{line}\n앞부분에 이어지는 뒷부분입니다.\n"
    blocks = parse_blocks(text)
    assert len(blocks) == 1 and blocks[0].text.endswith("뒷부분입니다.")


def test_heading_stays_with_what_follows_and_list_stays_with_its_introduction():
    text = (
        "# 문서\n\n## 첫 절\n" + "가" * 200 + "입니다.\n\n## 결과\n"
        "탈락하지 않은 후보는 다음과 같습니다.\n- 하나\n- 둘\n- 셋\n"
    )
    chunks = chunk_blocks(text, parse_blocks(text), no_sentences, ChunkingSettings(100, 150), title="문서")
    last = chunks[-1]
    assert last.heading == "결과"
    assert last.text.startswith("결과\n")
    assert last.text.endswith("- 셋")
    assert "다음과 같습니다." in last.text
    assert all(chunk.text == text[chunk.start : chunk.end] for chunk in chunks)
    assert not any(chunk.text.rstrip().endswith("첫 절") for chunk in chunks)


def test_long_paragraph_is_split_on_sentence_boundaries(analyzer):
    sentence = "이 문장은 긴 문단을 이루는 여러 문장 가운데 하나입니다. "
    text = sentence * 40
    chunks = prepare_chunks(text, "긴 글", analyzer, ChunkingSettings(target_chars=300, max_chars=400))
    assert len(chunks) > 3
    for analysed in chunks:
        assert len(analysed.chunk.text) <= 400
        assert analysed.chunk.text.rstrip().endswith("니다.")


def test_bundled_article_as_plain_text_keeps_each_list_with_its_introduction(analyzer):
    text = (DATA / "sovereign_ai_article.txt").read_text(encoding="utf-8")
    chunks = [c.chunk for c in prepare_chunks(text, "기사", analyzer, ChunkingSettings())]
    for chunk in chunks:
        if "다음과 같습니다." in chunk.text:
            tail = chunk.text.split("다음과 같습니다.", 1)[1]
            assert tail.startswith("\n- ")
    headed = [c for c in chunks if c.heading]
    assert headed and all(c.text.startswith(c.heading) or c.ordinal > 0 for c in headed)


def test_prepared_chunks_carry_tokens_with_offsets_inside_the_chunk(analyzer):
    text = "# 안내\n\n서울시는 새 도서관을 열었습니다. 도서관은 매일 문을 엽니다.\n"
    [analysed] = prepare_chunks(text, "안내", analyzer, ChunkingSettings())
    chunk = analysed.chunk
    for form, start in zip(analysed.tokens, analysed.token_starts):
        assert 0 <= start < len(chunk.text)
    assert "도서관" in analysed.tokens
    assert len(analysed.sentences) == 2
    assert "안내" in analysed.context_tokens
