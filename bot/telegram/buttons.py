"""Presses on the buttons under answers: 원문 보기, 더 보기, 👍/👎.

Everything is looked up in the store (question by id, passage by row), so buttons keep
working after a restart. Data that does not parse, or is not a button of the pressed
message (forged to reach another user's question), is answered politely and changes nothing.
"""

from __future__ import annotations

from telegram import CallbackQuery, Message, ReplyParameters, Update
from telegram.ext import ContextTypes

from bot.telegram.keyboards import PASSAGES_PER_PAGE, FeedbackButton, MoreButton, SourceButton, decode, more_keyboard
from bot.telegram.ratelimit import rate_limited_message
from bot.telegram.render import render_more, render_source, shown_passages
from bot.telegram.services import Services, services

STALE = "이 버튼은 더 이상 쓸 수 없습니다. 질문을 다시 보내 주세요."
QUESTION_GONE = "이 질문의 기록을 찾을 수 없습니다. 질문을 다시 보내 주세요."
PASSAGE_GONE = "이 구절이 있던 문서가 삭제되었습니다."
THANKS = {1: "👍 고맙습니다! 평가를 저장했습니다.", -1: "👎 알려 주셔서 고맙습니다. 평가를 저장했습니다."}


async def _send_below(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, text: str, reply_markup=None) -> None:
    """A new message in the button's chat, replying to the answer when it is still there."""
    message = query.message
    reply = (
        ReplyParameters(message.message_id, allow_sending_without_reply=True) if isinstance(message, Message) else None
    )
    await context.bot.send_message(message.chat.id, text, reply_parameters=reply, reply_markup=reply_markup)


def _is_on_message(query: CallbackQuery) -> bool:
    """The data is one of the pressed message's buttons (not forged onto another message)."""
    markup = getattr(query.message, "reply_markup", None)
    if markup is None:
        return False
    return any(button.callback_data == query.data for row in markup.inline_keyboard for button in row)


def _source(svc: Services, button: SourceButton) -> str | None:
    store = svc.engine.store
    chunk = store.chunks([button.row_id]).get(button.row_id)
    if chunk is None or not chunk.doc_id.startswith(button.doc_id):
        return None
    around = store.neighbours(button.row_id)
    position = next(i for i, c in enumerate(around) if c.row_id == chunk.row_id)
    before = around[position - 1] if position > 0 else None
    after = around[position + 1] if position + 1 < len(around) else None
    return render_source(chunk, before, after)


def _more(svc: Services, button: MoreButton):
    logged = svc.engine.store.question(button.question_id)
    if logged is None:
        return None
    cited, related = shown_passages(svc.engine.ask(logged[1]))
    already = len(cited) + len(related)
    wanted = already + button.page * PASSAGES_PER_PAGE
    answer = svc.engine.ask(logged[1], top_k=wanted + 1)
    shown_rows = {p.row_id for p in cited + related}
    rest = [p for p in answer.passages if p.row_id not in shown_rows]
    start = (button.page - 1) * PASSAGES_PER_PAGE
    page = rest[start : start + PASSAGES_PER_PAGE]
    has_next = len(rest) > start + PASSAGES_PER_PAGE
    first_number = already + start + 1
    return render_more(page, first_number), more_keyboard(
        button.question_id, page, first_number, button.page + 1 if has_next else None
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer every callback query: show the passage, more passages, or store feedback."""
    query, svc = update.callback_query, services(context)
    button = decode(query.data)
    if button is None or not _is_on_message(query):
        await query.answer(STALE)
        return
    if isinstance(button, FeedbackButton):
        stored = await svc.run(svc.engine.store.add_feedback, button.question_id, str(query.from_user.id), button.value)
        await query.answer(THANKS[button.value] if stored else QUESTION_GONE)
        return
    if isinstance(button, SourceButton):
        text = await svc.run(_source, svc, button)
        if text is None:
            await query.answer(PASSAGE_GONE, show_alert=True)
            return
        await query.answer()
        await _send_below(query, context, text)
        return
    decision = svc.limiter.hit(query.from_user.id)
    if not decision.allowed:
        await query.answer(rate_limited_message(decision.retry_after))
        return
    result = await svc.run(_more, svc, button)
    if result is None:
        await query.answer(QUESTION_GONE, show_alert=True)
        return
    await query.answer()
    await _send_below(query, context, result[0], result[1])
