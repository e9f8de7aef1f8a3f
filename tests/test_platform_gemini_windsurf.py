"""End to end through the installed ``flockguard-hook gemini-cli`` / ``flockguard-hook windsurf``.

Gemini CLI reads one JSON object from stdout whatever the exit code (research §3.5); Windsurf
reads only the exit code, 2 blocking with stderr as the reason (§5.5). Every test runs the real
console script in a fresh repository under the default policy, and the installers are checked by
running the command string they wrote, through a shell, as the agent would.
"""

from __future__ import annotations

import json
import pathlib
import re
import shlex
import subprocess
from typing import Any

import pytest

from conftest import PAYLOADS, audit, git_init, payload, run_fg, run_hook

GEMINI = "gemini-cli"
WINDSURF = "windsurf"
GEMINI_FIXTURES = sorted(p.stem for p in (PAYLOADS / GEMINI).glob("*.json"))
WINDSURF_FIXTURES = sorted(p.stem for p in (PAYLOADS / WINDSURF).glob("*.json"))
# the whole session_id / trajectory_id of the fixtures, never a prefix of it
GEMINI_AGENT = "gemini-cli:8a6c4f2e-91b3-4d7a-a5e0-3c2b1f9d8e70"
WINDSURF_AGENT = "windsurf:c7d1e4a9-2b6f-4e83-9a10-5f7e3d2c1b0a"


def gemini(name: str, repo: pathlib.Path, **tool_input: Any) -> dict[str, Any]:
    return payload(GEMINI, name, repo, **tool_input)


def windsurf(name: str, repo: pathlib.Path, **tool_info: Any) -> dict[str, Any]:
    document = payload(WINDSURF, name, repo)
    document["tool_info"] = {**document["tool_info"], **tool_info}
    return document


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


# ---- Gemini CLI: answers ----------------------------------------------------------------------


def gemini_answer(result: Any) -> dict[str, Any]:
    """Exit 0 and one JSON object on stdout: how Gemini reads every answer."""
    assert result.code == 0, result.stderr
    no_traceback(result)
    return result.json


def assert_gemini(result: Any, decision: str, *needles: str) -> str:
    document = gemini_answer(result)
    expected = {"decision", "reason"} | ({"systemMessage"} if decision == "ask" else set())
    assert set(document) == expected, document
    assert document["decision"] == decision
    reason = document["reason"]
    assert isinstance(reason, str)
    for needle in needles:
        assert needle in reason, f"{needle!r} not in reason {reason!r}"
    if decision == "ask":
        assert document["systemMessage"] == reason  # the person sees why too
    return reason


def assert_gemini_silent(result: Any) -> None:
    """``{}``: no decision, so Gemini's own policy engine and confirmations stay in charge."""
    assert gemini_answer(result) == {}, result.stdout


def test_gemini_fixture_set_is_complete() -> None:
    assert set(GEMINI_FIXTURES) == {
        "before-tool-write-file", "before-tool-replace", "before-tool-read-file",
        "before-tool-read-many-files", "before-tool-run-shell-command", "before-tool-grep-search",
        "before-tool-glob", "before-tool-list-directory", "before-tool-mcp",
        "after-tool-replace", "before-agent", "session-start", "session-end",
    }  # fmt: skip


@pytest.mark.parametrize("name", GEMINI_FIXTURES)
def test_gemini_fixture_payload_is_realistic(name: str, tmp_path: pathlib.Path) -> None:
    document = gemini(name, tmp_path)
    for field in ("session_id", "transcript_path", "cwd", "hook_event_name", "timestamp"):
        assert isinstance(document.get(field), str) and document[field], field
    assert document["cwd"] == str(tmp_path)
    if document["hook_event_name"] in ("BeforeTool", "AfterTool"):
        assert isinstance(document["tool_name"], str)
        assert isinstance(document["tool_input"], dict)


@pytest.mark.parametrize("name", GEMINI_FIXTURES)
def test_gemini_every_fixture_gets_a_valid_answer(name: str, repo: pathlib.Path) -> None:
    document = gemini_answer(run_hook(repo, gemini(name, repo), platform=GEMINI))
    assert document.get("decision") in (None, "deny", "ask")  # never allow / approve


@pytest.mark.parametrize("name", [n for n in GEMINI_FIXTURES if n.startswith("before-tool-")])
def test_gemini_unprotected_tool_use_is_left_to_gemini(name: str, repo: pathlib.Path) -> None:
    assert_gemini_silent(run_hook(repo, gemini(name, repo), platform=GEMINI))


@pytest.mark.parametrize("name", ["before-tool-write-file", "before-tool-replace"])
def test_gemini_write_to_policy_is_denied(name: str, repo: pathlib.Path) -> None:
    document = gemini(name, repo, file_path=str(repo / ".flockguard" / "config.toml"))
    assert_gemini(
        run_hook(repo, document, platform=GEMINI),
        "deny",
        "`.flockguard/config.toml`",
        "FG101 write-blocked",
        "docs/rules/FG101.md",
    )


def test_gemini_relative_write_to_policy_is_denied(repo: pathlib.Path) -> None:
    document = gemini("before-tool-write-file", repo, file_path=".flockguard/config.toml")
    assert_gemini(run_hook(repo, document, platform=GEMINI), "deny", "FG101")


def test_gemini_write_to_env_asks_a_person(repo: pathlib.Path) -> None:
    document = gemini("before-tool-write-file", repo, file_path=str(repo / ".env"))
    assert_gemini(
        run_hook(repo, document, platform=GEMINI),
        "ask",
        "`.env`",
        "FG102 write-needs-approval",
        "docs/rules/FG102.md",
    )


def test_gemini_edit_of_lockfile_is_allowed_with_a_warning(repo: pathlib.Path) -> None:
    document = gemini("before-tool-replace", repo, file_path=str(repo / "package-lock.json"))
    answer = gemini_answer(run_hook(repo, document, platform=GEMINI))
    assert set(answer) == {"systemMessage", "hookSpecificOutput"}, answer  # no decision
    specific = answer["hookSpecificOutput"]
    assert set(specific) == {"hookEventName", "additionalContext"}
    assert specific["hookEventName"] == "BeforeTool"
    for text in (answer["systemMessage"], specific["additionalContext"]):
        assert "FG103 write-audited" in text and "`package-lock.json`" in text


def test_gemini_write_to_source_is_allowed(repo: pathlib.Path) -> None:
    document = gemini("before-tool-write-file", repo, file_path=str(repo / "src" / "app.py"))
    assert_gemini_silent(run_hook(repo, document, platform=GEMINI))


@pytest.mark.parametrize(
    ("command", "needles"),
    [
        ("cat .env", ("`.env`", "FG201 read-denied")),
        ("echo x > .flockguard/config.toml", ("`.flockguard/config.toml`", "FG101")),
    ],
)
def test_gemini_shell_touching_protected_path_is_denied(
    command: str, needles: tuple[str, ...], repo: pathlib.Path
) -> None:
    document = gemini("before-tool-run-shell-command", repo, command=command)
    assert_gemini(run_hook(repo, document, platform=GEMINI), "deny", *needles)


def test_gemini_shell_runs_in_its_dir_path(repo: pathlib.Path) -> None:
    (repo / "src").mkdir()
    document = gemini("before-tool-run-shell-command", repo, command="cat ../.env", dir_path="src")
    assert_gemini(run_hook(repo, document, platform=GEMINI), "deny", "`.env`", "FG201")


@pytest.mark.parametrize(
    ("name", "tool_input"),
    [
        ("before-tool-read-file", {"file_path": "{repo}/.env"}),
        ("before-tool-read-file", {"file_path": ".env"}),  # relative to cwd
        ("before-tool-read-many-files", {"include": ["README.md", ".env"]}),
        ("before-tool-read-many-files", {"include": [".env*"]}),  # a glob aimed at secrets
        ("before-tool-grep-search", {"dir_path": "{repo}", "include_pattern": ".env*"}),
    ],
)
def test_gemini_read_of_secret_is_denied(
    name: str, tool_input: dict[str, Any], repo: pathlib.Path
) -> None:
    values = {
        k: json.loads(json.dumps(v).replace("{repo}", str(repo))) for k, v in tool_input.items()
    }
    document = gemini(name, repo, **values)
    assert_gemini(run_hook(repo, document, platform=GEMINI), "deny", "`.env`", "FG201")


def test_gemini_read_file_with_pre_2025_key_is_guarded(repo: pathlib.Path) -> None:
    document = gemini("before-tool-read-file", repo)
    document["tool_input"] = {"absolute_path": str(repo / ".env")}
    assert_gemini(run_hook(repo, document, platform=GEMINI), "deny", "FG201")


@pytest.mark.parametrize(
    "data",
    [
        b'{"hook_event_name": "BeforeTool", "tool_name": ',  # invalid JSON
        b"",
        b"[1, 2]",
        # a write_file call without its tool_input
        b'{"session_id": "s", "hook_event_name": "BeforeTool", "tool_name": "write_file"}',
    ],
)
def test_gemini_bad_input_blocks_without_traceback(data: bytes, repo: pathlib.Path) -> None:
    result = run_hook(repo, data, platform=GEMINI)
    # exit 2 with plain text on stderr and nothing on stdout: Gemini denies, text as reason
    assert result.code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "FG902" in result.stderr
    assert not result.stderr.lstrip().startswith("{")  # JSON would override the exit code
    no_traceback(result)


def test_gemini_session_start_briefs_the_agent(repo: pathlib.Path) -> None:
    answer = gemini_answer(run_hook(repo, gemini("session-start", repo), platform=GEMINI))
    assert list(answer) == ["hookSpecificOutput"], answer
    specific = answer["hookSpecificOutput"]
    assert specific["hookEventName"] == "SessionStart"
    assert GEMINI_AGENT in specific["additionalContext"]
    assert ".flockguard/**" in specific["additionalContext"]


@pytest.mark.parametrize("name", ["before-agent", "session-end", "after-tool-replace"])
def test_gemini_prompt_session_end_and_after_tool_pass(name: str, repo: pathlib.Path) -> None:
    answer = gemini_answer(run_hook(repo, gemini(name, repo), platform=GEMINI))
    assert "decision" not in answer


def test_gemini_after_tool_is_recorded_not_judged(repo: pathlib.Path) -> None:
    before = len(audit(repo))
    document = gemini("after-tool-replace", repo, file_path=str(repo / ".flockguard/config.toml"))
    assert "decision" not in gemini_answer(run_hook(repo, document, platform=GEMINI))
    [record] = audit(repo)[before:]
    assert (record["kind"], record["event"], record["tool"]) == ("post", "AfterTool", "replace")


def test_gemini_audit_names_the_agent(repo: pathlib.Path) -> None:
    before = len(audit(repo))
    runs = [
        gemini("before-tool-write-file", repo, file_path=str(repo / ".flockguard/config.toml")),
        gemini("before-tool-run-shell-command", repo, command="cat .env"),
        gemini("before-tool-mcp", repo),
        gemini("session-start", repo),
    ]
    for document in runs:
        assert run_hook(repo, document, platform=GEMINI).code == 0
    records = audit(repo)[before:]
    assert [r["kind"] for r in records] == ["write", "shell", "other", "session-start"]
    for record in records:
        assert record["platform"] == GEMINI
        assert record["agent"] == GEMINI_AGENT
        assert record["session"] == "8a6c4f2e-91b3-4d7a-a5e0-3c2b1f9d8e70"
    assert [r["outcome"] for r in records[:2]] == ["deny", "deny"]
    assert records[2]["tool"] == "mcp_github_create_issue"


# ---- Windsurf: answers ------------------------------------------------------------------------


def assert_blocked(result: Any, *needles: str) -> str:
    """Exit 2, nothing on stdout, the reason on stderr: the only way Windsurf blocks."""
    assert result.code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    no_traceback(result)
    for needle in needles:
        assert needle in result.stderr, f"{needle!r} not in {result.stderr!r}"
    return result.stderr


def assert_passes(result: Any) -> None:
    assert result.code == 0, result.stderr
    no_traceback(result)


def test_windsurf_fixture_set_is_complete() -> None:
    assert set(WINDSURF_FIXTURES) == {
        "pre-read-code", "pre-write-code", "pre-run-command", "pre-mcp-tool-use",
        "pre-user-prompt", "post-write-code", "post-run-command",
    }  # fmt: skip


@pytest.mark.parametrize("name", WINDSURF_FIXTURES)
def test_windsurf_fixture_payload_is_realistic(name: str, tmp_path: pathlib.Path) -> None:
    document = windsurf(name, tmp_path)
    assert document["agent_action_name"] == name.replace("-", "_")
    for field in ("trajectory_id", "execution_id", "timestamp"):
        assert isinstance(document.get(field), str) and document[field], field
    assert isinstance(document["tool_info"], dict)
    if "file_path" in document["tool_info"]:
        assert document["tool_info"]["file_path"].startswith(f"{tmp_path}/")


@pytest.mark.parametrize("name", WINDSURF_FIXTURES)
def test_windsurf_every_fixture_passes(name: str, repo: pathlib.Path) -> None:
    result = run_hook(repo, windsurf(name, repo), platform=WINDSURF)
    assert_passes(result)
    assert result.stderr == ""


def test_windsurf_write_to_policy_is_blocked(repo: pathlib.Path) -> None:
    document = windsurf("pre-write-code", repo, file_path=str(repo / ".flockguard/config.toml"))
    assert_blocked(
        run_hook(repo, document, platform=WINDSURF),
        "`.flockguard/config.toml`",
        "FG101 write-blocked",
        "docs/rules/FG101.md",
    )


def approval_id(stderr: str) -> str:
    match = re.search(r"`flockguard approve ([0-9a-f]{8})`", stderr)
    assert match, stderr
    return match.group(1)


def test_windsurf_write_to_env_needs_an_approval_id(repo: pathlib.Path) -> None:
    document = windsurf("pre-write-code", repo, file_path=str(repo / ".env"))
    first = assert_blocked(run_hook(repo, document, platform=WINDSURF), "`.env`", "FG102")
    approval = approval_id(first)
    # asked again before anyone approved: the same id, still refused
    again = assert_blocked(run_hook(repo, document, platform=WINDSURF), "FG102")
    assert approval_id(again) == approval
    listing = run_fg("approve", "--list", cwd=repo).stdout
    assert approval in listing and WINDSURF in listing and WINDSURF_AGENT in listing

    assert json.loads(run_fg("approve", approval, cwd=repo).stdout) == {"approved": approval}
    retry = run_hook(repo, document, platform=WINDSURF)
    assert_passes(retry)  # allowed once
    assert retry.stderr == ""
    assert approval_id(assert_blocked(run_hook(repo, document, platform=WINDSURF))) == approval

    outcomes = [r["outcome"] for r in audit(repo) if r["platform"] == WINDSURF]
    assert outcomes[-4:] == ["deny", "deny", "allow", "deny"]


def test_windsurf_edit_of_lockfile_is_allowed_with_a_warning(repo: pathlib.Path) -> None:
    document = windsurf("pre-write-code", repo, file_path=str(repo / "package-lock.json"))
    result = run_hook(repo, document, platform=WINDSURF)
    assert_passes(result)
    assert result.stderr == ""
    assert "FG103 write-audited" in result.stdout and "`package-lock.json`" in result.stdout


def test_windsurf_write_to_source_is_allowed_silently(repo: pathlib.Path) -> None:
    document = windsurf("pre-write-code", repo, file_path=str(repo / "src" / "app.py"))
    result = run_hook(repo, document, platform=WINDSURF)
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("key", ["command_line", "command"])  # `command`: older payloads
def test_windsurf_shell_reading_env_is_blocked(key: str, repo: pathlib.Path) -> None:
    document = windsurf("pre-run-command", repo)
    document["tool_info"] = {key: "cat .env", "cwd": str(repo)}
    assert_blocked(run_hook(repo, document, platform=WINDSURF), "`.env`", "FG201 read-denied")


def test_windsurf_shell_resolves_against_its_cwd(repo: pathlib.Path) -> None:
    (repo / "src").mkdir()
    document = windsurf("pre-run-command", repo, command_line="cat ../.env", cwd=str(repo / "src"))
    assert_blocked(run_hook(repo, document, platform=WINDSURF), "`.env`", "FG201")


@pytest.mark.parametrize("path", [".env", "certs/server.pem"])
def test_windsurf_read_of_secret_is_blocked(path: str, repo: pathlib.Path) -> None:
    document = windsurf("pre-read-code", repo, file_path=str(repo / path))
    assert_blocked(run_hook(repo, document, platform=WINDSURF), f"`{path}`", "FG201")


@pytest.mark.parametrize(
    "data",
    [
        b'{"agent_action_name": "pre_write_code", ',  # invalid JSON
        b"",
        b'"pre_write_code"',
        b'{"agent_action_name": "pre_write_code", "trajectory_id": "t"}',  # no tool_info
        b'{"agent_action_name": "pre_run_command", "trajectory_id": "t", "tool_info": {}}',
    ],
)
def test_windsurf_bad_input_blocks_without_traceback(data: bytes, repo: pathlib.Path) -> None:
    assert_blocked(run_hook(repo, data, platform=WINDSURF), "FG902")


def test_windsurf_post_events_are_recorded_not_judged(repo: pathlib.Path) -> None:
    before = len(audit(repo))
    document = windsurf("post-write-code", repo, file_path=str(repo / ".flockguard/config.toml"))
    assert_passes(run_hook(repo, document, platform=WINDSURF))
    [record] = audit(repo)[before:]
    assert (record["kind"], record["event"]) == ("post", "post_write_code")


def test_windsurf_audit_names_the_agent(repo: pathlib.Path) -> None:
    before = len(audit(repo))
    runs = [
        windsurf("pre-write-code", repo, file_path=str(repo / ".flockguard/config.toml")),
        windsurf("pre-run-command", repo, command_line="cat .env"),
        windsurf("pre-read-code", repo),
        windsurf("pre-mcp-tool-use", repo),
        windsurf("pre-user-prompt", repo),
    ]
    for document in runs:
        run_hook(repo, document, platform=WINDSURF)
    records = audit(repo)[before:]
    assert [r["kind"] for r in records] == ["write", "shell", "read", "other", "prompt"]
    assert [r["outcome"] for r in records] == ["deny", "deny", "allow", "allow", "allow"]
    for record in records:
        assert record["platform"] == WINDSURF
        assert record["agent"] == WINDSURF_AGENT
        assert record["session"] == "c7d1e4a9-2b6f-4e83-9a10-5f7e3d2c1b0a"
    assert [r["tool"] for r in records[:4]] == [
        "write_code", "run_command", "read_code", "mcp:github/create_issue",
    ]  # fmt: skip


# ---- installers -------------------------------------------------------------------------------

GEMINI_FOREIGN = """{
  "theme": "GitHub",
  "general": {"vimMode": true},
  "hooksConfig": {"enabled": true},
  "hooks": {
    "BeforeTool": [
      {"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "./lint.sh"}]}
    ],
    "AfterAgent": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
  }
}
"""
WINDSURF_FOREIGN = """{
    "hooks": {
        "pre_run_command": [{"command": "python3 ~/bin/audit.py", "show_output": false}],
        "post_cascade_response": [{"command": "notify-send done"}]
    }
}
"""
INSTALLS = {
    GEMINI: (".gemini/settings.json", GEMINI_FOREIGN),
    WINDSURF: (".windsurf/hooks.json", WINDSURF_FOREIGN),
}
GEMINI_EVENTS = {"BeforeTool", "AfterTool", "BeforeAgent", "SessionStart", "SessionEnd"}
WINDSURF_EVENTS = {
    "pre_read_code", "pre_write_code", "pre_run_command", "pre_mcp_tool_use", "pre_user_prompt",
    "post_write_code", "post_run_command",
}  # fmt: skip


def managed(platform: str, settings: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Our handlers by event (for Gemini with their group's matcher)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for event, entries in settings.get("hooks", {}).items():
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if platform == GEMINI:
                handlers = [{**h, "matcher": entry.get("matcher")} for h in entry["hooks"]]
            else:
                handlers = [entry]
            for handler in handlers:
                if handler.get("command", "").endswith("# flockguard:managed"):
                    found.setdefault(event, []).append(handler)
    return found


def deny_payload(platform: str, root: pathlib.Path) -> dict[str, Any]:
    target = str(root / ".flockguard" / "config.toml")
    if platform == GEMINI:
        return gemini("before-tool-write-file", root, file_path=target)
    return windsurf("pre-write-code", root, file_path=target)


def run_as_agent(command: str, document: dict[str, Any], cwd: pathlib.Path) -> Any:
    """The command string from the config, through a shell (Gemini: `bash -c`)."""
    return subprocess.run(
        ["/bin/sh", "-c", command],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize("platform", [GEMINI, WINDSURF])
def test_install_wires_every_event_and_the_command_guards(
    platform: str, tmp_path: pathlib.Path
) -> None:
    git_init(tmp_path)
    run_fg("init", "--agents", platform, cwd=tmp_path)
    relative, _ = INSTALLS[platform]
    wired = managed(platform, json.loads((tmp_path / relative).read_text()))
    assert set(wired) == (GEMINI_EVENTS if platform == GEMINI else WINDSURF_EVENTS)
    assert all(len(handlers) == 1 for handlers in wired.values())
    commands = {h["command"] for handlers in wired.values() for h in handlers}
    assert len(commands) == 1
    [command] = commands
    hook = shlex.split(command, comments=True)
    assert pathlib.Path(hook[0]).is_absolute() and hook[1:] == [platform]
    if platform == GEMINI:
        before = wired["BeforeTool"][0]
        assert before["type"] == "command" and before["name"] == "flockguard"
        assert 1000 <= before["timeout"] <= 60_000  # milliseconds
        every_tool = [gemini(n, tmp_path) for n in GEMINI_FIXTURES if n.startswith("before-tool")]
        assert all(re.search(before["matcher"], d["tool_name"]) for d in every_tool)
        after = wired["AfterTool"][0]["matcher"]
        assert all(re.search(after, t) for t in ("write_file", "replace", "run_shell_command"))
        assert not re.search(after, "read_file")
        assert all(wired[e][0]["matcher"] is None for e in ("SessionStart", "BeforeAgent"))
    else:
        assert all(h == {"command": command, "show_output": True} for h in commands_of(wired))

    proc = run_as_agent(command, deny_payload(platform, tmp_path), tmp_path)
    assert "Traceback" not in proc.stderr
    if platform == GEMINI:
        assert proc.returncode == 0, proc.stderr
        answer = json.loads(proc.stdout)
        assert answer["decision"] == "deny" and "FG101 write-blocked" in answer["reason"]
    else:
        assert proc.returncode == 2 and proc.stdout == ""
        assert "FG101 write-blocked" in proc.stderr


def commands_of(wired: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [handler for handlers in wired.values() for handler in handlers]


@pytest.mark.parametrize("platform", [GEMINI, WINDSURF])
def test_install_keeps_foreign_entries_is_idempotent_and_uninstall_restores_bytes(
    platform: str, tmp_path: pathlib.Path
) -> None:
    git_init(tmp_path)
    relative, foreign = INSTALLS[platform]
    path = tmp_path / relative
    path.parent.mkdir()
    path.write_text(foreign)

    run_fg("init", "--agents", platform, cwd=tmp_path)
    installed = path.read_bytes()
    settings = json.loads(installed)
    original = json.loads(foreign)
    for key in original:
        if key != "hooks":
            assert settings[key] == original[key], key
    for event, entries in original["hooks"].items():
        assert settings["hooks"][event][: len(entries)] == entries, event  # theirs first, kept
    assert managed(platform, settings)

    second = run_fg("init", "--agents", platform, cwd=tmp_path)
    assert path.read_bytes() == installed
    [line] = [line for line in second.stdout.splitlines() if relative in line]
    assert "unchanged" in line, second.stdout

    run_fg("uninstall", "--agents", platform, cwd=tmp_path)
    assert path.read_bytes() == foreign.encode()
    run_fg("uninstall", "--agents", platform, cwd=tmp_path)  # nothing left to remove
    assert path.read_bytes() == foreign.encode()


@pytest.mark.parametrize("platform", [GEMINI, WINDSURF])
def test_uninstall_removes_a_config_file_it_created(platform: str, tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    relative, _ = INSTALLS[platform]
    run_fg("init", "--agents", platform, cwd=tmp_path)
    assert (tmp_path / relative).exists()
    run_fg("uninstall", "--agents", platform, cwd=tmp_path)
    assert not (tmp_path / relative).exists()
    assert not (tmp_path / relative).parent.exists()
    assert (tmp_path / ".flockguard" / "config.toml").exists()  # the policy stays


@pytest.mark.parametrize("platform", [GEMINI, WINDSURF])
def test_uninstall_after_the_user_edited_keeps_their_edit(
    platform: str, tmp_path: pathlib.Path
) -> None:
    git_init(tmp_path)
    relative, _ = INSTALLS[platform]
    path = tmp_path / relative
    run_fg("init", "--agents", platform, cwd=tmp_path)
    document = json.loads(path.read_text())
    mine: dict[str, Any] = (
        {"matcher": "write_file", "hooks": [{"type": "command", "command": "fmt"}]}
        if platform == GEMINI
        else {"command": "fmt"}
    )
    event = "BeforeTool" if platform == GEMINI else "pre_write_code"
    document["hooks"][event].append(mine)
    path.write_text(json.dumps(document, indent=2) + "\n")
    run_fg("uninstall", "--agents", platform, cwd=tmp_path)
    assert json.loads(path.read_text()) == {"hooks": {event: [mine]}}
