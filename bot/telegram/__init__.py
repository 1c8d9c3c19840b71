"""The Telegram front end: a python-telegram-bot Application over the engine.

serve.py          run_serve(settings): token check, logging, polling or webhook
application.py    build_application(settings, engine): handlers wired, commands set
questions.py      private text, group mentions/replies, /ask
commands.py       /start, /help, /docs, /stats
admin.py          file uploads, /add, /remove (admins only)
buttons.py        원문 보기, 더 보기, 👍/👎
inline.py         @bot 질문 in any chat
render.py         Answer -> Telegram HTML within 4,096 characters
keyboards.py      callback_data (≤64 bytes) and inline keyboards
help_text.py      help, document list and stats texts; example questions from the corpus
services.py       what handlers share: settings, engine, rate limiter
access.py, ratelimit.py, chat_action.py, errors.py, logging_filter.py, htmltext.py
"""

from bot.telegram.application import build_application
from bot.telegram.serve import run_serve

__all__ = ["build_application", "run_serve"]
