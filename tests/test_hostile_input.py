"""Hostile input: odd questions, markup in questions and documents, path-like file names,
zip bombs and huge PDFs, forged buttons.

Whatever a user sends, the engine answers or refuses with a Korean message, and nothing in
the store changes unless a document was accepted. That rendered replies are valid Telegram
HTML within 4,096 characters, whatever the text, is a hypothesis property; the
bot-level checks (forged callback data, inline queries of 0 and 256 characters, markup and
4,096-character messages, path-like upload names, bombs sent by an admin) use the shared
reliability bot.
"""

from __future__ import annotations

import io
import re
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.telegram import help_text, render
from corpus.errors import BinaryContent, DocumentRejected, InvalidQuestion, TooLarge
from corpus.loaders import LoadLimits, load_bytes, safe_filename
from corpus.store import DocumentInfo, Store, StoredChunk
from retrieval.analyzer import Analyzer
from retrieval.answer import Answer, Passage
from retrieval.engine import MAX_QUESTION_CHARS, Engine
from tests.botapi import BotMessage, EntityParseError, parse_html, strip_text, utf16_len
from tests.reliability_bot import ADMIN_ID, SharedBot, fresh_id, shared_bot
from tests.reliability_helpers import assert_index_matches_store, assert_store_consistent

HANGUL = re.compile("[가-힣]")
SEED_QUESTION = "1차 평가에서 탈락한 팀은 어디인가요?"
SEED_ANSWERS = ("네이버클라우드", "NC AI")
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
             "\u2060", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff", "\u00ad"]
CONTROL = [chr(c) for c in range(32)] + ["\x7f", "\x85", "\u2028", "\u2029"]
MARKUP = ["<b>", "</b>", "<script>", "</script>", "<a href='javascript:x'>", "&amp;", "&", "<", ">", "**",
          "__", "`", "```", "[x](http://e.com)", "||", "~~", "\\", "<br/>", "<!--", "-->", "<tg-spoiler>"]

INJECTION_DOC = """# 보안 점검 안내문

점검 암호는 <b>붉은 여우</b> & "따옴표" 'ㄱ' 입니다. 자세한 내용은 <a href="javascript:alert(1)">여기</a>를 누르세요.

<script>alert('xss')</script> **굵게** __밑줄__ `코드` ```펜스``` [링크](javascript:alert(1)) ||스포일러||

관리 책임자는 &lt;홍길동&gt; &amp; 김철수이며, 비상 연락 부호는 <tg-spoiler>푸른 매</tg-spoiler>입니다.
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, analyzer: Analyzer) -> Iterator[Engine]:
    data_dir = tmp_path_factory.mktemp("hostile")
    engine = Engine(Store(data_dir / "qabot.sqlite3"), analyzer, index_path=data_dir / "index" / "bm25.index")
    engine.seed_if_new()
    engine.add_bytes(INJECTION_DOC.encode(), "injection.txt", added_by="test")
    yield engine
    engine.close()


def _state(engine: Engine) -> tuple[int, dict[str, int]]:
    return engine.store.generation, engine.store.stats()


def _check_answer(engine: Engine, question: str) -> None:
    """Answered or refused cleanly; an answer cites only stored documents."""
    try:
        answer = engine.ask(question)
    except InvalidQuestion as error:
        assert HANGUL.search(error.user_message), error.user_message
        return
    assert isinstance(answer.answered, bool)
    if answer.answered:
        assert answer.text and answer.text.strip()
    documents = {info.id for info in engine.store.documents()}
    assert {p.doc_id for p in answer.passages} <= documents
    assert len(answer.passages) <= 5
    for missing in answer.missing_terms:
        assert missing.strip() and "<" not in missing and ">" not in missing


hostile_text = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.one_of(
            st.sampled_from(INVISIBLE + CONTROL + MARKUP),
            st.sampled_from(["탈락한", "팀은", "1차", "평가", "어디", "NC", "AI", "네이버", "?", " ", "لا", "עברית"]),
            st.characters(),
        ),
        max_size=60,
    ).map("".join),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=hostile_text)
@example(question="1차 평가\ud800에서 탈락한 팀은?")
def test_any_question_is_answered_or_refused_and_changes_nothing(engine: Engine, question: str) -> None:
    before = _state(engine)
    _check_answer(engine, question)
    assert _state(engine) == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    insertions=st.lists(
        st.tuples(st.integers(0, len(SEED_QUESTION)), st.sampled_from(INVISIBLE)), min_size=1, max_size=8
    )
)
def test_invisible_characters_do_not_change_the_answer(engine: Engine, insertions: list[tuple[int, str]]) -> None:
    question = SEED_QUESTION
    for position, char in sorted(insertions, reverse=True):
        question = question[:position] + char + question[position:]
    answer = engine.ask(question)
    assert answer.answered, repr(question)
    assert all(expected in answer.text for expected in SEED_ANSWERS), repr(question)


@pytest.mark.parametrize("question", [
    "1차\x00 평가에서\x07 탈락한\t팀은\r\n어디인가요?",
    "\u202e1차 평가에서 탈락한 팀은 어디인가요?\u202c",
    "<b>1차</b> 평가에서 <i>탈락한</i> 팀은 어디인가요?",
    "**1차** 평가에서 `탈락한` 팀은 어디인가요?",
    "1차 평가에서 탈락한 팀은 어디인가요?" + " " * 500,
])
def test_control_marks_and_markup_around_a_real_question(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.answered and all(expected in answer.text for expected in SEED_ANSWERS)


@pytest.mark.parametrize("length", [MAX_QUESTION_CHARS + 1, 5_000, 100_000])
def test_overlong_question_is_refused_in_korean_and_changes_nothing(engine: Engine, length: int) -> None:
    before = _state(engine)
    question = ("탈락한 팀은 " * length)[:length]
    with pytest.raises(InvalidQuestion) as raised:
        engine.ask(question)
    message = raised.value.user_message
    assert "너무 깁니다" in message and f"{MAX_QUESTION_CHARS:,}" in message
    assert len(message) < 200  # the question is not echoed back
    assert _state(engine) == before


@pytest.mark.parametrize("question", ["", "   ", "\u200b\u200b", "\x00\x01\n\t", "<b></b>", "\u202e\u202c\ufeff"])
def test_empty_question_is_refused_in_korean(engine: Engine, question: str) -> None:
    with pytest.raises(InvalidQuestion) as raised:
        engine.ask(question)
    assert HANGUL.search(raised.value.user_message)


def test_markup_in_a_document_is_kept_as_text(engine: Engine) -> None:
    answer = engine.ask("점검 암호는 무엇인가요?")
    assert answer.answered
    assert "<b>붉은 여우</b>" in answer.text  # stored and cited literally, for the renderer to escape
    answer = engine.ask("관리 책임자는 누구인가요?")
    assert answer.answered and "홍길동" in answer.text


def test_script_in_an_html_document_is_not_indexed(engine: Engine) -> None:
    page = (
        "<html><head><title>공지</title><script>var 비밀주문 = '수리수리마수리';</script></head>"
        "<body><h1>공지</h1><p>정기 점검은 매월 셋째 주 수요일에 합니다.</p>"
        "<style>.x{content:'스타일비밀'}</style></body></html>"
    )
    added = engine.add_bytes(page.encode(), "notice.html", added_by="test")
    try:
        assert "수리수리마수리" not in engine.store.document_text(added.info.id)
        answer = engine.ask("수리수리마수리 주문은?")
        assert not any(p.doc_id == added.info.id for p in answer.passages)
        assert engine.ask("정기 점검은 언제 하나요?").answered
    finally:
        engine.remove_document(added.info.id)


# --- file names --------------------------------------------------------------------------

PATH_NAMES = [
    "../../x.txt",
    "..\\..\\x.txt",
    "/etc/x.txt",
    "C:\\Windows\\x.txt",
    "C:x.txt",
    "./.././x.txt",
    "x.txt/..",
    "\u202etxt.x.txt",
    "a/\x00/x.txt",
]


@pytest.mark.parametrize("name", PATH_NAMES)
def test_path_like_file_names_are_stored_by_base_name(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)  # "../../x.txt" from here would be tmp_path / "x.txt"
    root = Path(engine.store.path).parent

    def data_files() -> list[Path]:
        return sorted(p for p in root.rglob("*") if not p.name.endswith(("-wal", "-shm", ".tmp")))

    before = data_files()
    text = f"경로 시험 문서 {name!r}\n\n이 문서는 파일 이름 검사를 위한 것입니다."
    try:
        added = engine.add_bytes(text.encode(), name, added_by="test")
    except DocumentRejected as error:  # e.g. a name whose extension is no longer .txt
        assert HANGUL.search(error.user_message)
        return
    try:
        source = added.info.source
        assert source == safe_filename(name)
        assert "/" not in source and "\\" not in source and source not in (".", "..")
        assert [info.source for info in engine.store.documents() if info.id == added.info.id] == [source]
        assert not [p for p in tmp_path.rglob("*") if p.is_file()]
        assert not Path("/x.txt").exists() and not Path("/etc/x.txt").exists()
        assert data_files() == before  # only the store and index files, no file named after the upload
    finally:
        engine.remove_document(added.info.id)


def test_cli_style_relative_paths_are_stored_by_base_name(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    target = tmp_path / "x.txt"
    target.write_text("상대 경로 시험 문서\n\n상대 경로로 추가한 문서입니다.", encoding="utf-8")
    added = engine.add_file(tmp_path / "a" / "b" / ".." / ".." / "x.txt", added_by="cli")
    try:
        assert added.info.source == "x.txt"
    finally:
        engine.remove_document(added.info.id)


@settings(max_examples=200, deadline=None)
@given(name=st.one_of(st.text(max_size=300), st.lists(st.sampled_from(["..", "/", "\\", ".", "x", "C:", "\x00", "\u202e", " ", ".txt"])).map("".join)))
def test_safe_filename_is_always_a_plain_base_name(name: str) -> None:
    safe = safe_filename(name)
    assert safe and safe not in (".", "..")
    assert "/" not in safe and "\\" not in safe
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in safe)
    assert not any(c in INVISIBLE[:-1] for c in safe)
    assert len(safe.encode("utf-8")) <= 255


# --- zip bombs and huge PDFs -------------------------------------------------------------


def _docx_with(members: dict[str, bytes], compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compress) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _forged_size(docx: bytes, member: str, size: int) -> bytes:
    """Rewrite the central directory so `member` claims `size` bytes unpacked."""
    data = bytearray(docx)
    offset = 0
    encoded = member.encode()
    while True:
        start = data.find(b"PK\x01\x02", offset)
        assert start >= 0
        name_length = int.from_bytes(data[start + 28 : start + 30], "little")
        if data[start + 46 : start + 46 + name_length] == encoded:
            data[start + 24 : start + 28] = size.to_bytes(4, "little")
            return bytes(data)
        offset = start + 4


def _bombs() -> dict[str, bytes]:
    ratio = _docx_with({"word/document.xml": b"\x00" * (5 * 1024 * 1024)})  # 5 MB of zeros, a few KB packed
    declared = _forged_size(_docx_with({"word/document.xml": b"<w:document/>"}), "word/document.xml", 4_000_000_000)
    many = _docx_with({"word/document.xml": b"<w:document/>", **{f"x/{i}": b"" for i in range(10_001)}},
                      zipfile.ZIP_STORED)
    return {"ratio": ratio, "declared size": declared, "many entries": many}


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return _bombs()


@pytest.mark.parametrize("kind", ["ratio", "declared size", "many entries"])
def test_zip_bombs_are_refused_before_unpacking(
    engine: Engine, bombs: dict[str, bytes], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import docx

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("python-docx must not see a zip bomb")

    monkeypatch.setattr(docx, "Document", never)
    monkeypatch.setattr(zipfile.ZipFile, "read", never)
    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    before = _state(engine)
    with pytest.raises(TooLarge) as raised:
        engine.add_bytes(bombs[kind], "report.docx", added_by="test")
    assert HANGUL.search(raised.value.user_message)
    assert _state(engine) == before


def _pdf_with_pages(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=72, height=72)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_pdf_over_the_size_limit_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    import pypdf

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("pypdf must not parse an oversized file")

    monkeypatch.setattr(pypdf, "PdfReader", never)
    data = b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024)
    with pytest.raises(TooLarge) as raised:
        load_bytes(data, "huge.pdf", LoadLimits(max_bytes=1024 * 1024))
    assert "최대" in raised.value.user_message


def test_pdf_over_the_page_limit_is_refused_before_extracting_text(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pypdf import PageObject

    data = _pdf_with_pages(engine.limits.max_pdf_pages + 1)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("no page text may be extracted from an oversized PDF")

    monkeypatch.setattr(PageObject, "extract_text", never)
    before = _state(engine)
    with pytest.raises(TooLarge) as raised:
        engine.add_bytes(data, "pages.pdf", added_by="test")
    assert "쪽" in raised.value.user_message
    assert _state(engine) == before


def test_file_over_the_size_limit_is_refused_by_stat(engine: Engine, tmp_path: Path) -> None:
    big = tmp_path / "sparse.txt"
    with open(big, "wb") as handle:
        handle.truncate(engine.limits.max_bytes + 1)  # sparse: nothing to read
    before = _state(engine)
    with pytest.raises(TooLarge):
        engine.add_file(big, added_by="test")
    assert _state(engine) == before


def test_store_and_index_stay_consistent(engine: Engine) -> None:
    assert_store_consistent(Path(engine.store.path))
    assert_index_matches_store(engine)


def test_binary_garbage_with_a_text_name_is_refused(engine: Engine) -> None:
    before = _state(engine)
    with pytest.raises((BinaryContent, DocumentRejected)):
        engine.add_bytes(bytes(range(256)) * 64, "notes.txt", added_by="test")
    assert _state(engine) == before


# --- rendering: always valid Telegram HTML within 4,096 characters ----------------------

HOSTILE_PIECES = MARKUP + INVISIBLE + ["\n", "\n\n", " ", "- ", "• ", "#", "😀", "👨‍👩‍👧", "가나다", "NC AI", "&#x41;",
                                       "&lt;", "</blockquote>", "<blockquote expandable>", "\u0000", "\t"]
hostile_piece_text = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=20)), max_size=120).map("".join),
)


@st.composite
def passages(draw: st.DrawFn, rank: int) -> Passage:
    text = draw(st.one_of(hostile_piece_text, st.just("가나다 " * 2000)))
    spans = draw(st.lists(st.tuples(st.integers(0, max(len(text), 1)), st.integers(0, 30)), max_size=12))
    highlights = tuple(sorted((s, min(len(text), s + n)) for s, n in spans))
    return Passage(
        rank=rank, row_id=rank, doc_id="abcdef1234", chunk_id=f"abcdef1234:{rank}",
        title=draw(hostile_piece_text), heading=draw(hostile_piece_text), text=text, start=0, end=len(text),
        score=draw(st.floats(0, 100)), highlights=highlights, cited=draw(st.booleans()),
    )


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    shown = draw(st.lists(st.integers(1, 10), max_size=6, unique=True))
    found = tuple(draw(passages(rank)) for rank in sorted(shown))
    from_passages = [line for p in found for line in p.text.split("\n") if line.strip()]
    text = draw(st.one_of(st.none(), hostile_piece_text, st.just("\n".join(from_passages))))
    answered = draw(st.booleans()) and bool(text and text.strip())
    return Answer(
        question=draw(hostile_piece_text), answered=answered, text=text if answered else None, passages=found,
        missing_terms=tuple(draw(st.lists(hostile_piece_text.filter(str.strip), max_size=10))),
    )


def assert_valid_telegram_html(markup: str) -> str:
    """Parses as Telegram would (strictly), is non-empty and at most 4,096 UTF-16 units; the visible text."""
    try:
        visible, _ = strip_text(*parse_html(markup))
    except EntityParseError as error:
        raise AssertionError(f"invalid Telegram HTML ({error}): {markup[:500]!r}") from error
    assert visible, "empty message"
    assert utf16_len(visible) <= 4096, utf16_len(visible)
    return visible


@settings(max_examples=60, deadline=None)
@given(answer=answers(), with_question=st.booleans())
def test_rendered_answers_are_valid_html_within_the_limit(answer: Answer, with_question: bool) -> None:
    rendered = render.render_answer(answer, with_question=with_question)
    assert_valid_telegram_html(rendered.html)
    assert 0 <= rendered.cited_count <= len(rendered.shown)
    assert_valid_telegram_html(render.render_more(answer.passages, 4))
    for passage in answer.passages[:2]:
        assert_valid_telegram_html(render.render_passage(passage, passage.rank))


def _chunk(text: str, title: str, heading: str) -> StoredChunk:
    return StoredChunk(1, "abcdef1234", "abcdef1234:0", title, heading, text, 0, len(text), [], None, None, [])


@settings(max_examples=60, deadline=None)
@given(text=hostile_piece_text, title=hostile_piece_text, heading=hostile_piece_text, around=st.booleans())
def test_source_view_is_valid_html_within_the_limit(text: str, title: str, heading: str, around: bool) -> None:
    chunk = _chunk(text or "x", title, heading)
    neighbour = _chunk(text * 10 or "y", title, heading) if around else None
    assert_valid_telegram_html(render.render_source(chunk, neighbour, neighbour))


@settings(max_examples=40, deadline=None)
@given(titles=st.lists(hostile_piece_text, min_size=1, max_size=80))
def test_document_list_is_valid_html_within_the_limit(titles: list[str]) -> None:
    documents = [
        DocumentInfo(f"{i:010x}", title or "제목", "x.txt", i, "2026-01-01T00:00:00+00:00", "telegram:1")
        for i, title in enumerate(titles)
    ]
    assert_valid_telegram_html(help_text.docs_message(documents))
    examples = [title for title in titles if title.strip()][:5]
    assert_valid_telegram_html(help_text.help_message(documents, 1234, examples, "qabot_bot", True))


# --- through the bot: forged buttons, inline queries, markup and long messages -------------

@pytest.fixture(scope="module")
def bot(request: pytest.FixtureRequest) -> SharedBot:
    return shared_bot(request)


@pytest.fixture(scope="module")
def injected_doc(bot: SharedBot) -> Iterator[str]:
    """INJECTION_DOC uploaded by the admin; removed afterwards."""
    server = bot.server
    reply = server.wait_for_message(
        ADMIN_ID, since=server.send_document(ADMIN_ID, ADMIN_ID, INJECTION_DOC.encode(), "<b>injection</b>.md"),
        timeout=60,
    )
    assert "추가했습니다" in reply.plain_text or "이미 같은 내용" in reply.plain_text, reply.plain_text
    doc_id = reply.plain_text.split("ID", 1)[1].split()[-1].strip(": ()") if "추가했습니다" in reply.plain_text else None
    yield doc_id
    if doc_id:
        server.wait_for_message(ADMIN_ID, since=server.send_command(ADMIN_ID, ADMIN_ID, f"/remove {doc_id}"))


def _ask(bot: SharedBot, user: int, text: str) -> BotMessage:
    return bot.server.wait_for_message(user, since=bot.server.send_text(user, user, text), timeout=60)


@pytest.mark.parametrize("question", [
    "<b>점검 암호</b>는 <script>alert(1)</script> 무엇인가요?",
    "점검 암호는 &amp; &lt;b&gt; &#x41; &nbsp; 무엇인가요",
    "**점검 암호**는 `무엇`인가요? [x](javascript:alert(1)) ||?||",
    "\u202e점검\u200b 암호는\u0007 무엇인가요?\u202c",
    ("점검 암호 " * 800)[:4096],  # the longest message Telegram lets a user send: refused as too long
])
@pytest.mark.slow
def test_markup_and_long_questions_get_valid_replies(bot: SharedBot, injected_doc: str | None, question: str) -> None:
    errors = len(bot.server.errors)
    reply = _ask(bot, fresh_id(), question)
    assert reply.parse_mode in (None, "HTML")
    assert HANGUL.search(reply.plain_text)
    assert "<script>" not in reply.text or "&lt;script&gt;" in reply.text
    assert bot.server.errors[errors:] == []  # the strict server accepted the HTML


@pytest.mark.slow
def test_markup_from_a_document_is_shown_as_text(bot: SharedBot, injected_doc: str | None) -> None:
    user = fresh_id()
    reply = _ask(bot, user, "점검 암호는 무엇인가요?")
    assert "<b>붉은 여우</b>" in reply.plain_text, reply.plain_text  # visible as typed, not bold
    for data in reply.callback_data:
        if data.startswith("s:"):
            since = bot.server.mark()
            bot.server.wait_for_query_answer(bot.server.press_button(reply, data, user))
            source = bot.server.wait_for_message(user, since=since)
            assert "붉은 여우" in source.plain_text
            break
    answer = bot.server.wait_for_query_answer(bot.server.inline_query(user, "점검 암호는 무엇인가요?"))
    assert answer["results"]
    assert bot.server.errors == []


@pytest.mark.slow
@pytest.mark.parametrize("query", ["", " ", "가" * 256, ("<b>&" * 64), ("탈락한 팀 " * 40)[:256], "\u200b" * 256])
def test_inline_queries_of_any_length_are_answered(bot: SharedBot, query: str) -> None:
    errors = len(bot.server.errors)
    answer = bot.server.wait_for_query_answer(bot.server.inline_query(fresh_id(), query), timeout=60)
    assert isinstance(answer.get("results"), list)
    if not query.strip():
        assert answer["results"] == []
    assert bot.server.errors[errors:] == []


def _question_ids(bot: SharedBot) -> list[int]:
    with closing(sqlite3.connect(bot.run.data_dir / "qabot.sqlite3")) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM questions ORDER BY id")]


def _feedback(bot: SharedBot) -> list[tuple]:
    with closing(sqlite3.connect(bot.run.data_dir / "qabot.sqlite3")) as connection:
        return connection.execute("SELECT question_id, user_id, value FROM feedback ORDER BY 1, 2").fetchall()


FORGED = [
    "", "x", "s:", "s:0:abc", "s:999999999:abcdef", "s:1:zzzzzz", "m:999999999:1", "m:1:99", "m:-1:1",
    "f:999999999:+", "f:1:*", "f:1:+" + " " * 59, "ä" * 32, "\u202es:1:abcdef", "s:1:abcdef\n", "m:1:1:1",
]


def test_forged_callback_data_is_answered_politely(bot: SharedBot) -> None:
    server = bot.server
    user = fresh_id()
    reply = _ask(bot, user, "1차 평가에서 탈락한 팀은 어디인가요?")
    feedback = _feedback(bot)
    for data in FORGED:
        since = server.mark()
        answer = server.wait_for_query_answer(server.press_button(reply, data, user, check=False))
        assert HANGUL.search(answer.get("text") or ""), (data, answer)
        assert server.sent_messages(user, since=since) == []
    assert _feedback(bot) == feedback
    assert server.errors == []


@pytest.mark.slow
def test_buttons_with_another_users_question_ids(bot: SharedBot) -> None:
    """Someone else's question id in forged data: their vote is untouched, their question never shown."""
    server = bot.server
    victim, forger = fresh_id(), fresh_id()
    secret_question = "관리 책임자는 누구인가요 비밀질문표식"
    victim_reply = _ask(bot, victim, secret_question)
    victim_id = _question_ids(bot)[-1]
    vote = next((d for d in victim_reply.callback_data if d.startswith("f:") and d.endswith("+")), f"f:{victim_id}:+")
    server.wait_for_query_answer(server.press_button(victim_reply, vote, victim, check=False))
    before = [row for row in _feedback(bot) if row[0] == victim_id]
    forger_reply = _ask(bot, forger, "2단계로 진출한 팀은?")
    since = server.mark()
    for data in (f"f:{victim_id}:-", f"m:{victim_id}:1", f"m:{victim_id}:2"):
        server.wait_for_query_answer(server.press_button(forger_reply, data, forger, check=False))
    server.wait_until_delivered()
    assert [row for row in _feedback(bot) if row[0] == victim_id and row[1] == str(victim)] == [
        row for row in before if row[1] == str(victim)
    ]
    for message in server.sent_messages(since=since):
        assert "비밀질문표식" not in (message.text or "")
    assert server.errors == []


@pytest.mark.slow
def test_buttons_not_on_the_pressed_message_are_refused(bot: SharedBot) -> None:
    server = bot.server
    victim, forger = fresh_id(), fresh_id()
    _ask(bot, victim, "1차 평가 결과는 언제 발표되었나요?")
    victim_id = _question_ids(bot)[-1]
    forger_reply = _ask(bot, forger, "종합 점수 1위를 기록한 곳은?")
    since = server.mark()
    answer = server.wait_for_query_answer(server.press_button(forger_reply, f"m:{victim_id}:1", forger, check=False))
    server.wait_until_delivered()
    time.sleep(0.3)
    assert server.sent_messages(forger, since=since) == [], "passages for another user's question were sent"
    assert HANGUL.search(answer.get("text") or "")


def test_uploads_with_path_names_and_bombs_through_the_bot(bot: SharedBot, bombs: dict[str, bytes]) -> None:
    """An admin's file named like a path is stored by its base name; bombs and huge PDFs are refused."""
    server = bot.server
    named = server.wait_for_message(ADMIN_ID, since=server.send_document(
        ADMIN_ID, ADMIN_ID, "# 경로 이름 시험\n\n이 파일은 경로처럼 보이는 이름으로 올라왔습니다.\n".encode(), "../../../etc/evil.md"
    ), timeout=60)
    assert "추가했습니다" in named.plain_text, named.plain_text
    doc_id = next(line.split("ID:")[1].strip() for line in named.plain_text.splitlines() if line.startswith("ID:"))
    with closing(sqlite3.connect(bot.run.data_dir / "qabot.sqlite3")) as connection:
        assert connection.execute("SELECT source FROM documents WHERE id = ?", (doc_id,)).fetchone()[0] == "evil.md"
    assert not Path("/etc/evil.md").exists()
    assert not list(bot.run.data_dir.parent.rglob("evil.md")), "the upload was written as a file"
    server.wait_for_message(ADMIN_ID, since=server.send_command(ADMIN_ID, ADMIN_ID, f"/remove {doc_id}"))
    for name, data in (("bomb.docx", bombs["ratio"]), ("forged.docx", bombs["declared size"]),
                       ("pages.pdf", _pdf_with_pages(501))):
        refused = server.wait_for_message(ADMIN_ID, since=server.send_document(ADMIN_ID, ADMIN_ID, data, name), timeout=60)
        assert "추가하지 못했습니다" in refused.plain_text and "너무 큽니다" in refused.plain_text, refused.plain_text
    assert server.errors == []
