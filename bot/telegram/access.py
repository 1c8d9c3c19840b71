"""Who may change the corpus: Telegram user ids listed in QABOT_ADMIN_IDS, nobody else."""

from __future__ import annotations

from telegram import Update

from bot.settings import Settings

NOT_ADMIN = "문서를 바꾸는 일(추가·삭제)과 통계는 관리자만 할 수 있습니다. 질문은 누구나 할 수 있어요!"


def is_admin(settings: Settings, update: Update) -> bool:
    """True when the sender's user id is an admin id (never by name or chat)."""
    user = update.effective_user
    return user is not None and not user.is_bot and user.id in settings.admin_ids
