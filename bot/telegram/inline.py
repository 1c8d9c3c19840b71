"""Inline mode: `@bot 질문` in any chat offers the answer and the top passages as articles."""

from __future__ import annotations

import logging
from html import unescape

from telegram import InlineQueryResultArticle, InlineQueryResultsButton, InputTextMessageContent, Update
from telegram.ext import ContextTypes

from bot.telegram.htmltext import shorten
from bot.telegram.render import REFUSAL, citation, render_answer, render_passage
from bot.telegram.services import services
from corpus.errors import QabotError

log = logging.getLogger(__name__)

MAX_RESULTS = 50
CACHE_SECONDS = 60
HELP_BUTTON = InlineQueryResultsButton(text="사용법 보기", start_parameter="help")


def _results(answer) -> list[InlineQueryResultArticle]:
    rendered = render_answer(answer, with_question=True)
    first_line = (answer.text or "").strip().split("\n", 1)[0]
    cited = rendered.shown[: rendered.cited_count]
    results = [
        InlineQueryResultArticle(
            id="answer",
            title=(shorten(first_line, 100) or "답변") if answer.answered else REFUSAL,
            description=" · ".join(unescape(citation(p.title, p.heading, p.section)) for p in cited)[:200]
            or ", ".join(answer.missing_terms)[:200]
            or "근거 구절과 함께 보냅니다",
            input_message_content=InputTextMessageContent(rendered.html),
        )
    ]
    for passage in answer.passages[: MAX_RESULTS - 1]:
        where = unescape(citation(passage.title, passage.heading, passage.section))
        results.append(
            InlineQueryResultArticle(
                id=f"p{passage.rank}",
                title=f"[{passage.rank}] {shorten(where, 90)}",
                description=shorten(" ".join(passage.text.split()), 150),
                input_message_content=InputTextMessageContent(render_passage(passage, passage.rank)),
            )
        )
    return results


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the inline query; an empty query gets only a help button."""
    query, svc = update.inline_query, services(context)
    text = query.query.strip()
    if not text:
        await query.answer([], button=HELP_BUTTON, cache_time=CACHE_SECONDS)
        return
    try:
        answer = await svc.run(svc.engine.ask, text)
    except QabotError as error:
        log.debug("inline query refused: %s", error.user_message)
        await query.answer([], button=HELP_BUTTON, cache_time=0)
        return
    await query.answer(_results(answer), cache_time=CACHE_SECONDS, is_personal=False)
