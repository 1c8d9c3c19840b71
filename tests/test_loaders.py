"""Tests for corpus.loaders: bytes + file name -> normalised text."""

from __future__ import annotations

import codecs
import io
import os
import random
import zipfile

import docx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from corpus.errors import (
    BinaryContent,
    DamagedFile,
    DocumentRejected,
    EmptyDocument,
    NoTextLayer,
    TooLarge,
    UnsupportedFormat,
)
from corpus.loaders import (
    SUPPORTED_EXTENSIONS,
    LoadedText,
    LoadLimits,
    decode_text,
    load_bytes,
    load_path,
    normalize_text,
    safe_filename,
)

KOREAN = "한국어 문서입니다\n두 번째 줄은 조금 더 깁니다: 가나다라, 관계, 글자.\n세 번째 줄 123.\n"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[str | None], title: str | None = None) -> bytes:
    """A minimal valid PDF; a page given as None has no content stream."""
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    next_id = 4
    kids: list[int] = []
    for text in pages:
        page_id = next_id
        next_id += 1
        kids.append(page_id)
        page = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        if text is None:
            objects[page_id] = (page + "/Resources << >> >>").encode()
            continue
        content_id = next_id
        next_id += 1
        shows = " ".join(f"({_pdf_escape(line)}) Tj T*" for line in text.split("\n"))
        stream = f"BT /F1 12 Tf 14 TL 72 720 Td {shows} ET".encode("latin-1")
        objects[content_id] = (
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
        )
        objects[page_id] = (
            page + f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
        ).encode()
    kid_refs = " ".join(f"{k} 0 R" for k in kids)
    objects[2] = f"<< /Type /Pages /Kids [{kid_refs}] /Count {len(kids)} >>".encode()
    info_ref = ""
    if title is not None:
        objects[next_id] = f"<< /Title ({_pdf_escape(title)}) >>".encode("latin-1")
        info_ref = f" /Info {next_id} 0 R"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += f"trailer\n<< /Size {size} /Root 1 0 R{info_ref} >>\n".encode()
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def encrypt_pdf(data: bytes, user_password: str, algorithm: str = "RC4-128") -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = "사업 보고서"
    document.add_heading("사업 보고서 표지", level=0)  # Title style
    document.add_heading("1장 개요", level=1)
    document.add_paragraph("이 문서는 시험용 문서입니다.")
    document.add_heading("1.1 세부 사항", level=2)
    document.add_paragraph("첫째 항목", style="List Bullet")
    document.add_paragraph("둘째 항목", style="List Bullet")
    document.add_paragraph("안쪽 항목", style="List Bullet 2")
    document.add_paragraph("번호 항목", style="List Number")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["이름", "나이", "직업"], ["홍길동", "30", "의적"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    merged = table.cell(2, 0).merge(table.cell(2, 2))
    merged.text = "합계 없음"
    document.add_paragraph("끝맺는 말.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# text decoding
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(KOREAN.encode("utf-8"), id="utf-8"),
        pytest.param(KOREAN.encode("utf-8-sig"), id="utf-8-bom"),
        pytest.param(codecs.BOM_UTF16_LE + KOREAN.encode("utf-16-le"), id="utf-16-le-bom"),
        pytest.param(codecs.BOM_UTF16_BE + KOREAN.encode("utf-16-be"), id="utf-16-be-bom"),
        pytest.param(KOREAN.encode("utf-16-le"), id="utf-16-le"),
        pytest.param(KOREAN.encode("utf-16-be"), id="utf-16-be"),
        pytest.param(KOREAN.encode("utf-32"), id="utf-32-bom"),
        pytest.param(KOREAN.encode("cp949"), id="cp949"),
        pytest.param(KOREAN.encode("euc-kr"), id="euc-kr"),
    ],
)
def test_encodings_decode_to_the_same_korean_text(encoded: bytes) -> None:
    loaded = load_bytes(encoded, "문서.txt")
    assert isinstance(loaded, LoadedText)
    assert loaded.text == KOREAN.rstrip("\n")
    assert loaded.format == "txt"
    assert loaded.title_hint is None


def test_cp949_only_characters() -> None:
    # 똠, 햏 and 뷁 exist in CP949 (UHC) but not in EUC-KR.
    text = "한국어 문서입니다\n똠방각하 햏 뷁\n"
    assert load_bytes(text.encode("cp949"), "a.txt").text == text.strip()


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_bomless_utf16_pure_hangul_without_ascii(encoding: str) -> None:
    text = "가나다라마바사아자차카타파하한국어문서입니다관계글자"
    assert decode_text(text.encode(encoding), "a.txt") == text


def test_decode_text_returns_raw_text_and_normalize_cleans_it() -> None:
    raw = decode_text(b"\xef\xbb\xbfa\r\nb  \r\n", "a.txt")
    assert raw == "a\r\nb  \r\n"
    assert normalize_text(raw) == "a\nb"


def test_other_legacy_encodings_fall_back_to_charset_normalizer() -> None:
    text = "Привет мир, как дела? Всё хорошо, спасибо.\n" * 3
    assert load_bytes(text.encode("cp1251"), "a.txt").text == text.strip()
    # Latin-1 is accepted, though the guesser may pick a sibling code page.
    latin = "Café au lait, très bien. Voilà l'été à Paris.\n" * 3
    assert "Paris" in load_bytes(latin.encode("latin-1"), "a.txt").text


def test_normalisation() -> None:
    raw = "제목  \r\n\r\n\r\n\r\n\r\n본문\x00\x07 끝\t\nㄱ\u1100\u1161\n\n\n\n\n마지막   "
    assert normalize_text(raw) == "제목\n\n\n본문 끝\nㄱ가\n\n\n마지막"


def test_normalisation_through_load_bytes() -> None:
    raw = "\n\n  들여쓴 첫 줄\r\n둘째\u00a0줄   \r\n\r\n\r\n\r\n\r\n셋째\u2028넷째\x0c다섯째\u200b\n"
    loaded = load_bytes(raw.encode("utf-8"), "a.txt")
    assert loaded.text == "  들여쓴 첫 줄\n둘째\u00a0줄\n\n\n셋째\n넷째\n다섯째"


def test_nfd_hangul_becomes_nfc() -> None:
    import unicodedata

    text = unicodedata.normalize("NFD", "한글 맞춤법")
    assert load_bytes(text.encode("utf-8"), "a.txt").text == "한글 맞춤법"


# ---------------------------------------------------------------------------
# rejections
# ---------------------------------------------------------------------------


def test_empty_file() -> None:
    with pytest.raises(EmptyDocument):
        load_bytes(b"", "a.txt")


@pytest.mark.parametrize("data", [b"   \n\t\r\n  ", "\u3000\n".encode("utf-8"), codecs.BOM_UTF8])
def test_whitespace_only(data: bytes) -> None:
    with pytest.raises(EmptyDocument):
        load_bytes(data, "a.txt")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(20), id="png"),
        pytest.param(b"PK\x03\x04" + b"hello world" * 5, id="zip"),
        pytest.param(b"%PDF-1.4\nsome text", id="pdf"),
        pytest.param(b"\x7fELF\x02\x01\x01" + bytes(30), id="elf"),
        pytest.param(bytes(100), id="nuls"),
        pytest.param(b"hello\x00world, this is text with a NUL", id="nul-in-ascii"),
        pytest.param(bytes(range(1, 9)) * 20, id="controls"),
        pytest.param(random.Random(1).randbytes(4096), id="random"),
        pytest.param(random.Random(2).randbytes(4095), id="random-odd"),
    ],
)
def test_binary_content(data: bytes) -> None:
    with pytest.raises(BinaryContent):
        load_bytes(data, "a.txt")
    with pytest.raises(BinaryContent):
        decode_text(data, "a.md")


@pytest.mark.parametrize("name", ["a.exe", "a.hwp", "a.doc", "noext", "a.txt.exe", ""])
def test_unsupported_extension(name: str) -> None:
    with pytest.raises(UnsupportedFormat) as info:
        load_bytes(b"hello", name)
    assert ".docx" in info.value.user_message


def test_extension_is_case_insensitive() -> None:
    assert load_bytes(b"# T\n\nhello", "README.MD").format == "md"
    assert load_bytes(b"hello", "A.TxT").format == "txt"
    assert load_bytes(b"<p>hi</p>", "x.HTM").format == "html"


def test_too_large_before_parsing() -> None:
    limits = LoadLimits(max_bytes=10)
    with pytest.raises(TooLarge) as info:
        load_bytes(b"\x89PNG garbage that is never parsed", "a.txt", limits)
    assert "최대" in info.value.user_message
    with pytest.raises(TooLarge):
        load_bytes(b"x" * 11, "a.pdf", limits)


def test_too_many_chars() -> None:
    with pytest.raises(TooLarge):
        load_bytes(b"abc " * 100, "a.txt", LoadLimits(max_chars=50))


def test_errors_carry_korean_messages() -> None:
    with pytest.raises(DocumentRejected) as info:
        load_bytes(b"", "../../비밀/빈파일.txt")
    assert info.value.user_message == "내용이 비어 있는 문서입니다: 빈파일.txt"


# ---------------------------------------------------------------------------
# file names and paths
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../x.txt", "x.txt"),
        ("C:\\a\\b.md", "b.md"),
        ("/etc/passwd", "passwd"),
        ("a/b\\c/회의록.docx", "회의록.docx"),
        ("evil\x00name\n.txt", "evilname.txt"),
        ("abc\u202etxt.exe", "abctxt.exe"),
        ("..", "document"),
        ("", "document"),
        ("dir/", "document"),
        ("C:x.txt", "x.txt"),
        ("report.txt. . ", "report.txt"),
        ("  보고서.pdf  ", "보고서.pdf"),
    ],
)
def test_safe_filename(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe


def test_safe_filename_length_keeps_extension() -> None:
    name = safe_filename("가" * 300 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode("utf-8")) <= 255


@given(st.text(max_size=300))
def test_safe_filename_never_empty_never_a_path(raw: str) -> None:
    name = safe_filename(raw)
    assert name and name not in (".", "..")
    assert "/" not in name and "\\" not in name
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in name)


def test_path_like_names_choose_the_format() -> None:
    loaded = load_bytes("본문".encode(), "../../uploads/노트.md")
    assert loaded.format == "md"
    assert loaded.text == "본문"


def test_load_path(tmp_path: os.PathLike[str]) -> None:
    path = tmp_path / "노트.txt"  # type: ignore[operator]
    path.write_bytes(KOREAN.encode("cp949"))
    assert load_path(path).text == KOREAN.strip()
    assert load_path(str(path)).format == "txt"


def test_load_path_checks_size_with_stat(tmp_path: os.PathLike[str]) -> None:
    path = tmp_path / "big.txt"  # type: ignore[operator]
    path.write_bytes(b"a" * 100)
    with pytest.raises(TooLarge):
        load_path(path, LoadLimits(max_bytes=99))


def test_load_path_rejections(tmp_path: os.PathLike[str]) -> None:
    with pytest.raises(DocumentRejected):
        load_path(tmp_path / "missing.txt")  # type: ignore[operator]
    folder = tmp_path / "folder.txt"  # type: ignore[operator]
    folder.mkdir()
    with pytest.raises(DocumentRejected):
        load_path(folder)
    with pytest.raises(UnsupportedFormat):
        load_path(tmp_path / "x.exe")  # type: ignore[operator]


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------


def test_markdown_front_matter_comments_and_links() -> None:
    source = (
        "---\ntitle: \"회의록\"\ntags: [a, b]\n---\n"
        "# 3월 회의\n\n"
        "<!-- 내부 메모:\n지울 것 -->\n"
        "- [공지 사항](https://example.com/a_(b)) 확인\n"
        "- ![조직도](img/org.png \"그림\") 첨부\n"
        "[![배지](badge.svg)](https://ci.example.com)\n"
        "[참고 문헌][ref] 참조\n\n"
        "[ref]: https://example.com/ref\n\n"
        "```html\n<!-- 코드 안의 주석은 유지 -->\n[링크](그대로)\n```\n"
        "끝.\n"
    )
    loaded = load_bytes(source.encode(), "note.md")
    assert loaded.format == "md"
    assert loaded.title_hint == "회의록"
    assert loaded.text == (
        "# 3월 회의\n\n\n"
        "- 공지 사항 확인\n"
        "- 조직도 첨부\n"
        "배지\n"
        "참고 문헌 참조\n\n\n"
        "```html\n<!-- 코드 안의 주석은 유지 -->\n[링크](그대로)\n```\n"
        "끝."
    )


def test_markdown_leading_rule_is_not_front_matter() -> None:
    source = "---\n본문 첫 줄입니다.\n---\n둘째.\n"
    assert load_bytes(source.encode(), "a.md").text == source.strip()


def test_markdown_title_from_first_heading() -> None:
    loaded = load_bytes("\n# 안내문\n\n내용".encode(), "a.markdown")
    assert loaded.title_hint == "안내문"
    assert loaded.text == "# 안내문\n\n내용"


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><title> 공지사항 &amp; 안내 </title>
<style>body { color: red }</style><script>var menu = "메뉴";</script></head>
<body>
<header><a href="/">홈</a> <a href="/about">소개</a></header>
<nav><ul><li>메뉴1</li><li>메뉴2</li></ul></nav>
<div class="content">
  <h1>본문 제목</h1>
  <p>첫 문단입니다.<br>줄바꿈 &lt;태그&gt;&nbsp;끝.</p>
  <h2>목록</h2>
  <ul><li>사과</li><li>배<ul><li>작은 배</li></ul></li></ul>
  <ol><li><p>첫째</p></li></ol>
  <table><tr><th>이름</th><th>값</th></tr><tr><td>가</td><td>1</td></tr></table>
  <div hidden>숨김</div>
  <pre>코드   그대로
  둘째 줄</pre>
  <form><input value="검색"><button>검색</button></form>
</div>
<aside>광고</aside>
<footer>저작권</footer>
<noscript>자바스크립트를 켜세요</noscript>
</body></html>"""


def test_html_main_text_structure_and_title() -> None:
    loaded = load_bytes(PAGE.encode("utf-8"), "page.html")
    assert loaded.format == "html"
    assert loaded.title_hint == "공지사항 & 안내"
    assert loaded.text == (
        "# 본문 제목\n\n"
        "첫 문단입니다.\n줄바꿈 <태그> 끝.\n\n"
        "## 목록\n\n"
        "- 사과\n- 배\n  - 작은 배\n\n"
        "- 첫째\n\n"
        "이름 | 값\n가 | 1\n\n"
        "코드   그대로\n  둘째 줄"
    )
    for junk in ("메뉴", "홈", "광고", "저작권", "검색", "숨김", "color", "자바스크립트"):
        assert junk not in loaded.text


def test_html_prefers_main_and_article() -> None:
    html = (
        "<html><body><div>사이드 링크</div><main><h1>주제</h1><p>본문</p></main>"
        "<div>기타</div></body></html>"
    )
    assert load_bytes(html.encode(), "a.html").text == "# 주제\n\n본문"
    html = (
        "<body><div>목록</div><article><header><h1>글 제목</h1></header>"
        "<p>글 본문</p></article><div>꼬리</div></body>"
    )
    loaded = load_bytes(html.encode(), "a.htm")
    assert loaded.text == "# 글 제목\n\n글 본문"
    assert loaded.title_hint == "글 제목"


@pytest.mark.parametrize(
    "meta",
    [
        '<meta charset="euc-kr">',
        "<meta http-equiv='Content-Type' content='text/html; charset=EUC-KR'>",
        '<meta http-equiv="content-type" content="text/html;charset=ks_c_5601-1987">',
    ],
)
def test_html_meta_charset_euc_kr(meta: str) -> None:
    html = f"<html><head>{meta}<title>한글 제목</title></head><body><p>{KOREAN}</p></body></html>"
    loaded = load_bytes(html.encode("euc-kr"), "a.html")
    assert loaded.title_hint == "한글 제목"
    assert loaded.text == " ".join(KOREAN.split())


def test_html_valid_utf8_beats_a_stale_meta_charset() -> None:
    html = '<meta charset="euc-kr"><p>다시 저장한 문서</p>'
    assert load_bytes(html.encode("utf-8"), "a.html").text == "다시 저장한 문서"


def test_html_utf16_with_bom() -> None:
    html = "<p>유니코드 문서</p>"
    assert load_bytes(html.encode("utf-16"), "a.html").text == "유니코드 문서"


def test_html_without_text_is_empty() -> None:
    with pytest.raises(EmptyDocument):
        load_bytes(b"<html><script>x()</script><nav>menu</nav></html>", "a.html")


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


def test_pdf_with_text() -> None:
    data = make_pdf(["Hello PDF\nSecond line", "Page two"], title="Annual Report")
    loaded = load_bytes(data, "report.pdf")
    assert loaded.format == "pdf"
    assert loaded.title_hint == "Annual Report"
    assert "Hello PDF" in loaded.text
    assert "Second line" in loaded.text
    assert loaded.text.index("Hello PDF") < loaded.text.index("Page two")
    assert "\n\n" in loaded.text  # pages joined with a blank line


def test_pdf_without_text_layer() -> None:
    with pytest.raises(NoTextLayer):
        load_bytes(make_pdf([None, None]), "scan.pdf")


def test_pdf_over_page_limit() -> None:
    with pytest.raises(TooLarge) as info:
        load_bytes(make_pdf(["one", "two"]), "a.pdf", LoadLimits(max_pdf_pages=1))
    assert "최대 1쪽" in info.value.user_message


def test_pdf_encrypted() -> None:
    locked = encrypt_pdf(make_pdf(["secret"]), user_password="pw")
    with pytest.raises(DocumentRejected) as info:
        load_bytes(locked, "locked.pdf")
    assert "암호" in info.value.user_message
    # An owner password alone does not stop reading.
    open_pdf = encrypt_pdf(make_pdf(["readable"]), user_password="")
    assert "readable" in load_bytes(open_pdf, "open.pdf").text


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_pdf_aes_with_owner_password_only(algorithm: str) -> None:
    # pypdf needs the `cryptography` dependency to decrypt AES.
    open_pdf = encrypt_pdf(make_pdf(["readable"]), user_password="", algorithm=algorithm)
    assert "readable" in load_bytes(open_pdf, "aes.pdf").text


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.4\n1 0 obj garbage", b"not a pdf at all", make_pdf(["x"])[:60]],
)
def test_pdf_corrupt(data: bytes) -> None:
    with pytest.raises(DamagedFile, match="손상"):
        load_bytes(data, "broken.pdf")


# ---------------------------------------------------------------------------
# DOCX
# ---------------------------------------------------------------------------


def test_docx_headings_lists_table_and_title() -> None:
    loaded = load_bytes(make_docx(), "보고서.docx")
    assert loaded.format == "docx"
    assert loaded.title_hint == "사업 보고서"
    assert loaded.text == (
        "# 사업 보고서 표지\n\n"
        "# 1장 개요\n\n"
        "이 문서는 시험용 문서입니다.\n\n"
        "## 1.1 세부 사항\n\n"
        "- 첫째 항목\n- 둘째 항목\n  - 안쪽 항목\n- 번호 항목\n\n"
        "이름 | 나이 | 직업\n홍길동 | 30 | 의적\n합계 없음\n\n"
        "끝맺는 말."
    )


def test_docx_title_from_title_paragraph() -> None:
    document = docx.Document()
    document.add_heading("표지 제목", level=0)
    document.add_paragraph("내용")
    buffer = io.BytesIO()
    document.save(buffer)
    assert load_bytes(buffer.getvalue(), "a.docx").title_hint == "표지 제목"


def test_docx_empty() -> None:
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with pytest.raises(EmptyDocument):
        load_bytes(buffer.getvalue(), "a.docx")


def test_docx_zip_bomb_total_size() -> None:
    bomb = make_zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": bytes(2 * 1024 * 1024),
        }
    )
    with pytest.raises(TooLarge) as info:
        load_bytes(bomb, "bomb.docx", LoadLimits(max_unpacked_bytes=1024 * 1024))
    assert "압축" in info.value.user_message


def test_docx_zip_bomb_ratio() -> None:
    bomb = make_zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<w:document/>",
            "word/media/zeros.bin": bytes(8 * 1024 * 1024),
        }
    )
    assert len(bomb) < 100 * 1024
    with pytest.raises(TooLarge):
        load_bytes(bomb, "bomb.docx")


@pytest.mark.parametrize(
    "data",
    [
        b"this is not a zip file",
        make_docx()[:500],
        make_zip({"hello.txt": b"not a docx"}),
        make_zip({"[Content_Types].xml": b"<bad", "word/document.xml": b"<bad"}),
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),  # old .doc renamed
    ],
)
def test_docx_corrupt(data: bytes) -> None:
    with pytest.raises(DamagedFile, match="손상"):
        load_bytes(data, "broken.docx")


def test_unexpected_parser_errors_become_binary_content(monkeypatch: pytest.MonkeyPatch) -> None:
    import corpus.loaders as loaders

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(loaders, "html_to_text", explode)
    with pytest.raises(BinaryContent) as info:
        load_bytes(b"<p>x</p>", "a.html")
    assert isinstance(info.value.__cause__, RuntimeError)


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------

_PREFIXES = [b"", b"%PDF-1.4\n", b"PK\x03\x04", b"<html><p>", b"---\n", codecs.BOM_UTF16_LE]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(_PREFIXES),
    data=st.binary(max_size=600),
    name=st.sampled_from([f"f{ext}" for ext in SUPPORTED_EXTENSIONS]),
)
def test_arbitrary_bytes_only_raise_document_rejected(prefix: bytes, data: bytes, name: str) -> None:
    try:
        loaded = load_bytes(prefix + data, name)
    except DocumentRejected:
        return
    assert loaded.text.strip()
    assert "\x00" not in loaded.text and "\r" not in loaded.text


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"))
    | st.sampled_from(["\n", "\t", " ", "\r"]),
    min_size=1,
    max_size=200,
)


@settings(max_examples=100, deadline=None)
@given(text=_TEXT, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom", "utf-32"]))
def test_unicode_text_round_trips(text: str, encoding: str) -> None:
    expected = normalize_text(text)
    assume(expected.strip())
    assume(not text.startswith("%PDF-"))
    if encoding == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    loaded = load_bytes(data, "a.txt")
    assert loaded.text == expected
    assert normalize_text(loaded.text) == loaded.text  # idempotent


_HANGUL_WORD = st.text(
    alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
    | st.sampled_from(list("0123456789abcXYZ.,")),
    min_size=1,
    max_size=8,
)


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(_HANGUL_WORD, min_size=2, max_size=30),
    sep=st.sampled_from([" ", "\n", ", "]),
    encoding=st.sampled_from(["utf-16-le", "utf-16-be", "cp949-if-possible"]),
)
def test_korean_text_round_trips_without_bom(words: list[str], sep: str, encoding: str) -> None:
    text = sep.join(words)
    if encoding == "cp949-if-possible":
        try:
            data = text.encode("cp949")
        except UnicodeEncodeError:
            data = text.encode("utf-8")
        else:
            # UTF-8 is tried first, as it should be: a tiny CP949 text can be
            # valid UTF-8 by accident ("혤" is C8 A1, UTF-8 for "ȡ").
            try:
                data.decode("utf-8")
                assume(text.isascii())
            except UnicodeDecodeError:
                pass
    else:
        data = text.encode(encoding)
    assert load_bytes(data, "a.txt").text == normalize_text(text)
