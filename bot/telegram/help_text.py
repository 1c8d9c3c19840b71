"""Texts about the bot itself: /start and /help, /docs, /stats, and example questions.

Example questions come from the corpus, not from this file: a section heading that is
already a question, or a sentence "X은 다음과 같습니다" turned into "X은?", else a
heading as "… 알려 줘". Only candidates the engine actually answers are kept, and the
result is cached until the corpus changes (the store's generation).
"""

from __future__ import annotations

import itertools
import re
import threading

from bot.telegram.htmltext import MAX_MESSAGE_CHARS, escape, shorten, visible_len
from corpus.blocks import LIST_INTRO
from corpus.store import DocumentInfo, Store

MAX_TITLES = 10
MAX_EXAMPLES = 3
CANDIDATE_DOCS = 10
CANDIDATE_CHUNKS = 30  # per document
CANDIDATES_CHECKED = 12
# The topic of a sentence ("제출할 서류는 …"): with a list-introducing sentence, a question
_TOPIC = re.compile(r"^([^\n.!?]{3,40}?[은는])\s")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
_HEADING_QUESTION = re.compile(r"^[^\n]{4,60}\?$")
_NOUNISH_HEADING = re.compile(r"^[0-9A-Za-z가-힣 ·,()'\"-]{4,30}$")


class ExampleQuestions:
    """Example questions for /help, recomputed when the corpus changes."""

    def __init__(self, engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._cached: tuple[int, list[str]] | None = None

    def get(self) -> list[str]:
        """Blocking (asks the engine): call it off the event loop."""
        generation = self._engine.store.generation
        with self._lock:
            if self._cached and self._cached[0] == generation:
                return self._cached[1]
            examples = self._compute()
            self._cached = (generation, examples)
            return examples

    def _compute(self) -> list[str]:
        per_document = [_candidates(self._engine.store, doc) for doc in self._engine.store.documents()[:CANDIDATE_DOCS]]
        ordered = [c for group in itertools.zip_longest(*per_document) for c in group if c]
        examples: list[str] = []
        for candidate in list(dict.fromkeys(ordered))[:CANDIDATES_CHECKED]:
            try:
                if self._engine.ask(candidate, top_k=1).answered:
                    examples.append(candidate)
            except Exception:  # an example is a nicety; never fail /help for it
                continue
            if len(examples) == MAX_EXAMPLES:
                break
        return examples


def _candidates(store: Store, document: DocumentInfo) -> list[str]:
    """Question-like strings from one document, best kinds first."""
    questions, lists, headings = [], [], []
    rows = itertools.islice(store.index_rows(document.id), CANDIDATE_CHUNKS)
    for row in rows:
        heading = row.context_text.split("\n", 1)[1].strip() if "\n" in row.context_text else ""
        if _HEADING_QUESTION.match(heading):
            questions.append(heading)
        elif (
            heading
            and heading != document.title
            and _NOUNISH_HEADING.match(heading)
            and not re.search(r"[은는이가]\s", heading)
        ):
            headings.append(f"{heading}에 대해 알려 줘")
        lists.extend(_list_questions(row.text))
    return lists + questions + headings


def _list_questions(text: str) -> list[str]:
    """"제출할 서류는?" from a line ending "제출할 서류는 다음과 같습니다." (corpus.blocks' list intro)."""
    found = []
    for line in text.split("\n"):
        if LIST_INTRO.search(line):
            topic = _TOPIC.match(_SENTENCE_BREAK.split(line.strip())[-1])
            if topic:
                found.append(topic.group(1).strip() + "?")
    return found


def help_message(
    documents: list[DocumentInfo], chunks: int, examples: list[str], bot_username: str, admin: bool
) -> str:
    mention = f"@{bot_username}"
    lines = ["<b>안녕하세요! 문서에서 답을 찾아, 근거 구절과 함께 알려 드리는 봇입니다.</b>", ""]
    if documents:
        lines.append(f"지금 문서 <b>{len(documents)}개</b>(구절 {chunks}개)를 알고 있습니다:")
        lines += [f"• {escape(shorten(d.title, 80))}" for d in documents[:MAX_TITLES]]
        if len(documents) > MAX_TITLES:
            lines.append(f"• … 외 {len(documents) - MAX_TITLES}개 (/docs)")
    else:
        lines.append("아직 아는 문서가 없습니다. 관리자가 파일을 보내 주면 그 문서에서 답합니다.")
    lines += [
        "",
        "<b>묻는 법</b>",
        "• 이 대화창에서는 질문을 그냥 보내세요.",
        f"• 그룹에서는 {escape(mention)} 을 부르며 묻거나, 제 답에 답장하거나, <code>/ask 질문</code> 으로 물어보세요.",
        f"• 다른 대화창에서도 <code>{escape(mention)} 질문</code> 을 입력하면 답을 골라 보낼 수 있습니다.",
    ]
    if examples:
        lines += ["", "<b>이런 걸 물어보세요</b>"]
        lines += [f"• <code>{escape(e)}</code>" for e in examples]
    lines += [
        "",
        "답 아래의 [1] [2]는 근거 구절 번호입니다. 📄 원문 보기로 앞뒤 내용을, 더 보기로 다른 구절을 볼 수 있어요. "
        "👍/👎로 답을 평가해 주시면 봇을 고치는 데 쓰입니다.",
        "/docs 문서 목록 · /help 이 도움말",
    ]
    if admin:
        lines += [
            "",
            "<b>관리자 명령</b>",
            "• 파일 보내기(.txt .md .html .pdf .docx, 캡션 <code>/add 제목</code>은 선택): 문서 추가",
            "• 글에 답장하며 <code>/add [제목]</code>: 그 글을 문서로 추가",
            "• <code>/remove ID</code>: 문서 삭제 · /stats: 통계",
        ]
    return "\n".join(lines)


def docs_message(documents: list[DocumentInfo]) -> str:
    if not documents:
        return "문서가 없습니다. 관리자가 파일을 보내면 추가됩니다."
    header = f"<b>문서 {len(documents)}개</b>"
    lines = []
    for index, doc in enumerate(documents):
        line = (
            f"• <b>{escape(shorten(doc.title, 80))}</b>\n"
            f"  ID <code>{escape(doc.id)}</code> · 구절 {doc.chunk_count}개 · {escape(doc.added_at[:10])}"
        )
        candidate = "\n".join([header, *lines, line, f"… 외 {len(documents) - index - 1}개"])
        if visible_len(candidate) > MAX_MESSAGE_CHARS:
            lines.append(f"… 외 {len(documents) - index}개")
            break
        lines.append(line)
    return "\n".join([header, *lines])


def stats_message(stats: dict[str, int]) -> str:
    return "\n".join(
        [
            "<b>통계</b>",
            f"문서 {stats['documents']}개 · 구절 {stats['chunks']}개",
            f"질문 {stats['questions']}개 (답함 {stats['answered']}개)",
            f"피드백 👍 {stats['feedback_up']} · 👎 {stats['feedback_down']}",
        ]
    )
