"""`flockguard init` / `uninstall` against real files, run as the installed CLI."""

from __future__ import annotations

import json
import pathlib
import shlex
import subprocess

from conftest import claude, git_init, run_fg

CLAUDE_EVENTS = ("PreToolUse", "PostToolUse", "SessionStart", "SessionEnd", "UserPromptSubmit")

FOREIGN = """{
    "permissions": {"allow": ["Bash(ls)"], "deny": ["Read(./secrets/**)"]},
    "model": "opus",
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "my-lint"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
    }
}
"""


def ours(settings: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for event, groups in settings.get("hooks", {}).items():
        for group in groups:
            for handler in group["hooks"]:
                if "flockguard:managed" in handler.get("command", ""):
                    found.setdefault(event, []).append({**handler, "matcher": group.get("matcher")})
    return found


def test_init_writes_policy_gitignore_state_and_every_claude_event(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    run_fg("init", cwd=tmp_path)
    config = tmp_path / ".flockguard" / "config.toml"
    assert "[write.flockguard]" in config.read_text()
    assert (tmp_path / ".flockguard" / "state").is_dir()
    assert ".flockguard/state/" in (tmp_path / ".gitignore").read_text().splitlines()
    settings = json.loads((tmp_path / ".claude" / "settings.json").read_text())
    wired = ours(settings)
    assert sorted(wired) == sorted(CLAUDE_EVENTS)
    assert all(len(handlers) == 1 for handlers in wired.values())
    pre = wired["PreToolUse"][0]
    assert pre["matcher"] == "*" and pre["type"] == "command" and pre["timeout"] > 0
    hook = shlex.split(pre["command"], comments=True)
    assert pathlib.Path(hook[0]).is_absolute() and hook[1:] == ["claude-code"]


def test_init_twice_changes_nothing(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    (tmp_path / ".gitignore").write_text("node_modules/")  # no trailing newline
    run_fg("init", cwd=tmp_path)
    files = [".claude/settings.json", ".flockguard/config.toml", ".gitignore"]
    first = {name: (tmp_path / name).read_bytes() for name in files}
    second = run_fg("init", cwd=tmp_path)
    assert {name: (tmp_path / name).read_bytes() for name in files} == first
    assert "written" not in second.stdout
    assert (tmp_path / ".gitignore").read_text() == (
        "node_modules/\n# flockguard's runtime state (audit log, locks)\n.flockguard/state/\n"
    )


def test_init_keeps_foreign_entries_and_an_edited_policy(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(FOREIGN)
    (tmp_path / ".flockguard").mkdir()
    (tmp_path / ".flockguard" / "config.toml").write_text(
        'version = 1\n[read.s]\ntier = "deny"\npatterns = ["x"]\n'
    )
    run_fg("init", cwd=tmp_path)
    settings = json.loads((tmp_path / ".claude" / "settings.json").read_text())
    before = json.loads(FOREIGN)
    assert settings["permissions"] == before["permissions"] and settings["model"] == "opus"
    assert settings["hooks"]["Stop"] == before["hooks"]["Stop"]
    assert settings["hooks"]["PreToolUse"][0] == before["hooks"]["PreToolUse"][0]
    assert len(settings["hooks"]["PreToolUse"]) == 2
    assert 'patterns = ["x"]' in (tmp_path / ".flockguard" / "config.toml").read_text()


def test_uninstall_gives_back_the_exact_bytes(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(FOREIGN)
    run_fg("init", cwd=tmp_path)
    assert settings.read_text() != FOREIGN
    run_fg("uninstall", cwd=tmp_path)
    assert settings.read_bytes() == FOREIGN.encode()


def test_uninstall_removes_a_settings_file_it_created(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    run_fg("init", cwd=tmp_path)
    run_fg("uninstall", cwd=tmp_path)
    assert not (tmp_path / ".claude").exists()
    assert (tmp_path / ".flockguard" / "config.toml").exists()  # the policy stays


def test_uninstall_after_the_user_edited_keeps_their_edit(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    run_fg("init", cwd=tmp_path)
    path = tmp_path / ".claude" / "settings.json"
    document = json.loads(path.read_text())
    document["env"] = {"FOO": "1"}
    document["hooks"]["PreToolUse"].append(
        {"matcher": "Edit", "hooks": [{"type": "command", "command": "fmt"}]}
    )
    path.write_text(json.dumps(document, indent=2) + "\n")
    run_fg("uninstall", cwd=tmp_path)
    left = json.loads(path.read_text())
    assert left == {
        "env": {"FOO": "1"},
        "hooks": {
            "PreToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "fmt"}]}]
        },
    }


def test_invalid_settings_json_is_named_and_left_alone(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{"hooks": {,}')
    proc = run_fg("init", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "settings.json" in proc.stderr and "not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert settings.read_text() == '{"hooks": {,}'


def test_unknown_agent_is_refused(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    proc = run_fg("init", "--agents", "claude-code,nosuch", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "nosuch" in proc.stderr and "claude-code" in proc.stderr
    assert not (tmp_path / ".claude").exists()


def test_the_installed_command_is_what_guards(tmp_path: pathlib.Path) -> None:
    """Run the hook exactly as Claude Code would: the settings' command string, via a shell."""
    git_init(tmp_path)
    run_fg("init", cwd=tmp_path)
    settings = json.loads((tmp_path / ".claude" / "settings.json").read_text())
    command = ours(settings)["PreToolUse"][0]["command"]
    payload = claude(tmp_path, "Write", file_path=str(tmp_path / ".claude" / "settings.json"))
    proc = subprocess.run(
        ["/bin/sh", "-c", command],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "deny"
    assert "FG101 write-blocked" in answer["permissionDecisionReason"]
