"""Tests of the strict local Bot API server used by the end-to-end tests."""

from __future__ import annotations

import asyncio
import http.server
import json
import ssl
import threading
import time

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest
from telegram.request import HTTPXRequest

from tests.botapi import BotApiServer, EntityParseError, parse_html, utf16_len

TOKEN = "123456:TEST-token"
USERNAME = "qabot_test_bot"

# Loading the CA bundle costs ~0.15 s per HTTP client; everything here is plain http on
# localhost, so all clients share one context.
_SSL = ssl.create_default_context()
_HTTP = httpx.Client(timeout=10, verify=_SSL)


def ptb_request() -> HTTPXRequest:
    return HTTPXRequest(httpx_kwargs={"verify": _SSL})


@pytest.fixture
def server():
    with BotApiServer(token=TOKEN, bot_username=USERNAME) as srv:
        yield srv


def api(server, method, *, json_body=None, data=None, files=None, token=TOKEN):
    """A raw HTTP call; returns (status, decoded JSON)."""
    response = _HTTP.post(
        f"{server.url}/bot{token}/{method}", json=json_body, data=data, files=files
    )
    return response.status_code, response.json()


def make_bot(server):
    return telegram.Bot(
        server.token,
        base_url=server.base_url,
        base_file_url=server.base_file_url,
        request=ptb_request(),
        get_updates_request=ptb_request(),
    )


def run_bot(server, func):
    """Run ``await func(bot)`` with an initialized PTB Bot."""

    async def main():
        async with make_bot(server) as bot:
            return await func(bot)

    return asyncio.run(main())


# --------------------------------------------------------------------------- HTML parser

@pytest.mark.parametrize(
    "markup",
    [
        "<b>x</b>",
        "<blockquote expandable>긴 인용</blockquote>",
        '<a href="http://x">y</a>',
        "&lt;",
        "a &gt; b &amp; c &quot;d&quot; &#39; &#x1F600;",
        "<strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>"
        "<del>d</del>",
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
        '<pre><code class="language-python">print(1 &lt; 2)</code></pre>',
        "<code>x</code> <pre>y</pre>",
        '<b>bold <i>both</i></b> <a href="https://example.com/?a=1&amp;b=2"><b>link</b></a>',
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        "<blockquote><b>인용</b> 안의 굵은 글씨</blockquote>",
        "1 > 0 is fine, like on Telegram",
        "<B>upper-case tags</B>",
    ],
)
def test_html_accepts_valid_markup(markup):
    parse_html(markup)


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("<b>x", "Can't find end tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("a < b", "Unsupported start tag"),
        ("x <", "Unclosed start tag"),
        ("&nbsp;", "Unsupported HTML entity"),
        ("Q&A", "Unsupported HTML entity"),
        ("&lt", "Unsupported HTML entity"),
        ("</b>", "Unexpected end tag"),
        ("<br>", 'Unsupported start tag "br"'),
        ('<a href="http://x"><a href="http://y">z</a></a>', 'Nested "a"'),
        ("<blockquote><blockquote>x</blockquote></blockquote>", 'Nested "blockquote"'),
        ("<code><b>x</b></code>", 'inside "code"'),
        ("<span>x</span>", 'must have class "tg-spoiler"'),
        ('<a href="javascript:alert(1)">x</a>', "Invalid URL"),
        ("<a href=http://x>y</a>", "Unexpected end of name token"),
    ],
)
def test_html_rejects_invalid_markup(markup, message):
    with pytest.raises(EntityParseError, match=message):
        parse_html(markup)


def test_html_entities_use_utf16_offsets_and_byte_offsets_in_errors():
    text, entities = parse_html("😀 <b>굵게</b> <i>🙂</i>")
    assert text == "😀 굵게 🙂"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 2},
        {"type": "italic", "offset": 6, "length": 2},
    ]
    with pytest.raises(EntityParseError, match="byte offset 13"):
        parse_html("🏟 🏟&lt;<abac>")  # TDLib's own test case
    assert utf16_len("😀a") == 3


def test_html_non_strict_mode_is_tdlib_behaviour():
    assert parse_html("Q&A &nbsp;", strict=False) == ("Q&A &nbsp;", [])


# --------------------------------------------------------------------------- raw HTTP

def test_get_me_unknown_token_and_unknown_method(server):
    status, body = api(server, "getMe")
    assert status == 200 and body["ok"] is True
    assert body["result"]["username"] == USERNAME and body["result"]["is_bot"] is True
    assert body["result"]["id"] == 123456

    status, body = api(server, "getMe", token="123456:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})

    status, body = api(server, "sendMagic")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert [e.description for e in server.errors] == ["Unauthorized", "Not Found"]

    # method names are case-insensitive, GET works too
    response = _HTTP.get(f"{server.url}/bot{TOKEN}/getme")
    assert response.json()["ok"] is True


def test_all_body_encodings_are_understood(server):
    server.send_text(100, 100, "안녕")
    markup = {"inline_keyboard": [[{"text": "더 보기", "callback_data": "more:1"}]]}
    # JSON body with nested objects
    status, body = api(server, "sendMessage", json_body={
        "chat_id": 100, "text": "<b>json</b>", "parse_mode": "HTML", "reply_markup": markup})
    assert status == 200, body
    # urlencoded like PTB: scalars as strings, objects as JSON strings
    status, body = api(server, "sendMessage", data={
        "chat_id": "100", "text": "form", "reply_markup": json.dumps(markup),
        "disable_notification": "true"})
    assert status == 200, body
    # multipart with a file
    status, body = api(server, "sendDocument", data={"chat_id": "100", "caption": "파일"},
                       files={"document": ("a.txt", b"hello", "text/plain")})
    assert status == 200, body
    assert body["result"]["document"]["file_name"] == "a.txt"
    assert body["result"]["document"]["mime_type"] == "text/plain"

    sent = server.sent_messages(100)
    assert [m.plain_text for m in sent] == ["json", "form", "파일"]
    assert sent[0].entities == [{"type": "bold", "offset": 0, "length": 4}]
    assert sent[1].callback_data == ["more:1"]
    assert server.file_bytes(sent[2].document["file_id"]) == b"hello"
    call = server.calls("sendMessage")[1]
    assert call.params["chat_id"] == 100 and call.params["disable_notification"] is True
    assert call.params["reply_markup"] == markup
    assert server.calls("sendDocument")[0].files["document"].data == b"hello"
    assert server.errors == []


def test_callback_data_of_65_bytes_is_rejected(server):
    server.send_text(100, 100, "hi")

    def keyboard(data):
        return json.dumps({"inline_keyboard": [[{"text": "b", "callback_data": data}]]})

    assert api(server, "sendMessage", data={
        "chat_id": "100", "text": "ok", "reply_markup": keyboard("가" * 21)})[0] == 200  # 63 bytes
    status, body = api(server, "sendMessage", data={
        "chat_id": "100", "text": "x", "reply_markup": keyboard("x" * 65)})
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    status, body = api(server, "sendMessage", data={
        "chat_id": "100", "text": "x", "reply_markup": keyboard("가" * 22)})  # 66 bytes
    assert body["description"] == "Bad Request: BUTTON_DATA_INVALID"
    status, body = api(server, "sendMessage", data={
        "chat_id": "100", "text": "x",
        "reply_markup": json.dumps({"inline_keyboard": [[{"text": "no action"}]]})})
    assert body["description"] == "Bad Request: text buttons are unallowed in the inline keyboard"
    assert len(server.errors) == 3


def test_file_download_over_http_and_size_limit(server):
    file_id = server.add_file("한국어 문서".encode(), "doc.txt")
    status, body = api(server, "getFile", data={"file_id": file_id})
    assert status == 200
    path = body["result"]["file_path"]
    response = _HTTP.get(f"{server.url}/file/bot{TOKEN}/{path}")
    assert response.status_code == 200 and response.content == "한국어 문서".encode()
    assert server.downloads() == [path]
    assert _HTTP.get(f"{server.url}/file/bot{TOKEN}/nope").status_code == 404

    big = server.add_file(b"\0" * (20 * 1024 * 1024 + 1), "big.pdf")
    status, body = api(server, "getFile", data={"file_id": big})
    assert (status, body["description"]) == (400, "Bad Request: file is too big")
    status, body = api(server, "getFile", data={"file_id": "unknown"})
    assert body["description"] == "Bad Request: invalid file_id"


def test_get_updates_offset_limit_and_allowed_updates(server):
    first = server.send_text(100, 100, "one")
    server.send_text(100, 100, "two")
    server.inline_query(100, "q")
    _, body = api(server, "getUpdates", json_body={"limit": 2})
    updates = body["result"]
    assert [u["message"]["text"] for u in updates] == ["one", "two"]
    assert updates[0]["message"]["message_id"] == first["message_id"]
    # without confirming, the same updates come again
    _, body = api(server, "getUpdates", data={"limit": "1"})
    assert body["result"][0]["update_id"] == updates[0]["update_id"]
    # offset confirms; allowed_updates filters (and is remembered)
    _, body = api(server, "getUpdates", data={
        "offset": str(updates[-1]["update_id"] + 1), "allowed_updates": '["message"]'})
    assert body["result"] == []
    assert server.pending_updates() == []
    assert "inline_query" in server.dropped_updates[0]


# --------------------------------------------------------------------------- PTB Bot

def test_ptb_get_me_and_long_poll_returns_injected_update(server):
    def inject_later():
        time.sleep(0.3)
        server.send_command(-500, 7, f"/ask@{USERNAME} 질문", chat_type="group")

    async def poll(bot):
        me = await bot.get_me()
        threading.Thread(target=inject_later).start()
        started = time.monotonic()
        updates = await bot.get_updates(timeout=5)
        return me, updates, time.monotonic() - started

    me, updates, elapsed = run_bot(server, poll)
    assert me.username == USERNAME and me.id == 123456
    assert 0.2 < elapsed < 3
    message = updates[0].message
    assert message.chat.type == "group" and message.from_user.id == 7
    assert message.text == f"/ask@{USERNAME} 질문"
    assert message.entities[0].type == "bot_command" and message.entities[0].offset == 0
    assert message.entities[0].length == len(f"/ask@{USERNAME}")


def test_long_poll_times_out_empty_and_release_polls(server):
    async def poll(bot):
        started = time.monotonic()
        empty = await bot.get_updates(timeout=1)
        timed = time.monotonic() - started
        threading.Timer(0.2, server.release_polls).start()
        started = time.monotonic()
        released = await bot.get_updates(timeout=30)
        return empty, timed, released, time.monotonic() - started

    empty, timed, released, elapsed = run_bot(server, poll)
    assert empty == () and 0.9 < timed < 2
    assert released == () and elapsed < 2


def test_mentions_replies_and_utf16_entities(server):
    async def flow(bot):
        reply = await bot.send_message(100, "봇의 <b>답</b>", parse_mode="HTML")
        return reply

    server.send_text(100, 100, "시작")
    sent = run_bot(server, flow)
    message = server.send_text(100, 100, f"😀 @{USERNAME} 질문", reply_to=server.sent_messages()[0])
    assert message["reply_to_message"]["message_id"] == sent.message_id
    assert message["reply_to_message"]["from"]["is_bot"] is True
    assert message["entities"] == [{"type": "mention", "offset": 3, "length": len(USERNAME) + 1}]
    assert message["message_id"] == sent.message_id + 1  # ids increase per chat


def test_html_validation_through_ptb(server):
    server.send_text(100, 100, "질문")

    async def flow(bot):
        good = await bot.send_message(
            100, '<blockquote expandable>근거 &lt;1&gt;</blockquote> <a href="http://x">y</a>',
            parse_mode="HTML")
        errors = []
        for bad in ["<div>x</div>", "<b>x", "<b><i>x</b></i>", "1 < 2", "&nbsp;"]:
            with pytest.raises(BadRequest) as info:
                await bot.send_message(100, bad, parse_mode="HTML")
            errors.append(info.value.message)
        return good, errors

    good, errors = run_bot(server, flow)
    assert good.text == "근거 <1> y"
    assert all("parse entities" in e for e in errors), errors
    assert len(server.errors) == 5
    assert server.errors[0].method == "sendMessage"


def test_length_limit_counts_visible_text(server):
    server.send_text(100, 100, "질문")

    async def flow(bot):
        ok = await bot.send_message(100, "<b>" + "가" * 4096 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)too long"):
            await bot.send_message(100, "<b>" + "가" * 4097 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)too long"):
            await bot.send_message(100, "😀" * 2049)  # 4098 UTF-16 code units
        with pytest.raises(BadRequest, match="(?i)text is empty"):
            await bot.send_message(100, "<b> </b>", parse_mode="HTML")
        return ok

    ok = run_bot(server, flow)
    assert len(ok.text) == 4096
    assert server.errors[0].description == "Bad Request: message is too long"


def test_reply_to_unknown_message_and_unknown_chat(server):
    server.send_text(100, 100, "질문")

    async def flow(bot):
        with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
            await bot.send_message(100, "x", reply_to_message_id=999)
        tolerated = await bot.send_message(
            100, "x", reply_to_message_id=999, allow_sending_without_reply=True)
        with pytest.raises(BadRequest, match="(?i)Chat not found|chat not found"):
            await bot.send_message(4242, "x")
        with pytest.raises(BadRequest):
            await bot.send_chat_action(100, "dancing")
        await bot.send_chat_action(100, "typing")
        return tolerated

    tolerated = run_bot(server, flow)
    assert tolerated.reply_to_message is None
    assert [e.description for e in server.errors] == [
        "Bad Request: message to be replied not found",
        "Bad Request: chat not found",
        "Bad Request: wrong parameter action in request",
    ]


def test_edits_buttons_and_callback_queries(server):
    server.send_text(100, 100, "질문")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("더 보기", callback_data="more")]])

    async def send(bot):
        return await bot.send_message(100, "<b>답</b>", parse_mode="HTML", reply_markup=keyboard)

    sent = run_bot(server, send)
    [message] = server.sent_messages(100)
    query_id = server.press_button(message, "more")
    with pytest.raises(ValueError):
        server.press_button(message, "missing")

    async def handle(bot):
        await bot.answer_callback_query(query_id, text="확인")
        with pytest.raises(BadRequest, match="(?i)query is too old"):
            await bot.answer_callback_query(query_id)
        with pytest.raises(BadRequest, match="(?i)not modified"):
            await bot.edit_message_text("<b>답</b>", 100, sent.message_id, parse_mode="HTML",
                                        reply_markup=keyboard)
        edited = await bot.edit_message_text("<i>새 답</i>", 100, sent.message_id,
                                             parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)message to edit not found"):
            await bot.edit_message_text("x", 100, 999)
        await bot.delete_message(100, sent.message_id)
        return edited

    edited = run_bot(server, handle)
    assert edited.text == "새 답" and edited.reply_markup is None
    assert message.plain_text == "새 답" and len(message.edits) == 1 and message.deleted
    assert message.versions[0].text == "<b>답</b>" and message.reply_markup is None
    assert server.query_answer(query_id)["text"] == "확인"
    update = server.updates()[-1]["callback_query"]
    assert update["data"] == "more" and update["message"]["message_id"] == sent.message_id
    assert len(server.errors) == 3


def test_inline_query_answers_are_checked(server):
    query_id = server.inline_query(100, "질문")
    article = {"type": "article", "id": "1", "title": "답",
               "input_message_content": {"message_text": "<b>답</b>", "parse_mode": "HTML"}}
    bad_html = dict(article, input_message_content={"message_text": "<b>x",
                                                    "parse_mode": "HTML"})
    status, body = api(server, "answerInlineQuery", data={
        "inline_query_id": query_id, "results": json.dumps([bad_html])})
    assert status == 400 and "parse entities" in body["description"]
    status, body = api(server, "answerInlineQuery", data={
        "inline_query_id": query_id, "results": json.dumps([article, article])})
    assert body["description"] == "Bad Request: RESULT_ID_DUPLICATE"
    many = [dict(article, id=str(i)) for i in range(51)]
    status, body = api(server, "answerInlineQuery", data={
        "inline_query_id": query_id, "results": json.dumps(many)})
    assert body["description"] == "Bad Request: RESULTS_TOO_MUCH"
    status, body = api(server, "answerInlineQuery", data={
        "inline_query_id": query_id, "results": json.dumps([article])})
    assert status == 200
    assert server.wait_for_query_answer(query_id, 1)["results"] == [article]
    status, body = api(server, "answerInlineQuery", data={
        "inline_query_id": query_id, "results": "[]"})
    assert "query is too old" in body["description"]


def test_set_my_commands_rules(server):
    async def flow(bot):
        await bot.set_my_commands([("ask", "문서에 질문하기"), ("help", "도움말")])
        for bad in [[("Ask", "x")], [("a" * 33, "x")], [("ok", "")], [("ok", "x" * 257)]]:
            with pytest.raises(BadRequest):
                await bot.set_my_commands(bad)
        return await bot.get_my_commands()

    commands = run_bot(server, flow)
    assert [c.command for c in commands] == ["ask", "help"]
    assert server.commands()[0] == {"command": "ask", "description": "문서에 질문하기"}
    assert len(server.errors) == 4


def test_documents_via_ptb_and_channel_posts(server):
    message = server.send_document(100, 100, b"%PDF-1.4", "report.pdf", caption="요약해 줘")
    server.channel_post(-1001, "/add 새 문서")

    async def flow(bot):
        updates = await bot.get_updates()
        document = updates[0].message.document
        file = await bot.get_file(document.file_id)
        data = await file.download_as_bytearray()
        sent = await bot.send_document(100, b"answer", filename="answer.txt",
                                       caption="<b>첨부</b>", parse_mode="HTML",
                                       reply_to_message_id=message["message_id"])
        await bot.send_message(-1001, "채널 답")
        return updates, bytes(data), sent

    updates, data, sent = run_bot(server, flow)
    assert updates[0].message.document.file_name == "report.pdf"
    assert updates[0].message.caption == "요약해 줘" and data == b"%PDF-1.4"
    post = updates[1].channel_post
    assert post.sender_chat.id == -1001 and post.chat.type == "channel"
    assert post.entities[0].type == "bot_command"
    assert sent.document.file_name == "answer.txt" and sent.caption == "첨부"
    assert sent.reply_to_message.message_id == message["message_id"]
    channel_reply = server.sent_messages(-1001)[0]
    assert channel_reply.data["sender_chat"]["id"] == -1001
    assert server.errors == []


def test_waiting_helpers(server):
    message = server.send_text(100, 100, "질문")

    def reply_later():
        time.sleep(0.2)
        api(server, "sendMessage", data={"chat_id": "100", "text": "답"})

    threading.Thread(target=reply_later).start()
    [reply] = server.wait_for_messages(chat_id=100, count=1, timeout=5, since=message)
    assert reply.plain_text == "답" and reply.data["from"]["is_bot"] is True
    assert server.sent_messages(100, since=reply) == []
    with pytest.raises(TimeoutError):
        server.wait_for_messages(chat_id=100, count=1, timeout=0.2, since=reply)

    threading.Timer(0.1, lambda: api(server, "sendMessage", data={
        "chat_id": "100", "text": "<b>", "parse_mode": "HTML"})).start()
    with pytest.raises(AssertionError, match="parse entities"):
        server.wait_for_messages(chat_id=100, count=1, timeout=5, since=reply)


def test_concurrent_get_updates_conflict(server):
    async def flow():
        async with httpx.AsyncClient(timeout=10, verify=_SSL) as client:
            url = f"{server.url}/bot{TOKEN}/getUpdates"
            first = asyncio.create_task(client.post(url, data={"timeout": "5"}))
            await asyncio.sleep(0.2)
            second = asyncio.create_task(client.post(url, data={"timeout": "0"}))
            return (await first).json(), (await second).json()

    first, second = asyncio.run(flow())
    assert first["error_code"] == 409 and second == {"ok": True, "result": []}
    assert server.errors[0].description.startswith("Conflict")


def test_application_round_trip_and_fast_shutdown(server):
    from telegram.ext import ApplicationBuilder, CommandHandler

    async def ask(update, context):
        await update.message.reply_html(f"<b>답:</b> {context.args[0]}")

    async def main():
        app = (ApplicationBuilder().token(server.token).base_url(server.base_url)
               .base_file_url(server.base_file_url).request(ptb_request())
               .get_updates_request(ptb_request()).build())
        app.add_handler(CommandHandler("ask", ask))
        async with app:
            await app.start()
            await app.updater.start_polling()
            loop = asyncio.get_running_loop()
            sent = server.send_command(100, 100, "/ask 질문")
            replies = await loop.run_in_executor(
                None, lambda: server.wait_for_messages(100, 1, 10, since=sent))
            started = time.monotonic()
            await app.updater.stop()
            await app.stop()
            return replies, time.monotonic() - started

    replies, stop_time = asyncio.run(main())
    assert replies[0].plain_text == "답: 질문"
    assert stop_time < 2
    assert server.pending_updates() == []
    assert server.errors == []


def test_webhook_delivery_in_order_retried_until_2xx_and_polling_after_delete(server):
    received: list[tuple[int, str | None]] = []
    statuses = iter([500, 200, 200])

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((body["update_id"], self.headers.get("X-Telegram-Bot-Api-Secret-Token")))
            self.send_response(next(statuses, 200))
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        assert api(server, "setWebhook", json_body={"url": url, "secret_token": "bad secret!"})[0] == 400
        assert api(server, "setWebhook", json_body={"url": url, "secret_token": "s3cret"}) == (200, {"ok": True, "result": True})
        assert api(server, "getWebhookInfo")[1]["result"]["url"] == url
        server.send_text(5, 5, "하나")
        server.send_text(5, 5, "둘")
        deadline = time.monotonic() + 10
        while len(received) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        first = received[0][0]
        assert [update for update, _ in received] == [first, first, first + 1]  # the 500 is sent again, then in order
        assert {secret for _, secret in received} == {"s3cret"}
        status, body = api(server, "getUpdates", json_body={"timeout": 0})
        assert status == 409 and "webhook is active" in body["description"]
        assert server.pending_updates() == []
    finally:
        receiver.shutdown()
    assert api(server, "deleteWebhook")[0] == 200
    server.send_text(5, 5, "셋")
    status, body = api(server, "getUpdates", json_body={"timeout": 0})
    assert status == 200 and [u["message"]["text"] for u in body["result"]] == ["셋"]
