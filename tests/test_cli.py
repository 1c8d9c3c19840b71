"""The `qabot` command line: one real subprocess run, the rest in-process through main()."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

REPO = Path(__file__).resolve().parent.parent  # subprocesses run this tree, not an installed copy


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    directory = tmp_path / "data"
    monkeypatch.setenv("QABOT_DATA_DIR", str(directory))
    monkeypatch.chdir(tmp_path)
    return directory


def test_ask_json_in_a_real_process_from_another_directory(tmp_path):
    env = {**os.environ, "QABOT_DATA_DIR": str(tmp_path / "data"), "QABOT_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json", "--top", "3", "1차 평가에서 탈락한 팀은 어디야?"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= {"question", "answered", "answer", "passages", "missing_terms"}
    assert answer["answered"] is True
    assert "네이버클라우드" in answer["answer"] and "NC AI" in answer["answer"]
    assert 1 <= len(answer["passages"]) <= 3
    first = answer["passages"][0]
    assert set(first) >= {"rank", "doc_id", "title", "chunk_id", "text", "score", "start", "end"}
    assert first["rank"] == 1 and first["end"] > first["start"]


def test_ask_prints_answer_and_cited_passage(data_dir, capsys, analyzer):
    assert main(["ask", "2단계로 진출한 팀은?"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("답변:")
    assert "SK텔레콤" in out and "근거 구절" in out and "[1]" in out


def test_refusal_exits_zero_and_names_missing_words(data_dir, capsys, analyzer):
    assert main(["ask", "--json", "오늘 서울 날씨 알려줘"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["answered"] is False and answer["answer"] is None
    assert "날씨" in answer["missing_terms"]


def test_add_docs_remove_round_trip(data_dir, tmp_path, capsys, analyzer):
    note = tmp_path / "note.txt"
    note.write_bytes("회의록\n다음 회의는 금요일 오후 세 시에 본관 회의실에서 열립니다.\n".encode("cp949"))
    assert main(["add", str(note)]) == 0
    doc_id = capsys.readouterr().out.strip()
    assert main(["docs"]) == 0
    listing = capsys.readouterr().out
    assert doc_id in listing and "회의록" in listing and "cli" in listing
    assert main(["ask", "--json", "다음 회의는 언제 열려?"]) == 0
    assert "금요일" in json.loads(capsys.readouterr().out)["answer"]
    assert main(["add", str(note)]) == 1
    assert "이미 같은 내용" in capsys.readouterr().err
    assert main(["remove", doc_id]) == 0
    assert main(["remove", doc_id]) == 1
    assert "문서가 없습니다" in capsys.readouterr().err


def test_title_option_overrides_the_guess(data_dir, tmp_path, capsys, analyzer):
    page = tmp_path / "page.md"
    page.write_text("# 원래 제목\n본문입니다.\n", encoding="utf-8")
    assert main(["add", "--title", "새 제목", str(page)]) == 0
    capsys.readouterr()
    main(["docs"])
    assert "새 제목" in capsys.readouterr().out


def test_bad_files_exit_one_and_change_nothing(data_dir, tmp_path, capsys, analyzer):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    unknown = tmp_path / "table.xlsx"
    unknown.write_bytes(b"PK\x03\x04")
    assert main(["add", str(empty), str(binary), str(unknown), str(tmp_path / "missing.txt")]) == 1
    err = capsys.readouterr().err
    assert "비어 있는" in err and "텍스트로 읽을 수 없는" in err and "지원하지 않는" in err
    main(["docs"])
    assert "문서 1개" in capsys.readouterr().out


def test_many_files_in_one_add_report_each_file_in_order(data_dir, tmp_path, capsys, analyzer):
    texts = {
        "meeting.txt": "다음 회의는 금요일 오후 세 시에 본관 회의실에서 열립니다.",
        "library.txt": "도서관은 평일 오전 아홉 시부터 밤 열 시까지 엽니다.",
        "copy.txt": "다음 회의는 금요일 오후 세 시에 본관 회의실에서 열립니다.",
        "cafeteria.txt": "구내식당 점심은 열한 시 반부터 한 시까지 나옵니다.",
    }
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    paths = [str(tmp_path / name) for name in ("meeting.txt", "missing.txt", "library.txt", "copy.txt", "cafeteria.txt")]
    assert main(["add", *paths]) == 1
    captured = capsys.readouterr()
    ids = captured.out.split()
    assert len(ids) == 3
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert [line.split(":")[0] for line in lines] == ["추가됨", paths[1], "추가됨", paths[3], "추가됨"]
    assert "찾을 수 없습니다" in lines[1] and "이미 같은 내용" in lines[3] and ids[0] in lines[3]
    main(["docs"])
    assert "문서 4개" in capsys.readouterr().out
    assert main(["ask", "--json", "구내식당 점심은 몇 시부터야?"]) == 0
    assert "열한 시 반" in json.loads(capsys.readouterr().out)["answer"]


def test_usage_errors_exit_two_with_korean_help(data_dir, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["ask"])
    assert exited.value.code == 2
    assert "오류" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2


@pytest.mark.parametrize(
    ("argv", "korean"),
    [
        (["ask"], "다음 인자가 필요합니다: 질문"),
        (["frobnicate"], "잘못된 선택입니다: 'frobnicate'"),
        (["ask", "--top", "many", "질문"], "--top: 올바른 값이 아닙니다: 'many'"),
        (["ask", "질문", "--loud"], "알 수 없는 인자입니다: --loud"),
        (["feedback"], "다음 인자가 필요합니다: --export"),
    ],
)
def test_argparse_errors_and_usage_are_korean(data_dir, capsys, argv, korean):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert korean in err and err.startswith("사용법: qabot")
    assert "usage:" not in err and "required" not in err and "invalid" not in err


def test_a_damaged_pdf_is_called_damaged_in_a_real_process(tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(bytes(range(256)) * 12)
    env = {**os.environ, "QABOT_DATA_DIR": str(tmp_path / "data"), "QABOT_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "add", str(broken)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"{broken}: 파일이 손상되었거나 읽을 수 없는 형식입니다: broken.pdf"
    assert result.stdout == ""
