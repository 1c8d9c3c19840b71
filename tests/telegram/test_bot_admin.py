"""Admins grow the corpus from Telegram; everyone else is refused and nothing changes."""

from __future__ import annotations

import io

import pytest

from tests.telegram.conftest import ADMIN_ID, ask


pytestmark = pytest.mark.slow  # the real bot end to end against the local Bot API server

CAFETERIA = (
    "# 사내 식당 안내\n\n사내 식당의 점심 메뉴는 매주 화요일에 비빔밥입니다.\n\n식당은 본관 지하 1층에 있습니다.\n"
)


@pytest.fixture(autouse=True)
def remove_added_documents(server, bot):
    """Each test removes the documents it added, so other modules see the bundled corpus."""
    mark = server.mark()
    yield
    added = [m for m in server.sent_messages(since=mark) if "추가했습니다" in m.plain_text]
    for message in added:
        doc_id = message.plain_text.split("ID:")[1].split()[0]
        sent = server.send_command(ADMIN_ID, ADMIN_ID, f"/remove {doc_id}")
        reply = server.wait_for_message(ADMIN_ID, since=sent).plain_text
        assert "삭제했습니다" in reply or "문서가 없습니다" in reply


def upload(server, chat_id, user_id, data: bytes, name: str, caption: str | None = None, **kwargs):
    sent = server.send_document(chat_id, user_id, data, name, caption=caption, **kwargs)
    return server.wait_for_message(chat_id, since=sent, timeout=60)


def documents(server, ids) -> str:
    user = ids()
    return ask(server, user, user, "/docs").plain_text


def blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_admin_upload_is_answerable_at_once_and_duplicates_refused(server, bot, ids):
    reply = upload(server, ADMIN_ID, ADMIN_ID, CAFETERIA.encode(), "cafeteria.md")
    text = reply.plain_text
    assert "추가했습니다" in text and "사내 식당 안내" in text and "구절(청크)" in text
    doc_id = text.split("ID:")[1].split()[0]
    user = ids()
    answer = ask(server, user, user, "사내 식당의 점심 메뉴는?")
    assert "비빔밥" in answer.plain_text and "사내 식당 안내" in answer.plain_text
    assert doc_id in documents(server, ids)
    again = upload(server, ADMIN_ID, ADMIN_ID, CAFETERIA.encode(), "copy.md")
    assert "이미 같은 내용의 문서가 있습니다" in again.plain_text and doc_id in again.plain_text


def test_caption_add_sets_the_title_and_works_in_groups(server, bot, ids):
    group = -ids()
    content = "주차 규정\n\n방문객 주차는 최대 두 시간까지 무료입니다.\n".encode()
    reply = upload(server, group, ADMIN_ID, content, "parking.txt", caption="/add 주차 안내서")
    assert "주차 안내서" in reply.plain_text
    silent_mark = server.mark()
    server.send_document(group, ADMIN_ID, b"# other\n\nno caption here", "other.md")
    from tests.telegram.conftest import assert_silent

    assert_silent(server, group, since=silent_mark)


def test_add_as_a_reply_to_a_text_message(server, bot, ids):
    group = -ids()
    note = server.send_text(group, ADMIN_ID, "보안 교육 일정\n\n정보보안 교육은 매년 3월 둘째 주에 열립니다.")
    sent = server.send_command(group, ADMIN_ID, "/add", reply_to=note)
    reply = server.wait_for_message(group, since=sent, timeout=60)
    assert "추가했습니다" in reply.plain_text and "보안 교육 일정" in reply.plain_text
    user = ids()
    assert "3월 둘째 주" in ask(server, user, user, "정보보안 교육은 언제 열리나요?").plain_text


def test_non_admins_are_refused_and_nothing_changes(server, bot, ids):
    before = documents(server, ids)
    user, group = ids(), -ids()
    reply = upload(server, user, user, "# 비밀 문서\n\n관리자가 아니면 추가할 수 없습니다.".encode(), "secret.md")
    assert "관리자만" in reply.plain_text
    assert "관리자만" in upload(server, group, user, b"# x\n\ny", "x.md", caption="/add").plain_text
    note = server.send_text(group, user, "추가되면 안 되는 글입니다.")
    sent = server.send_command(group, user, "/add", reply_to=note)
    assert "관리자만" in server.wait_for_message(group, since=sent).plain_text
    for command in ("/remove 4d390042ac", "/stats"):
        assert "관리자만" in ask(server, user, user, command).plain_text
    assert documents(server, ids) == before


def test_admin_stats_and_remove(server, bot, ids):
    stats = ask(server, ADMIN_ID, ADMIN_ID, "/stats").plain_text
    assert "문서" in stats and "질문" in stats and "피드백" in stats
    reply = upload(server, ADMIN_ID, ADMIN_ID, "# 임시 문서\n\n임시 문서의 암호는 파란 고래입니다.".encode(), "temp.md")
    doc_id = reply.plain_text.split("ID:")[1].split()[0]
    removed = ask(server, ADMIN_ID, ADMIN_ID, f"/remove {doc_id}")
    assert "삭제했습니다" in removed.plain_text and "임시 문서" in removed.plain_text
    assert doc_id not in documents(server, ids)
    assert "해당 ID의 문서가 없습니다" in ask(server, ADMIN_ID, ADMIN_ID, f"/remove {doc_id}").plain_text
    assert "/remove" in ask(server, ADMIN_ID, ADMIN_ID, "/remove").plain_text


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.txt", b"", "비어 있는"),
        ("blank.txt", b"   \n\n  ", "비어 있는"),
        ("noise.txt", bytes(range(256)) * 40, "텍스트로 읽을 수 없는"),
        ("scan.pdf", None, "텍스트 층이 없습니다"),
        ("program.exe", b"MZ\x90\x00" * 100, "지원하지 않는 파일 형식"),
    ],
)
def test_bad_uploads_get_the_loaders_reason(server, bot, name, data, expected):
    data = blank_pdf() if data is None else data
    reply = upload(server, ADMIN_ID, ADMIN_ID, data, name)
    assert "추가하지 못했습니다" in reply.plain_text and expected in reply.plain_text


def test_cp949_and_html_uploads(server, bot, ids):
    cp949 = "회사 복지 안내\n\n직원의 연차 휴가는 연 25일입니다.\n".encode("cp949")
    assert "추가했습니다" in upload(server, ADMIN_ID, ADMIN_ID, cp949, "welfare.txt").plain_text
    page = (
        "<html><head><title>도서관 이용 안내</title><script>var menu = '스크립트 비밀';</script></head>"
        "<body><nav><a href='/'>홈</a> <a href='/x'>메뉴 항목</a></nav><main><h1>도서관 이용 안내</h1>"
        "<p>도서관은 평일 오전 9시부터 오후 6시까지 엽니다 &amp; 주말에는 닫습니다.</p></main></body></html>"
    ).encode()
    reply = upload(server, ADMIN_ID, ADMIN_ID, page, "library.html")
    assert "도서관 이용 안내" in reply.plain_text
    user = ids()
    assert "25일" in ask(server, user, user, "직원의 연차 휴가는 며칠인가요?").plain_text
    assert "오전 9시" in ask(server, user, user, "도서관은 몇 시에 여나요?").plain_text


def test_size_limit_is_checked_before_downloading(server, bot):
    downloads = len(server.downloads())
    reply = upload(server, ADMIN_ID, ADMIN_ID, b"a" * (20 * 1024 * 1024 + 1), "huge.txt")
    assert "파일이 너무 큽니다" in reply.plain_text and "20.0 MB" in reply.plain_text
    assert len(server.downloads()) == downloads


def test_a_long_upload_does_not_stall_questions(server, bot, ids):
    sentence = "제{i}장의 규정은 회의실 예약 번호 {i}번과 주차 구역 {j}번을 따르며, 담당 부서는 총무팀 {j}과입니다. "
    sections = [f"# 긴 문서 제{i}장\n\n" + "".join(sentence.format(i=i, j=j) for j in range(6)) for i in range(300)]
    sent = server.send_document(ADMIN_ID, ADMIN_ID, "\n\n".join(sections).encode(), "long.md")
    server.wait_for_call("getFile", since=sent)
    user = ids()
    asked = server.send_text(user, user, "1차 평가에서 탈락한 팀은?")
    answer = server.wait_for_message(user, since=asked, timeout=60)
    added = server.wait_for_message(ADMIN_ID, since=sent, timeout=120)
    assert "네이버클라우드" in answer.plain_text
    assert "추가했습니다" in added.plain_text
    assert answer.seq < added.seq, "the question waited for the upload"
