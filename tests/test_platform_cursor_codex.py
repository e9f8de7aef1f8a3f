"""End to end through the installed ``flockguard-hook cursor`` and ``flockguard-hook codex``.

Exact output formats (research/hook-protocols.md §4.5 and §6.5), approval ids in place of `ask`
(neither agent can ask a person), the audit log, Cursor's double firing of one shell command, and
the installers: the command they write is run exactly as written, via a shell.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
from typing import Any

import pytest

from conftest import PAYLOADS, HookResult, audit, git_init, payload, run_fg, run_hook

CURSOR_SESSION = "7c1d9e42-5b3a-4f6e-8a21-0d9c3b7e4f15"
CODEX_SESSION = "019f25aa-985b-7510-99a7-157901d23b14"
# the whole session id, never a prefix (time-ordered ids share their first characters)
CURSOR_AGENT = f"cursor:{CURSOR_SESSION}"
CODEX_AGENT = f"codex:{CODEX_SESSION}"
APPROVAL = re.compile(r"flockguard approve ([0-9a-f]{8})")


def cursor(name: str, repo: pathlib.Path, **fields: Any) -> dict[str, Any]:
    """Cursor fixture ``name``; keyword arguments override top-level fields."""
    return payload("cursor", name, repo) | fields


def cursor_tool(name: str, repo: pathlib.Path, **tool_input: Any) -> dict[str, Any]:
    return payload("cursor", name, repo, **tool_input)


def codex(name: str, repo: pathlib.Path, **tool_input: Any) -> dict[str, Any]:
    return payload("codex", name, repo, **tool_input)


def patch(*lines: str) -> str:
    return "\n".join(["*** Begin Patch", *lines, "*** End Patch", ""])


def run(repo: pathlib.Path, document: dict[str, Any] | str | bytes, platform: str) -> HookResult:
    result = run_hook(repo, document, platform=platform)
    assert "Traceback" not in result.stdout + result.stderr
    return result


# ---- Cursor: answers ---------------------------------------------------------------------------


def cursor_answer(result: HookResult) -> dict[str, Any]:
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    assert "hookSpecificOutput" not in document  # Cursor reads flat snake_case fields
    return document


def assert_cursor_deny(result: HookResult, *needles: str) -> str:
    document = cursor_answer(result)
    assert set(document) == {"permission", "user_message", "agent_message"}, document
    assert document["permission"] == "deny"
    reason = document["user_message"]  # what the model actually sees
    assert reason == document["agent_message"]
    for needle in needles:
        assert needle in reason, f"{needle!r} not in {reason!r}"
    return str(reason)


def assert_cursor_allow(result: HookResult) -> None:
    # an explicit allow on every gate: under failClosed an empty answer would block
    assert cursor_answer(result) == {"permission": "allow"}


CURSOR_FIXTURES = sorted(p.stem for p in (PAYLOADS / "cursor").glob("*.json"))
CURSOR_GATES = ["pre-write", "pre-read", "pre-grep", "pre-shell", "before-shell",
                "before-read-file", "before-mcp"]  # fmt: skip


def test_cursor_fixture_set_is_complete() -> None:
    others = {"after-file-edit", "post-tool-use", "before-submit-prompt", "session-start"}
    assert set(CURSOR_FIXTURES) == {*CURSOR_GATES, *others, "session-end"}


@pytest.mark.parametrize("name", CURSOR_FIXTURES)
def test_cursor_every_fixture_gets_a_flat_json_answer(name: str, repo: pathlib.Path) -> None:
    document = cursor(name, repo)
    assert document["conversation_id"] == CURSOR_SESSION
    assert document["workspace_roots"] == [str(repo)]
    answer = cursor_answer(run(repo, document, "cursor"))
    if name in CURSOR_GATES:
        assert answer == {"permission": "allow"}
    elif name == "before-submit-prompt":
        assert answer == {"continue": True}
    elif name == "session-start":
        assert set(answer) == {"additional_context"}
        assert f"you are agent `{CURSOR_AGENT}`" in answer["additional_context"]
    else:
        assert answer == {}


def test_cursor_write_to_policy_is_denied(repo: pathlib.Path) -> None:
    document = cursor_tool("pre-write", repo, file_path=str(repo / ".flockguard/config.toml"))
    assert_cursor_deny(
        run(repo, document, "cursor"),
        "`.flockguard/config.toml`",
        "FG101 write-blocked",
        "docs/rules/FG101.md",
    )


def test_cursor_write_to_env_needs_an_approval_id_then_passes_once(repo: pathlib.Path) -> None:
    document = cursor_tool("pre-write", repo, file_path=str(repo / ".env"))
    reason = assert_cursor_deny(run(repo, document, "cursor"), "`.env`", "FG102")
    [approval] = APPROVAL.findall(reason)
    again = assert_cursor_deny(run(repo, document, "cursor"), "FG102")  # not approved yet
    assert APPROVAL.findall(again) == [approval]  # the same action keeps its id
    run_fg("approve", approval, cwd=repo)
    assert_cursor_allow(run(repo, document, "cursor"))
    assert_cursor_deny(run(repo, document, "cursor"), "FG102", approval)  # once only


def test_cursor_write_to_lockfile_is_allowed_with_a_warning(repo: pathlib.Path) -> None:
    document = cursor_tool("pre-write", repo, file_path=str(repo / "package-lock.json"))
    answer = cursor_answer(run(repo, document, "cursor"))
    assert set(answer) == {"permission", "user_message", "agent_message"}
    assert answer["permission"] == "allow"
    assert "FG103 write-audited" in answer["user_message"]
    assert answer["agent_message"] == answer["user_message"]


def test_cursor_ordinary_write_is_allowed(repo: pathlib.Path) -> None:
    assert_cursor_allow(run(repo, cursor("pre-write", repo), "cursor"))


@pytest.mark.parametrize(
    ("command", "needles"),
    [
        ("cat .env", ("`.env`", "FG201 read-denied")),
        ("echo x >> .flockguard/config.toml", ("`.flockguard/config.toml`", "FG101")),
    ],
)
def test_cursor_shell_touching_protected_path_is_denied(
    command: str, needles: tuple[str, ...], repo: pathlib.Path
) -> None:
    document = cursor("before-shell", repo, command=command)
    assert_cursor_deny(run(repo, document, "cursor"), *needles)


def test_cursor_empty_cwd_resolves_against_the_workspace_root(
    repo: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    document = cursor("before-shell", repo, command="cat .env")
    assert document["cwd"] == ""
    result = run_hook(repo, document, platform="cursor", cwd=elsewhere)
    assert_cursor_deny(result, "`.env`", "FG201")
    assert audit(repo)[-1]["cwd"] == str(repo)


@pytest.mark.parametrize("name", ["pre-read", "before-read-file"])
def test_cursor_read_of_secret_is_denied(name: str, repo: pathlib.Path) -> None:
    path = str(repo / ".env")
    document = cursor_tool(name, repo, file_path=path) if name == "pre-read" else None
    document = document or cursor(name, repo, file_path=path)
    assert_cursor_deny(run(repo, document, "cursor"), "`.env`", "FG201")


def test_cursor_grep_in_env_is_denied(repo: pathlib.Path) -> None:
    document = cursor_tool("pre-grep", repo, file_path=str(repo / ".env"))
    assert_cursor_deny(run(repo, document, "cursor"), "`.env`", "FG201")


def test_cursor_prompt_and_session_end_pass(repo: pathlib.Path) -> None:
    assert cursor_answer(run(repo, cursor("before-submit-prompt", repo), "cursor")) == {
        "continue": True
    }
    assert cursor_answer(run(repo, cursor("session-end", repo), "cursor")) == {}


def test_cursor_after_file_edit_is_recorded_not_judged(repo: pathlib.Path) -> None:
    before = len(audit(repo))
    document = cursor("after-file-edit", repo, file_path=str(repo / ".flockguard/config.toml"))
    assert cursor_answer(run(repo, document, "cursor")) == {}
    [record] = audit(repo)[before:]
    assert (record["kind"], record["outcome"]) == ("post", "allow")
    assert record["event"] == "afterFileEdit"


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [
        (b"", "empty stdin"),
        (b'{"conversation_id": ', "invalid JSON"),
        (b"[]", "expected a JSON object"),
        (json.dumps({"conversation_id": CURSOR_SESSION}).encode(), "hook_event_name"),
        (json.dumps({"hook_event_name": "beforeShellExecution"}).encode(), "'command'"),
        (
            json.dumps({"hook_event_name": "preToolUse", "tool_name": "Write"}).encode(),
            "tool_input",
        ),
    ],
)
def test_cursor_unreadable_input_blocks(stdin: bytes, needle: str, repo: pathlib.Path) -> None:
    before = len(audit(repo))
    result = run(repo, stdin, "cursor")
    assert result.code == 2  # exit 2 blocks whatever the event, and is decisive under failClosed
    assert needle in result.stdout  # Cursor shows exit 2's stdout as the reason
    assert needle in result.stderr
    assert "FG902" in result.stdout
    [record] = audit(repo)[before:]
    assert record["outcome"] == "deny"
    assert record["findings"][0]["code"] == "FG902"


# ---- Cursor: one shell command, two events ------------------------------------------------------


def cursor_fires(hooks: dict[str, Any], shell_command: str) -> list[tuple[str, str]]:
    """Our handlers Cursor spawns for one Shell tool call: (event, command) pairs.

    Cursor fires preToolUse (matcher tested against the tool type, here ``Shell``) and then
    beforeShellExecution (matcher tested against the command text).
    """
    fired = []
    for event, subject in (("preToolUse", "Shell"), ("beforeShellExecution", shell_command)):
        for handler in hooks.get(event, []):
            if "flockguard:managed" not in handler["command"]:
                continue
            matcher = handler.get("matcher")
            if matcher is None or re.search(matcher, subject):
                fired.append((event, handler["command"]))
    return fired


def test_cursor_one_shell_command_gives_one_audit_record(repo: pathlib.Path) -> None:
    """As installed, a shell command reaches flockguard once: one record, one refusal."""
    run_fg("init", "--agents", "cursor", cwd=repo)
    hooks = json.loads((repo / ".cursor" / "hooks.json").read_text())["hooks"]
    fired = cursor_fires(hooks, "cat .env")
    assert [event for event, _ in fired] == ["beforeShellExecution"]
    # ... while a Write still reaches preToolUse, the only pre-write event Cursor has
    assert any(re.search(h.get("matcher", ""), "Write") for h in hooks["preToolUse"])
    before = len(audit(repo))
    generation = {"generation_id": "f7746f6e-0000-4000-8000-000000000001"}
    documents = {
        "preToolUse": cursor_tool("pre-shell", repo, command="cat .env") | generation,
        "beforeShellExecution": cursor("before-shell", repo, command="cat .env") | generation,
    }
    for event, command in fired:
        proc = subprocess.run(
            ["/bin/sh", "-c", command],
            input=json.dumps(documents[event]),
            capture_output=True,
            text=True,
            cwd=repo,
            check=False,
        )
        assert json.loads(proc.stdout)["permission"] == "deny"
    [record] = audit(repo)[before:]
    assert (record["event"], record["kind"], record["outcome"]) == (
        "beforeShellExecution", "shell", "deny",
    )  # fmt: skip
    assert record["agent"] == CURSOR_AGENT


def test_cursor_pre_tool_use_shell_is_judged_when_it_comes(repo: pathlib.Path) -> None:
    """Cursor runs Claude Code's hook files as preToolUse alone: a Shell there is judged too."""
    document = cursor_tool("pre-shell", repo, command="cat .env")
    assert_cursor_deny(run(repo, document, "cursor"), "`.env`", "FG201")
    assert_cursor_allow(run(repo, cursor_tool("pre-shell", repo, command="git status"), "cursor"))
    pascal = document | {"hook_event_name": "PreToolUse"}
    assert_cursor_deny(run(repo, pascal, "cursor"), "`.env`", "FG201")


def test_cursor_running_claude_code_hook_files_is_answered_as_cursor(repo: pathlib.Path) -> None:
    """`flockguard-hook claude-code` fed a Cursor payload (.claude/settings.json run by Cursor)."""
    document = cursor_tool("pre-shell", repo, command="cat .env")
    result = run_hook(repo, document, platform="claude-code")
    assert_cursor_deny(result, "`.env`", "FG201")
    assert audit(repo)[-1]["agent"] == CURSOR_AGENT


# ---- Codex: answers ----------------------------------------------------------------------------


def assert_codex_deny(result: HookResult, *needles: str) -> str:
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    # exactly this: Codex fails (and so lets through) an answer with any field it does not know
    assert list(document) == ["hookSpecificOutput"], document
    specific = document["hookSpecificOutput"]
    assert list(specific) == ["hookEventName", "permissionDecision", "permissionDecisionReason"]
    assert specific["hookEventName"] == "PreToolUse"
    assert specific["permissionDecision"] == "deny"
    reason = specific["permissionDecisionReason"]
    assert reason.strip()
    for needle in needles:
        assert needle in reason, f"{needle!r} not in {reason!r}"
    return str(reason)


def assert_codex_allow(result: HookResult) -> None:
    # no output at all: Codex rejects permissionDecision "allow" without updatedInput
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


CODEX_FIXTURES = sorted(p.stem for p in (PAYLOADS / "codex").glob("*.json"))


def test_codex_fixture_set_is_complete() -> None:
    assert set(CODEX_FIXTURES) == {
        *("pre-bash", "pre-apply-patch", "pre-mcp", "post-apply-patch"),
        *("user-prompt-submit", "session-start", "session-end"),
    }


@pytest.mark.parametrize("name", CODEX_FIXTURES)
def test_codex_every_fixture_gets_a_valid_answer(name: str, repo: pathlib.Path) -> None:
    document = codex(name, repo)
    assert document["session_id"] == CODEX_SESSION and document["cwd"] == str(repo)
    result = run(repo, document, "codex")
    if name.startswith(("pre-", "post-")) or name == "session-end":
        assert_codex_allow(result)
        return
    assert result.code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert list(answer) == ["hookSpecificOutput"]
    specific = answer["hookSpecificOutput"]
    assert set(specific) == {"hookEventName", "additionalContext"}
    assert specific["hookEventName"] == document["hook_event_name"]


def test_codex_session_start_names_the_agent(repo: pathlib.Path) -> None:
    result = run(repo, codex("session-start", repo), "codex")
    context = json.loads(result.stdout)["hookSpecificOutput"]["additionalContext"]
    assert f"you are agent `{CODEX_AGENT}`" in context


@pytest.mark.parametrize(
    "lines",
    [
        ("*** Update File: .flockguard/config.toml", "@@", "-version = 1", "+version = 2"),
        ("*** Add File: src/ok.py", "+x = 1", "*** Update File: .flockguard/config.toml", "@@",
         "-a", "+b"),
        ("*** Delete File: .flockguard/config.toml",),
        ("*** Update File: .flockguard/config.toml", "*** Move to: src/config.toml", "@@", "-a",
         "+b"),
    ],
    ids=["update", "second-file", "delete", "move-away"],
)  # fmt: skip
def test_codex_patch_of_policy_is_denied(lines: tuple[str, ...], repo: pathlib.Path) -> None:
    document = codex("pre-apply-patch", repo, command=patch(*lines))
    assert_codex_deny(
        run(repo, document, "codex"),
        "`.flockguard/config.toml`",
        "FG101 write-blocked",
        "docs/rules/FG101.md",
    )


def test_codex_patch_context_lines_are_not_headers(repo: pathlib.Path) -> None:
    text = patch("*** Update File: src/app.py", "@@", " *** Delete File: .git/config", "-a", "+b")
    assert_codex_allow(run(repo, codex("pre-apply-patch", repo, command=text), "codex"))


def test_codex_patch_adding_env_needs_an_approval_id_then_passes_once(repo: pathlib.Path) -> None:
    document = codex("pre-apply-patch", repo, command=patch("*** Add File: .env", "+TOKEN=x"))
    reason = assert_codex_deny(run(repo, document, "codex"), "`.env`", "FG102")
    [approval] = APPROVAL.findall(reason)
    run_fg("approve", approval, cwd=repo)
    assert_codex_allow(run(repo, document, "codex"))
    assert_codex_deny(run(repo, document, "codex"), "FG102", approval)  # once only
    records = [r for r in audit(repo) if r["platform"] == "codex"]
    assert [r["outcome"] for r in records] == ["deny", "allow", "deny"]


def test_codex_patch_of_lockfile_warns_the_person(repo: pathlib.Path) -> None:
    text = patch("*** Update File: package-lock.json", "@@", "-a", "+b")
    result = run(repo, codex("pre-apply-patch", repo, command=text), "codex")
    assert result.code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert list(answer) == ["systemMessage"]  # no permissionDecision: the call goes ahead
    assert "FG103 write-audited" in answer["systemMessage"]


@pytest.mark.parametrize(
    ("command", "needles"),
    [
        ("cat .env", ("`.env`", "FG201 read-denied")),
        (["bash", "-lc", "cat .env"], ("`.env`", "FG201")),
        ("sed -i s/1/2/ .flockguard/config.toml", ("`.flockguard/config.toml`", "FG101")),
    ],
    ids=["read", "argv", "write"],
)
def test_codex_shell_touching_protected_path_is_denied(
    command: Any, needles: tuple[str, ...], repo: pathlib.Path
) -> None:
    assert_codex_deny(run(repo, codex("pre-bash", repo, command=command), "codex"), *needles)


def test_codex_harmless_shell_and_mcp_pass(repo: pathlib.Path) -> None:
    assert_codex_allow(run(repo, codex("pre-bash", repo, command="git status"), "codex"))
    assert_codex_allow(run(repo, codex("pre-mcp", repo), "codex"))


def test_codex_audit_names_the_agent(repo: pathlib.Path) -> None:
    before = len(audit(repo))
    run(repo, codex("pre-bash", repo, command="cat .env"), "codex")
    run(repo, codex("pre-apply-patch", repo), "codex")
    run(repo, codex("post-apply-patch", repo), "codex")
    records = audit(repo)[before:]
    assert [(r["event"], r["kind"], r["tool"]) for r in records] == [
        ("PreToolUse", "shell", "Bash"),
        ("PreToolUse", "write", "apply_patch"),
        ("PostToolUse", "post", "apply_patch"),
    ]
    for record in records:
        assert record["platform"] == "codex"
        assert record["session"] == CODEX_SESSION
        assert record["agent"] == CODEX_AGENT
    assert records[1]["paths"] == {"write": ["src/app.py"]}


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [
        (b"", "empty stdin"),
        (b"{", "invalid JSON"),
        (json.dumps({"session_id": CODEX_SESSION}).encode(), "hook_event_name"),
        (json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash",
                     "tool_input": {}}).encode(), "'command'"),
        (json.dumps({"hook_event_name": "PreToolUse", "tool_name": "apply_patch",
                     "tool_input": {"command": "*** Begin Patch\n*** End Patch\n"}}).encode(),
         "names no file"),
    ],
)  # fmt: skip
def test_codex_unreadable_input_blocks(stdin: bytes, needle: str, repo: pathlib.Path) -> None:
    result = run(repo, stdin, "codex")
    # exit 2 + a reason on stderr blocks; exit 2 with an empty stderr would count as a failure
    assert result.code == 2
    assert result.stdout == ""
    assert needle in result.stderr and "FG902" in result.stderr


# ---- installers ---------------------------------------------------------------------------------

MARK = "flockguard:managed"
CURSOR_FOREIGN = """{
  "version": 1,
  "hooks": {
    "beforeShellExecution": [{"command": "./audit.sh", "timeout": 5}],
    "stop": [{"command": "notify-send done"}]
  }
}
"""
CODEX_FOREIGN = """{
    "hooks": {
        "PreToolUse": [{"matcher": "^Bash$", "hooks": [{"type": "command", "command": "my-lint"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
    }
}
"""
FILES = {"cursor": ".cursor/hooks.json", "codex": ".codex/hooks.json"}
FOREIGN = {"cursor": CURSOR_FOREIGN, "codex": CODEX_FOREIGN}


def our_handlers(platform: str, document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for event, entries in document["hooks"].items():
        for entry in entries:
            handlers = entry["hooks"] if platform == "codex" else [entry]
            for handler in handlers:
                if MARK in handler["command"]:
                    found.setdefault(event, []).append(
                        {**handler, "group_matcher": entry.get("matcher")}
                    )
    return found


@pytest.fixture
def bare(tmp_path: pathlib.Path) -> pathlib.Path:
    git_init(tmp_path)
    return tmp_path


def test_cursor_install_wires_every_event_failing_closed(bare: pathlib.Path) -> None:
    run_fg("init", "--agents", "cursor", cwd=bare)
    document = json.loads((bare / FILES["cursor"]).read_text())
    assert document["version"] == 1
    wired = our_handlers("cursor", document)
    assert set(wired) == {
        *("preToolUse", "beforeShellExecution", "beforeMCPExecution", "afterFileEdit"),
        *("beforeSubmitPrompt", "sessionStart", "sessionEnd"),
    }
    for event in ("preToolUse", "beforeShellExecution", "beforeMCPExecution"):
        [handler] = wired[event]
        assert handler["failClosed"] is True and handler["timeout"] > 0
    [pre] = wired["preToolUse"]
    assert all(re.search(pre["matcher"], tool) for tool in ("Write", "Read", "Grep"))
    assert not re.search(pre["matcher"], "Shell")
    words = pre["command"].split()
    assert pathlib.Path(words[0]).is_absolute() and words[1:] == ["cursor", "#", MARK]
    assert not (bare / ".claude").exists()  # only the agents asked for


def test_codex_install_has_only_a_hooks_key(bare: pathlib.Path) -> None:
    run_fg("init", "--agents", "codex", cwd=bare)
    document = json.loads((bare / FILES["codex"]).read_text())
    assert list(document) == ["hooks"]  # Codex rejects a hooks file with other root keys
    wired = our_handlers("codex", document)
    assert set(wired) == {"PreToolUse", "PostToolUse", "SessionStart", "SessionEnd",
                          "UserPromptSubmit"}  # fmt: skip
    [pre] = wired["PreToolUse"]
    assert set(pre) == {"type", "command", "timeout", "group_matcher"}
    for tool in ("Bash", "apply_patch", "mcp__srv__tool"):
        assert re.search(pre["group_matcher"], tool)
    words = pre["command"].split()
    assert pathlib.Path(words[0]).is_absolute() and words[1:] == ["codex", "#", MARK]


DENIED_WRITE = {
    "cursor": lambda repo: cursor_tool(
        "pre-write", repo, file_path=str(repo / ".flockguard/config.toml")
    ),
    "codex": lambda repo: codex(
        "pre-apply-patch", repo, command=patch("*** Update File: .flockguard/config.toml")
    ),
}
PRE_EVENT = {"cursor": "preToolUse", "codex": "PreToolUse"}


@pytest.mark.parametrize("platform", ["cursor", "codex"])
def test_the_installed_command_is_what_guards(platform: str, bare: pathlib.Path) -> None:
    run_fg("init", "--agents", platform, cwd=bare)
    document = json.loads((bare / FILES[platform]).read_text())
    [handler] = our_handlers(platform, document)[PRE_EVENT[platform]]
    proc = subprocess.run(
        ["/bin/sh", "-c", handler["command"]],
        input=json.dumps(DENIED_WRITE[platform](bare)),
        capture_output=True,
        text=True,
        cwd=bare,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    if platform == "cursor":
        assert answer["permission"] == "deny" and "FG101" in answer["user_message"]
    else:
        assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"
        assert "FG101" in answer["hookSpecificOutput"]["permissionDecisionReason"]


@pytest.mark.parametrize("platform", ["cursor", "codex"])
def test_install_twice_changes_nothing(platform: str, bare: pathlib.Path) -> None:
    run_fg("init", "--agents", platform, cwd=bare)
    first = (bare / FILES[platform]).read_bytes()
    second = run_fg("init", "--agents", platform, cwd=bare)
    assert (bare / FILES[platform]).read_bytes() == first
    assert "written" not in second.stdout


@pytest.mark.parametrize("platform", ["cursor", "codex"])
def test_uninstall_gives_back_the_exact_bytes(platform: str, bare: pathlib.Path) -> None:
    path = bare / FILES[platform]
    path.parent.mkdir()
    path.write_text(FOREIGN[platform])
    run_fg("init", "--agents", platform, cwd=bare)
    document = json.loads(path.read_text())
    before = json.loads(FOREIGN[platform])
    for event, entries in before["hooks"].items():  # foreign entries kept, in their places
        assert document["hooks"][event][: len(entries)] == entries
    assert our_handlers(platform, document)
    run_fg("uninstall", "--agents", platform, cwd=bare)
    assert path.read_bytes() == FOREIGN[platform].encode()


@pytest.mark.parametrize("platform", ["cursor", "codex"])
def test_uninstall_removes_a_file_it_created(platform: str, bare: pathlib.Path) -> None:
    run_fg("init", "--agents", platform, cwd=bare)
    assert (bare / FILES[platform]).exists()
    run_fg("uninstall", "--agents", platform, cwd=bare)
    assert not (bare / FILES[platform]).parent.exists()
    assert (bare / ".flockguard" / "config.toml").exists()  # the policy stays


@pytest.mark.parametrize("platform", ["cursor", "codex"])
def test_uninstall_after_an_edit_keeps_the_edit(platform: str, bare: pathlib.Path) -> None:
    run_fg("init", "--agents", platform, cwd=bare)
    path = bare / FILES[platform]
    document = json.loads(path.read_text())
    mine = (
        {"command": "./mine.sh"}
        if platform == "cursor"
        else {"hooks": [{"type": "command", "command": "./mine.sh"}]}
    )
    event = "stop" if platform == "cursor" else "Stop"
    document["hooks"][event] = [mine]
    path.write_text(json.dumps(document, indent=2) + "\n")
    run_fg("uninstall", "--agents", platform, cwd=bare)
    left = json.loads(path.read_text())
    assert left["hooks"] == {event: [mine]}
