"""Corpus changes while questions are in flight: both documents land, no half-built index.

On one Engine, two threads add a document each and a third removes one, all at once,
while three threads keep asking a question that matches every chunk of those three
documents. Each answer must hold all or none of each document's chunks (a snapshot is
swapped in whole), a thread never sees a change undone, and afterwards both new documents
are stored and indexed. Through the bot, two admins upload at the same moment while users
ask: both uploads are confirmed, every question is answered once, and the new documents
are answerable at once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus.store import Store
from retrieval import index as index_module
from retrieval.analyzer import Analyzer
from retrieval.engine import Engine
from tests.reliability_bot import ADMIN_ID, SECOND_ADMIN_ID, SharedBot, fresh_id, shared_bot
from tests.reliability_helpers import assert_index_matches_store, assert_store_consistent, big_document

pytestmark = pytest.mark.slow  # two admins upload through the real bot while users ask

MARKERS = {"a": "알파표식", "b": "베타표식", "c": "감마표식"}
QUESTION = "알파표식 베타표식 감마표식"
FACTS = {
    "a": ("알파 창고의 열쇠는 누가 가지고 있나요?", "강바람"),
    "b": ("베타 창고의 열쇠는 누가 가지고 있나요?", "은하늘"),
}


def marked_document(key: str, sections: int = 6) -> str:
    """Every chunk holds the marker: in the title, every heading and every paragraph."""
    marker = MARKERS[key]
    lines = [f"# {marker} 안내서", ""]
    for i in range(sections):
        lines += [f"## {marker} 제{i + 1}절", ""]
        lines += [
            f"{marker} 구역 {i + 1}에서는 장비를 매일 점검하고 기록을 남깁니다. 점검표는 {marker} 보관함에 둡니다.",
            "",
            f"{marker} 구역 {i + 1}의 출입은 허가된 사람만 할 수 있으며, 방문객은 안내를 받아야 합니다.",
            "",
        ]
    if key in FACTS:
        place = {"a": "알파", "b": "베타"}[key]
        lines += [f"{marker} 참고: {place} 창고의 열쇠는 {FACTS[key][1]} 님이 가지고 있습니다.", ""]
    return "\n".join(lines)


@pytest.fixture
def engine(tmp_path: Path, analyzer: Analyzer) -> Iterator[Engine]:
    engine = Engine(Store(tmp_path / "qabot.sqlite3"), analyzer, index_path=tmp_path / "index" / "bm25.index")
    yield engine
    engine.close()


@pytest.mark.parametrize("halves", [False, True], ids=["whole", "halves"])
def test_changes_while_asking_never_show_half_a_document(engine: Engine, halves: bool, monkeypatch) -> None:
    if halves:  # every search splits its chunks in two, as large indexes do, sharing one helper thread
        monkeypatch.setattr(index_module, "SPLIT_FROM", 0)
    c = engine.add_bytes(marked_document("c").encode(), "c.md", added_by="setup").info
    chunk_counts = {c.id: c.chunk_count}
    start = threading.Barrier(6)
    changing = threading.Event()
    changing.set()
    added: dict[str, str] = {}
    failures: list[BaseException] = []
    seen: dict[int, list[Counter]] = {}

    def change(action) -> None:
        try:
            start.wait()
            action()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    def add(key: str) -> None:
        info = engine.add_bytes(marked_document(key).encode(), f"{key}.md", added_by=f"admin:{key}").info
        added[key] = info.id
        chunk_counts[info.id] = info.chunk_count

    def ask(number: int) -> None:
        answers = seen.setdefault(number, [])
        try:
            start.wait()
            while True:
                settled = not changing.is_set()  # every change finished before this question
                answer = engine.ask(QUESTION, top_k=100)
                answers.append(Counter(p.doc_id for p in answer.passages))
                if settled and len(answers) >= 3:
                    break
        except BaseException as error:  # noqa: BLE001
            failures.append(error)

    changers = [
        threading.Thread(target=change, args=(lambda: add("a"),)),
        threading.Thread(target=change, args=(lambda: add("b"),)),
        threading.Thread(target=change, args=(lambda: engine.remove_document(c.id),)),
    ]
    askers = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
    for thread in changers + askers:
        thread.start()
    for thread in changers:
        thread.join(120)
    changing.clear()
    for thread in askers:
        thread.join(60)
    assert not failures, failures

    assert set(added) == {"a", "b"}
    docs = assert_store_consistent(Path(engine.store.path))
    assert set(docs) == {added["a"], added["b"]}
    assert_index_matches_store(engine)
    for question, expected in FACTS.values():
        answer = engine.ask(question)
        assert answer.answered and expected in answer.text

    total = 0
    for answers in seen.values():
        appeared: set[str] = set()
        removed = False
        for counts in answers:
            total += 1
            for doc_id, count in counts.items():
                assert count == chunk_counts[doc_id], f"{count} of {chunk_counts[doc_id]} chunks of {doc_id}"
            assert appeared <= set(counts), "a question saw an added document disappear"
            appeared |= set(counts) - {c.id}
            if c.id not in counts:
                removed = True
            assert not (removed and c.id in counts), "a question saw a removed document come back"
        assert answers[-1] == Counter({added["a"]: chunk_counts[added["a"]], added["b"]: chunk_counts[added["b"]]})
    assert total >= 9
    states = {frozenset(counts) for answers in seen.values() for counts in answers}
    assert len(states) >= 2, "no question ran while the corpus changed"
    print(f"{total} answers saw {len(states)} corpus states")


# --- through the bot ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def bot(request: pytest.FixtureRequest) -> SharedBot:
    return shared_bot(request)


def test_two_admins_upload_at_once_while_users_ask(bot: SharedBot) -> None:
    server = bot.server
    errors = len(server.errors)
    documents = {
        ADMIN_ID: big_document("동시 업로드 첫째", sections=12, fact="첫째 등대의 관리인은 서동하입니다."),
        SECOND_ADMIN_ID: big_document("동시 업로드 둘째", sections=12, fact="둘째 등대의 관리인은 남궁솔입니다."),
    }
    users = [fresh_id() for _ in range(6)]
    uploads = {
        admin: server.send_document(admin, admin, text.encode(), f"concurrent-{admin}.md")
        for admin, text in documents.items()
    }
    questions = {}
    for round_ in range(2):
        for user in users:
            questions[(user, round_)] = server.send_text(user, user, "1차 평가에서 탈락한 팀은 어디인가요?")
            time.sleep(0.05)
    replies = {admin: server.wait_for_message(admin, since=sent, timeout=120) for admin, sent in uploads.items()}
    for reply in replies.values():
        assert "추가했습니다" in reply.plain_text, reply.plain_text
    for user in users:
        answers = server.wait_for_messages(user, count=2, since=questions[(user, 0)], timeout=60)
        assert all("네이버클라우드" in answer.plain_text for answer in answers)
    server.wait_until_delivered()
    time.sleep(0.3)
    for user in users:
        assert len(server.sent_messages(user, since=questions[(user, 0)])) == 2, "a question answered twice"
    asker = fresh_id()
    for question, expected in (("첫째 등대의 관리인은 누구인가요?", "서동하"), ("둘째 등대의 관리인은 누구인가요?", "남궁솔")):
        reply = server.wait_for_message(asker, since=server.send_text(asker, asker, question), timeout=60)
        assert expected in reply.plain_text, reply.plain_text
    for admin, reply in replies.items():
        doc_id = next(line.split("ID:")[1].strip() for line in reply.plain_text.splitlines() if line.startswith("ID:"))
        removed = server.wait_for_message(admin, since=server.send_command(admin, admin, f"/remove {doc_id}"))
        assert "삭제했습니다" in removed.plain_text
    assert server.errors[errors:] == []
