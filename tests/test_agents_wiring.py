"""Several agents in one repository: detection, doctor, and one record per doubly-fired action."""

from __future__ import annotations

import json
import pathlib
import stat

from conftest import audit, git_init, run_fg, run_hook


def test_init_wires_the_agents_the_repository_uses(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    (tmp_path / ".cursor").mkdir()
    (tmp_path / ".gemini").mkdir()
    out = run_fg("init", cwd=tmp_path).stdout
    assert (tmp_path / ".cursor" / "hooks.json").exists()
    assert (tmp_path / ".gemini" / "settings.json").exists()
    assert not (tmp_path / ".claude" / "settings.json").exists()  # not used here
    assert (tmp_path / ".cursor" / "rules" / "flockguard.mdc").exists()
    assert "to do in gemini-cli" in out and "to do in cursor" in out


def test_doctor_reports_wiring_problems_and_todos(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    run_fg("init", "--agents", "claude-code,codex", cwd=tmp_path)
    document = json.loads(run_fg("doctor", "--json", cwd=tmp_path).stdout)
    reports = {r["agent"]: r for r in document["agents"]}
    assert all(c["ok"] for c in document["checks"]), document["checks"]
    assert reports["claude-code"]["wired"] and reports["claude-code"]["hook_runs"]
    assert reports["claude-code"]["problems"] == [] and "trust" in reports["claude-code"]["todo"]
    assert reports["codex"]["wired"] and "/hooks" in reports["codex"]["todo"]
    assert not reports["cursor"]["wired"]
    settings = tmp_path / ".claude" / "settings.json"
    hook = reports["claude-code"]["hook"]
    settings.write_text(settings.read_text().replace(hook, "/nonexistent/bin/flockguard-hook"))
    broken = run_fg("doctor", cwd=tmp_path, check=False)
    assert broken.returncode == 1 and "/nonexistent/bin/flockguard-hook" in broken.stdout
    settings.write_text("{not json")
    reports = {
        r["agent"]: r
        for r in json.loads(run_fg("doctor", "--json", cwd=tmp_path, check=False).stdout)["agents"]
    }
    assert reports["claude-code"]["config_valid"] is False


def test_a_shell_command_fired_twice_by_cursor_is_audited_once(repo: pathlib.Path) -> None:
    """Cursor runs its own hooks and Claude Code's: one command, two calls, one record."""
    common = {
        "conversation_id": "74676b03-aaaa",
        "generation_id": "f7746f6e-bbbb",
        "cursor_version": "3.9.16",
        "workspace_roots": [str(repo)],
        "cwd": "",
    }
    shell = {**common, "hook_event_name": "beforeShellExecution", "command": "cat .env"}
    tool = {
        **common,
        "hook_event_name": "preToolUse",
        "tool_name": "Shell",
        "tool_input": {"command": "cat .env", "cwd": ""},
    }
    before = len(audit(repo))
    first = run_hook(repo, shell, platform="cursor")
    second = run_hook(repo, tool, platform="claude-code")  # sniffed: answered as Cursor
    for result in (first, second):
        assert json.loads(result.stdout)["permission"] == "deny"
    assert len(audit(repo)) == before + 1


def test_cline_scripts_stay_executable(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    run_fg("init", "--agents", "cline", cwd=tmp_path)
    scripts = list((tmp_path / ".clinerules" / "hooks").iterdir())
    assert scripts and all(p.stat().st_mode & stat.S_IXUSR for p in scripts)


def test_copilot_running_the_claude_hook_file_is_answered_as_copilot(repo: pathlib.Path) -> None:
    """Copilot CLI reads .claude/settings.json and sends its PascalCase form (§7.4)."""
    payload = {
        "hook_event_name": "PreToolUse",
        "session_id": "copilot-5678",
        "timestamp": "2026-11-27T10:00:00.000Z",
        "cwd": str(repo),
        "tool_name": "Bash",
        "tool_input": {"command": "cat .env"},
    }
    result = run_hook(repo, payload, platform="claude-code")
    answer = json.loads(result.stdout)
    assert answer["permissionDecision"] == "deny" and "FG201" in answer["permissionDecisionReason"]
    assert audit(repo)[-1]["platform"] == "copilot"
