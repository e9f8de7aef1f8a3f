"""`flockguard shell`: one command as text or JSON, and --batch JSON lines, run as installed."""

from __future__ import annotations

import json
import pathlib
import subprocess

from conftest import installed, run_fg


def test_json_report_is_repo_relative(repo: pathlib.Path) -> None:
    (repo / "src").mkdir()
    proc = run_fg(
        "shell", "--json", "--cwd", str(repo / "src"), "F=.env; cat ../$F | tee out.txt", cwd=repo
    )
    report = json.loads(proc.stdout)
    assert report["reads"] == [".env"]
    assert report["writes"] == ["src/out.txt"]
    assert report["dynamic"] is False and report["parse_error"] is False


def test_text_report_names_dynamic_targets_and_parse_errors(repo: pathlib.Path) -> None:
    dynamic = run_fg("shell", "echo x > $OUT", cwd=repo).stdout
    assert "dynamic" in dynamic and "write" in dynamic
    broken = run_fg("shell", 'echo "unclosed', cwd=repo).stdout
    assert "parse error" in broken and "syntax error" in broken


def test_batch_answers_every_line_in_order(repo: pathlib.Path) -> None:
    lines = [
        {"cmd": "cat .env"},
        {"cmd": "rm -rf build", "cwd": str(repo)},
        "not json",
        {"cmd": "echo x > $OUT"},
        {"cmd": 'echo "open'},
        {"nocmd": 1},
    ]
    stdin = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    proc = subprocess.run(
        [installed("flockguard"), "shell", "--batch"],
        input=stdin + "\n",
        capture_output=True,
        text=True,
        cwd=repo,
        check=False,
    )
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == len(lines)
    assert answers[0] == {
        "reads": [".env"],
        "writes": [],
        "deletes": [],
        "dynamic": False,
        "parse_error": False,
    }
    assert answers[1]["deletes"] == ["build"]
    assert "line 3" in answers[2]["error"]
    assert answers[3]["dynamic"] is True
    assert answers[4]["parse_error"] is True
    assert '"cmd"' in answers[5]["error"]
    assert proc.returncode == 1  # some lines were unusable; all were answered


def test_batch_and_a_command_together_is_a_usage_error(repo: pathlib.Path) -> None:
    proc = run_fg("shell", "--batch", "ls", cwd=repo, check=False)
    assert proc.returncode == 1 and "--batch" in proc.stderr
