"""Questions: plain text in private chats, mentions and replies in groups, /ask anywhere."""

from __future__ import annotations

import re

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.telegram.chat_action import chat_action
from bot.telegram.htmltext import escape
from bot.telegram.keyboards import answer_keyboard
from bot.telegram.ratelimit import rate_limited_message
from bot.telegram.render import render_answer
from bot.telegram.services import Services, services
from corpus.errors import QabotError
from retrieval.answer import Answer

_COMMAND = re.compile(r"^/\S+\s*", re.DOTALL)
NEUTRAL_EXAMPLE = "이 문서는 무엇에 관한 것인가요?"  # when the corpus offers no example of its own
EMPTY_MENTION = "무엇이 궁금한가요? 저를 부르면서 질문을 함께 써 주세요."


def evidence_of(answer: Answer) -> str | None:
    """The answer's first line: a string of the cited passage (for evaluation cases)."""
    if not answer.answered or not answer.text:
        return None
    return next((line.strip() for line in answer.text.split("\n") if line.strip()), None)


def _ask_and_log(svc: Services, question: str, user_id: int) -> tuple[Answer, int]:
    answer = svc.engine.ask(question)
    question_id = svc.engine.store.log_question(
        f"telegram:{user_id}", question, answer.answered, answer.text, evidence_of(answer)
    )
    return answer, question_id


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Rate-limit, answer off the event loop, reply with citations and buttons."""
    message, user = update.effective_message, update.effective_user
    svc = services(context)
    decision = svc.limiter.hit(user.id)
    if not decision.allowed:
        if decision.notify:
            await message.reply_text(rate_limited_message(decision.retry_after))
        return
    try:
        async with chat_action(context.bot, message.chat_id):
            answer, question_id = await svc.run(_ask_and_log, svc, question, user.id)
    except QabotError as error:
        await message.reply_text(escape(error.user_message))
        return
    rendered = render_answer(answer)
    sources = rendered.shown[: rendered.cited_count] or rendered.shown
    has_more = len(answer.passages) > len(rendered.shown) and (answer.answered or bool(rendered.shown))
    keyboard = answer_keyboard(question_id, sources, has_more=has_more)
    await message.reply_text(rendered.html, reply_markup=keyboard)


def command_text(message: Message) -> str:
    """What follows the /command (and its @botname) in a message."""
    return _COMMAND.sub("", message.text or "", count=1).strip()


def _addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """The question in a group message meant for the bot, else None."""
    text = message.text or ""
    mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    addressed = False
    for entity, value in mentions.items():
        is_us = (entity.type == MessageEntity.MENTION and value.lower() == f"@{username}".lower()) or (
            entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id
        )
        if is_us:
            addressed = True
            if entity.type == MessageEntity.MENTION:
                text = text.replace(value, " ")
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        addressed = True
    return " ".join(text.split()) if addressed else None


def without_own_mention(text: str, username: str) -> str:
    return " ".join(re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).split())


async def on_private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every text message in a private chat is a question."""
    question = without_own_mention(update.effective_message.text, context.bot.username)
    if not question:
        await update.effective_message.reply_text(EMPTY_MENTION)
        return
    await answer_question(update, context, question)


async def on_group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only when mentioned or replied to."""
    message = update.effective_message
    if update.effective_user is None:
        return
    question = _addressed_text(message, context.bot.username, context.bot.id)
    if question is None:
        return
    if not question:
        await message.reply_text(EMPTY_MENTION)
        return
    await answer_question(update, context, question)


async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask 질문 (or /ask in reply to a message: that message is the question)."""
    message = update.effective_message
    if update.effective_user is None:
        return
    question = command_text(message)
    if not question and message.reply_to_message is not None:
        question = (message.reply_to_message.text or message.reply_to_message.caption or "").strip()
    if not question:
        examples = await services(context).run(services(context).examples.get)
        await message.reply_text(ask_usage(examples))
        return
    await answer_question(update, context, question)


def ask_usage(examples: list[str]) -> str:
    """How to use /ask, with an example question the loaded corpus answers (or a neutral one)."""
    example = examples[0] if examples else NEUTRAL_EXAMPLE
    return f"질문을 함께 보내 주세요. 예: <code>/ask {escape(example)}</code>"


async def on_other_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice… in a private chat: explain that questions are text."""
    if update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE:
        await update.effective_message.reply_text("질문은 글로 보내 주세요. 사용법은 /help 에 있습니다.")


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An unknown /command in a private chat."""
    await update.effective_message.reply_text("모르는 명령입니다. /help 를 보내 보세요.")
