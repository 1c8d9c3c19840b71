"""Answers, documents and errors as terminal text (rich) and as the JSON of docs/architecture.md ("Command line")."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from corpus.markers import place
from corpus.store import DocumentInfo
from retrieval.answer import Answer, Passage

REFUSAL = "문서에서 답을 찾지 못했습니다."


def answer_to_json(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "answered": answer.answered,
        "answer": answer.text,
        "passages": [
            {
                "rank": p.rank,
                "doc_id": p.doc_id,
                "title": p.title,
                "chunk_id": p.chunk_id,
                "text": p.text,
                "score": p.score,
                "start": p.start,
                "end": p.end,
                "heading": p.heading,
                "section": list(p.section),
                "same_as": list(p.same_as),
                "cited": p.cited,
            }
            for p in answer.passages
        ],
        "missing_terms": list(answer.missing_terms),
        "corrections": [{"typed": was, "read": now} for was, now in answer.corrections],
    }


def highlighted(passage: Passage) -> Text:
    text = Text(passage.text)
    for start, end in passage.highlights:
        text.stylize("bold yellow", start, end)
    return text


def print_answer(console: Console, answer: Answer) -> None:
    for was, now in answer.corrections:
        console.print(Text(f"‘{was}’ → ‘{now}’(으)로 읽었습니다.", style="yellow"))
    if answer.answered:
        console.print(Text("답변: ", style="bold green") + Text(answer.text or ""))
    else:
        console.print(Text(REFUSAL, style="bold red"))
        if answer.missing_terms:
            console.print(f"문서에 없는 단어: {', '.join(answer.missing_terms)}")
    shown = answer.cited_passages if answer.answered else answer.passages[:2]
    if shown:
        console.print()
        console.print(Text("근거 구절:" if answer.answered else "관련 구절:", style="bold"))
    for passage in shown:
        spot = place(passage.heading, passage.section)
        where = passage.title + (f" › {spot}" if spot and spot != passage.title else "")
        console.print(Text(f"[{passage.rank}] ", style="bold cyan") + Text(where, style="cyan"))
        if passage.same_as:
            console.print(Text(f"같은 내용: {', '.join(passage.same_as)}", style="cyan"))
        console.print(highlighted(passage), style="dim" if not passage.cited else None)
        console.print()


def print_documents(console: Console, documents: list[DocumentInfo]) -> None:
    if not documents:
        console.print("문서가 없습니다. `qabot add 파일` 로 문서를 추가하세요.")
        return
    table = Table(title=f"문서 {len(documents)}개")
    table.add_column("ID", no_wrap=True)
    table.add_column("제목", overflow="fold")
    table.add_column("청크", justify="right")
    table.add_column("추가 시각", no_wrap=True)
    table.add_column("추가한 사람")
    for doc in documents:
        table.add_row(doc.id, doc.title, str(doc.chunk_count), doc.added_at, doc.added_by)
    console.print(table)
