"""`qabot add/docs/remove/eval/ask` against a PostgreSQL store (QABOT_DATABASE_URL), in-process."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.settings import load_settings
from corpus.errors import QabotError
from corpus.stores import open_store


@pytest.fixture
def postgres_env(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("QABOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QABOT_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    return database_url


def test_add_docs_ask_eval_remove_against_postgres(postgres_env, tmp_path, capsys, analyzer):
    note = tmp_path / "note.txt"
    note.write_text("회의록\n다음 회의는 금요일 오후 세 시에 본관 회의실에서 열립니다.\n", encoding="utf-8")
    assert main(["add", str(note)]) == 0
    doc_id = capsys.readouterr().out.strip().splitlines()[0]
    store = open_store(postgres_env)
    assert doc_id in {info.id for info in store.documents()}
    assert not (tmp_path / "data" / "qabot.sqlite3").exists()  # the store is the database, not a file
    assert main(["docs"]) == 0
    assert "회의록" in capsys.readouterr().out
    assert main(["ask", "--json", "다음 회의는 어디에서 열려?"]) == 0
    assert "본관 회의실" in json.loads(capsys.readouterr().out)["answer"]
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"question": "다음 회의는 무슨 요일이야?", "answers": ["금요일"]}, ensure_ascii=False) + "\n")
    assert main(["eval", "--json", str(cases)]) == 0
    assert json.loads(capsys.readouterr().out)["hit@1"] == 1.0
    assert main(["remove", doc_id]) == 0
    assert doc_id not in {info.id for info in store.documents()}
    store.close()


def test_a_database_url_that_is_not_postgres_is_refused():
    with pytest.raises(QabotError, match="QABOT_DATABASE_URL"):
        load_settings({"QABOT_DATABASE_URL": "mysql://somewhere/db"})
    settings = load_settings({"QABOT_DATABASE_URL": "postgresql://u:secret@h/db", "QABOT_DATA_DIR": "/tmp/x"})
    assert settings.store_target == "postgresql://u:secret@h/db"
    assert "secret" not in repr(settings)


def test_an_unreachable_database_is_reported_without_its_password(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QABOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QABOT_DATABASE_URL", "postgresql://qabot:hunter2@127.0.0.1:1/none")
    assert main(["docs"]) == 1
    err = capsys.readouterr().err
    assert "연결할 수 없습니다" in err and "hunter2" not in err
