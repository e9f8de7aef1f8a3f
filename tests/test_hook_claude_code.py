"""End to end through the installed ``flockguard-hook claude-code``: exit codes and exact JSON.

Every test runs the real console script as Claude Code would (payload on stdin, answer on stdout)
in a fresh repository on which ``flockguard init`` has run, under the default policy.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
from typing import Any

import pytest

from conftest import PAYLOADS, audit, claude, installed, payload, run_hook

PLATFORM = "claude-code"
FIXTURE_DIR = PAYLOADS / PLATFORM
FIXTURES = sorted(p.stem for p in FIXTURE_DIR.glob("*.json"))
PRE_TOOL_FIXTURES = [name for name in FIXTURES if name.startswith("pre-")]
COMMON_FIELDS = ("session_id", "transcript_path", "cwd", "hook_event_name")
SESSION = "3f9c2b1e-7a4d-4c8e-9b21-5d6e0f1a2b3c"  # the fixtures' session_id
AGENT = f"{PLATFORM}:{SESSION}"  # the whole id, never a prefix


def fixture(name: str, repo: pathlib.Path, **tool_input: Any) -> dict[str, Any]:
    return payload(PLATFORM, name, repo, **tool_input)


def specific(document: dict[str, Any]) -> dict[str, Any]:
    value = document.get("hookSpecificOutput", {})
    assert isinstance(value, dict)
    return value


def assert_decision(result: Any, decision: str, *needles: str) -> str:
    """Exit 0 with exactly a PreToolUse decision of ``decision``; returns the reason."""
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    document = result.json
    assert list(document) == ["hookSpecificOutput"], document
    out = specific(document)
    assert set(out) == {"hookEventName", "permissionDecision", "permissionDecisionReason"}, out
    assert out["hookEventName"] == "PreToolUse"
    assert out["permissionDecision"] == decision, out
    reason = out["permissionDecisionReason"]
    assert isinstance(reason, str)
    for needle in needles:
        assert needle in reason, f"{needle!r} not in reason {reason!r}"
    return reason


def assert_silent(result: Any) -> None:
    """Exit 0 and ``{}``: Claude Code's own permission flow stays in charge."""
    assert result.code == 0, result.stderr
    assert result.json == {}, result.stdout
    assert "Traceback" not in result.stderr


# ---- fixtures themselves ----------------------------------------------------------------------


def test_fixture_set_is_complete() -> None:
    assert set(FIXTURES) == {
        "pre-write", "pre-edit", "pre-multiedit", "pre-notebookedit", "pre-read", "pre-grep",
        "pre-glob", "pre-bash", "pre-mcp", "post-edit", "session-start", "session-end",
        "user-prompt-submit",
    }  # fmt: skip


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_payload_is_realistic(name: str, tmp_path: pathlib.Path) -> None:
    document = fixture(name, tmp_path)
    for field in COMMON_FIELDS:
        assert isinstance(document.get(field), str) and document[field], field
    assert document["cwd"] == str(tmp_path)
    if document["hook_event_name"] in ("PreToolUse", "PostToolUse"):
        assert isinstance(document["tool_name"], str)
        assert isinstance(document["tool_input"], dict)
        assert document["tool_use_id"].startswith("toolu_")
        assert document["permission_mode"] in (
            "default", "plan", "acceptEdits", "auto", "dontAsk", "bypassPermissions",
        )  # fmt: skip
        for key in ("file_path", "notebook_path", "path"):
            if key in document["tool_input"]:  # Claude Code sends absolute paths (>= 2.1.89)
                assert document["tool_input"][key].startswith(f"{tmp_path}/"), key


# ---- every fixture ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_gets_a_valid_answer(name: str, repo: pathlib.Path) -> None:
    result = run_hook(repo, fixture(name, repo))
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    document = result.json  # a JSON object
    out = specific(document)
    # flockguard never answers "allow": that would skip Claude Code's own permission prompts
    assert out.get("permissionDecision") in (None, "deny", "ask")
    assert document.get("decision") != "approve"
    assert len(result.stdout) <= 10_000


@pytest.mark.parametrize("name", PRE_TOOL_FIXTURES)
def test_unprotected_tool_use_is_left_to_claude(name: str, repo: pathlib.Path) -> None:
    assert_silent(run_hook(repo, fixture(name, repo)))


# ---- write guard ------------------------------------------------------------------------------

WRITE_FIXTURES = {
    "Write": ("pre-write", "file_path"),
    "Edit": ("pre-edit", "file_path"),
    "MultiEdit": ("pre-multiedit", "file_path"),
    "NotebookEdit": ("pre-notebookedit", "notebook_path"),
}
BLOCKED = {
    ".flockguard/config.toml": "flockguard",
    ".claude/settings.json": "agent-hooks",
    ".git/config": "git-internals",
}


@pytest.mark.parametrize("path", sorted(BLOCKED))
@pytest.mark.parametrize("tool", sorted(WRITE_FIXTURES))
def test_write_to_block_tier_is_denied(tool: str, path: str, repo: pathlib.Path) -> None:
    name, key = WRITE_FIXTURES[tool]
    document = fixture(name, repo, **{key: str(repo / path)})
    assert document["tool_name"] == tool
    assert_decision(
        run_hook(repo, document),
        "deny",
        f"`{path}`",
        "FG101 write-blocked",
        f"`{BLOCKED[path]}` class",
        "tier block",
        "docs/rules/FG101.md",
    )


def test_write_to_env_asks_a_person(repo: pathlib.Path) -> None:
    result = run_hook(repo, fixture("pre-write", repo, file_path=str(repo / ".env")))
    assert_decision(
        result,
        "ask",
        "`.env`",
        "FG102 write-needs-approval",
        "`secrets` class",
        "docs/rules/FG102.md",
    )


def test_edit_of_lockfile_is_allowed_with_a_warning(repo: pathlib.Path) -> None:
    result = run_hook(repo, fixture("pre-edit", repo, file_path=str(repo / "package-lock.json")))
    assert result.code == 0, result.stderr
    document = result.json
    assert set(document) == {"hookSpecificOutput", "systemMessage"}, document
    out = specific(document)
    assert set(out) == {"hookEventName", "additionalContext"}, out  # no permissionDecision
    assert out["hookEventName"] == "PreToolUse"
    for text in (out["additionalContext"], document["systemMessage"]):
        assert "FG103 write-audited" in text
        assert "`package-lock.json`" in text
        assert "docs/rules/FG103.md" in text


# ---- read guard -------------------------------------------------------------------------------

SECRET_READS = [".env", "config/.env.production", "certs/server.pem", "deploy/id_ed25519"]


@pytest.mark.parametrize("path", SECRET_READS)
def test_read_of_secret_is_denied(path: str, repo: pathlib.Path) -> None:
    result = run_hook(repo, fixture("pre-read", repo, file_path=str(repo / path)))
    assert_decision(result, "deny", f"`{path}`", "FG201 read-denied", "docs/rules/FG201.md")


def test_read_of_ssh_key_in_home_is_denied(repo: pathlib.Path) -> None:
    key = pathlib.Path(os.environ["HOME"]) / ".ssh" / "id_rsa"  # conftest's temporary HOME
    assert not str(key).startswith(f"{repo}/")
    result = run_hook(repo, fixture("pre-read", repo, file_path=str(key)))
    assert_decision(result, "deny", str(key), "FG201 read-denied")


def test_read_of_env_example_is_allowed(repo: pathlib.Path) -> None:
    assert_silent(run_hook(repo, fixture("pre-read", repo, file_path=str(repo / ".env.example"))))


def test_grep_in_env_is_denied(repo: pathlib.Path) -> None:
    result = run_hook(repo, fixture("pre-grep", repo, path=str(repo / ".env")))
    assert_decision(result, "deny", "`.env`", "FG201 read-denied")


def test_grep_with_relative_path_in_env_is_denied(repo: pathlib.Path) -> None:
    result = run_hook(repo, claude(repo, "Grep", pattern="TOKEN", path=".env"))
    assert_decision(result, "deny", "`.env`", "FG201 read-denied")


def test_glob_lists_names_and_is_allowed(repo: pathlib.Path) -> None:
    assert_silent(run_hook(repo, fixture("pre-glob", repo, pattern="**/.env*")))


def test_grep_filtered_to_env_files_is_denied(repo: pathlib.Path) -> None:
    document = fixture("pre-grep", repo, path=str(repo), glob=".env*", pattern="KEY")
    assert_decision(run_hook(repo, document), "deny", "FG201")


# ---- shell ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "needles"),
    [
        ("cat .env", ("`.env`", "FG201 read-denied")),
        ("echo x > .flockguard/config.toml", ("`.flockguard/config.toml`", "FG101 write-blocked")),
        ("cd .flockguard && rm config.toml", ("`.flockguard/config.toml`", "FG101 write-blocked")),
        ('bash -c "cat .env"', ("`.env`", "FG201 read-denied")),
    ],
)
def test_shell_touching_protected_path_is_denied(
    command: str, needles: tuple[str, ...], repo: pathlib.Path
) -> None:
    assert_decision(run_hook(repo, fixture("pre-bash", repo, command=command)), "deny", *needles)


@pytest.mark.parametrize(
    "command", ["git status", "ls -la", "pytest -q 2>&1 | tail", "echo hi > /dev/null"]
)
def test_harmless_shell_is_left_to_claude(command: str, repo: pathlib.Path) -> None:
    assert_silent(run_hook(repo, fixture("pre-bash", repo, command=command)))


def test_shell_write_to_variable_target_asks(repo: pathlib.Path) -> None:
    result = run_hook(repo, fixture("pre-bash", repo, command="echo x > $OUT"))
    assert_decision(result, "ask", "$OUT", "FG301 shell-dynamic-target", "docs/rules/FG301.md")


def test_unparsable_shell_is_denied(repo: pathlib.Path) -> None:
    result = run_hook(repo, fixture("pre-bash", repo, command='echo "unterminated'))
    assert_decision(result, "deny", "FG302 shell-unparsable", "docs/rules/FG302.md")


# ---- outside the repository -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/etc/hosts", "/usr/local/bin/deploy.sh"])
def test_write_outside_repo_asks(path: str, repo: pathlib.Path) -> None:
    result = run_hook(repo, fixture("pre-write", repo, file_path=path))
    assert_decision(result, "ask", f"`{path}`", "FG104 write-outside-repo", "docs/rules/FG104.md")


@pytest.mark.parametrize("path", ["/tmp/flockguard-scratch/notes.txt", "/var/tmp/build.log"])
def test_write_to_scratch_dirs_is_allowed(path: str, repo: pathlib.Path) -> None:
    assert not path.startswith(f"{repo}/")  # the repo lives under /tmp too: not inside it
    assert_silent(run_hook(repo, fixture("pre-write", repo, file_path=path)))


# ---- relative paths resolve against the payload's cwd -----------------------------------------


@pytest.fixture
def src(repo: pathlib.Path) -> pathlib.Path:
    path = repo / "src"
    path.mkdir()
    return path


def test_relative_write_resolves_against_cwd(repo: pathlib.Path, src: pathlib.Path) -> None:
    document = fixture("pre-write", repo, file_path="../.env") | {"cwd": str(src)}
    assert_decision(run_hook(repo, document), "ask", "`.env`", "FG102")


def test_relative_block_tier_write_resolves_against_cwd(
    repo: pathlib.Path, src: pathlib.Path
) -> None:
    document = fixture("pre-edit", repo, file_path="../.flockguard/config.toml")
    assert_decision(
        run_hook(repo, document | {"cwd": str(src)}), "deny", "`.flockguard/config.toml`", "FG101"
    )


def test_relative_read_resolves_against_cwd(repo: pathlib.Path, src: pathlib.Path) -> None:
    document = fixture("pre-read", repo, file_path="../.env") | {"cwd": str(src)}
    assert_decision(run_hook(repo, document), "deny", "`.env`", "FG201")


def test_relative_shell_read_resolves_against_cwd(repo: pathlib.Path, src: pathlib.Path) -> None:
    document = fixture("pre-bash", repo, command="cat ../.env") | {"cwd": str(src)}
    assert_decision(run_hook(repo, document), "deny", "`.env`", "FG201")


def test_relative_path_inside_cwd_is_not_confused_with_root(
    repo: pathlib.Path, src: pathlib.Path
) -> None:
    # `src/.env.example` is allowed; `.env.example` relative to src must not become `.env`
    document = fixture("pre-read", repo, file_path=".env.example") | {"cwd": str(src)}
    assert_silent(run_hook(repo, document))
    document = fixture("pre-write", repo, file_path="app.py") | {"cwd": str(src)}
    assert_silent(run_hook(repo, document))


# ---- other events -----------------------------------------------------------------------------


def test_session_start_briefs_the_agent(repo: pathlib.Path) -> None:
    result = run_hook(repo, fixture("session-start", repo))
    assert result.code == 0, result.stderr
    document = result.json
    assert list(document) == ["hookSpecificOutput"], document
    out = specific(document)
    assert set(out) == {"hookEventName", "additionalContext"}
    assert out["hookEventName"] == "SessionStart"
    context = out["additionalContext"]
    assert "flockguard" in context
    assert f"you are agent `{AGENT}`" in context  # the whole id, not a prefix of it
    assert ".flockguard/**" in context  # what it guards


@pytest.mark.parametrize("name", ["user-prompt-submit", "session-end"])
def test_prompt_and_session_end_pass(name: str, repo: pathlib.Path) -> None:
    result = run_hook(repo, fixture(name, repo))
    assert result.code == 0, result.stderr
    document = result.json
    assert "decision" not in document  # the prompt is not blocked
    assert "permissionDecision" not in specific(document)


def test_post_tool_use_is_recorded_not_judged(repo: pathlib.Path) -> None:
    before = len(audit(repo))
    # even after a write to a protected path: the tool already ran, there is nothing to refuse
    document = fixture("post-edit", repo, file_path=str(repo / ".flockguard/config.toml"))
    result = run_hook(repo, document)
    assert result.code == 0, result.stderr
    assert "permissionDecision" not in specific(result.json)
    records = audit(repo)[before:]
    assert len(records) == 1
    assert records[0]["kind"] == "post"
    assert records[0]["event"] == "PostToolUse"
    assert records[0]["tool"] == "Edit"


# ---- audit log --------------------------------------------------------------------------------

RECORD_FIELDS = {
    "id", "ts", "platform", "event", "kind", "tool", "session", "agent", "cwd", "paths",
    "findings", "outcome", "would_deny", "duration_ms",
}  # fmt: skip
FINDING_FIELDS = {"code", "name", "stage", "outcome", "effective", "path", "message"}


def test_audit_has_one_complete_record_per_run(repo: pathlib.Path) -> None:
    before = len(audit(repo))
    runs = [
        fixture("pre-write", repo, file_path=str(repo / ".flockguard/config.toml")),
        fixture("pre-read", repo),
        fixture("pre-bash", repo, command="cat .env"),
        fixture("session-start", repo),
    ]
    for document in runs:
        assert run_hook(repo, document).code == 0
    records = audit(repo)[before:]
    assert len(records) == len(runs)
    for record in records:
        assert set(record) >= RECORD_FIELDS, RECORD_FIELDS - set(record)
        assert record["platform"] == PLATFORM
        assert record["session"] == SESSION
        assert record["agent"] == AGENT
        assert record["cwd"] == str(repo)
        assert isinstance(record["duration_ms"], (int, float)) and record["duration_ms"] >= 0
        assert isinstance(record["would_deny"], bool)
        for finding in record["findings"]:
            assert set(finding) >= FINDING_FIELDS, FINDING_FIELDS - set(finding)
    assert len({r["id"] for r in records}) == len(records)
    assert [r["kind"] for r in records] == ["write", "read", "shell", "session-start"]

    denied, read, shell, _ = records
    assert denied["outcome"] == "deny"
    assert denied["tool"] == "Write"
    assert denied["paths"] == {"write": [".flockguard/config.toml"]}
    [finding] = denied["findings"]
    assert finding["code"] == "FG101"
    assert finding["name"] == "write-blocked"
    assert finding["stage"] == "enforce"
    assert finding["outcome"] == finding["effective"] == "deny"
    assert finding["path"] == ".flockguard/config.toml"
    assert "FG101" in finding["message"]
    assert read["outcome"] == "allow"
    assert read["findings"] == []
    assert shell["outcome"] == "deny"
    assert shell["command"] == "cat .env"
    assert [f["code"] for f in shell["findings"]] == ["FG201"]


# ---- concurrency ------------------------------------------------------------------------------

CONCURRENT = 16


def test_concurrent_hooks_all_answer_and_all_are_audited(repo: pathlib.Path) -> None:
    """16 agents at once on a cold config cache: 16 right answers, 16 whole audit lines."""
    log = repo / ".flockguard" / "state" / "audit.jsonl"
    before = log.read_bytes().count(b"\n") if log.exists() else 0
    hook = installed("flockguard-hook")
    documents = []
    for index in range(CONCURRENT):
        target = ".flockguard/config.toml" if index % 2 else f"src/module_{index}.py"
        document = fixture("pre-write", repo, file_path=str(repo / target))
        document["session_id"] = f"sess-{index:02d}-{'x' * 8}"
        documents.append(document)
    procs = [
        subprocess.Popen(
            [hook, PLATFORM],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=repo,
        )
        for _ in documents
    ]
    for proc, document in zip(procs, documents, strict=True):  # release them all together
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(document).encode())
        proc.stdin.close()
    answers = []
    for proc in procs:  # answers are small: reading one pipe after the other cannot deadlock
        assert proc.stdout is not None and proc.stderr is not None
        with proc.stdout, proc.stderr:
            out, err = proc.stdout.read(), proc.stderr.read()
        answers.append((proc.wait(timeout=60), out.decode(), err.decode()))

    for index, (code, out, err) in enumerate(answers):
        assert code == 0, err
        assert "Traceback" not in err
        document = json.loads(out)
        if index % 2:
            assert specific(document)["permissionDecision"] == "deny"
            assert "FG101" in specific(document)["permissionDecisionReason"]
        else:
            assert document == {}

    raw = log.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.split(b"\n")[:-1][before:]
    assert len(lines) == CONCURRENT
    records = [json.loads(line) for line in lines]  # every line whole and valid
    by_session = {r["session"]: r for r in records}
    assert set(by_session) == {d["session_id"] for d in documents}
    for index, document in enumerate(documents):
        record = by_session[document["session_id"]]
        assert record["outcome"] == ("deny" if index % 2 else "allow")


def test_many_warnings_stay_within_claude_output_cap(repo: pathlib.Path) -> None:
    locks = " ".join(f"packages/p{index:02d}/package-lock.json" for index in range(25))
    result = run_hook(repo, fixture("pre-bash", repo, command=f"touch {locks}"))
    assert result.code == 0, result.stderr
    assert "FG103" in result.json["systemMessage"]
    assert len(result.stdout) <= 10_000, len(result.stdout)


def test_vs_code_running_the_claude_hook_file_is_understood(repo: pathlib.Path) -> None:
    """VS Code's agent runs .claude/settings.json hooks with its own tool ids, camelCase keys
    and `hookEventName`; it reads Claude's answer (research/hook-protocols.md §7.7)."""
    payload = {
        "timestamp": "2026-11-27T10:00:00.000Z",
        "cwd": str(repo),
        "sessionId": "vscode-1234",
        "hookEventName": "PreToolUse",
        "tool_name": "create_file",
        "tool_input": {"filePath": str(repo / ".flockguard" / "config.toml"), "content": "x"},
        "tool_use_id": "call_1",
    }
    result = run_hook(repo, payload)
    assert result.decision == "deny" and "FG101" in result.reason
    terminal = {**payload, "tool_name": "run_in_terminal", "tool_input": {"command": "cat .env"}}
    assert run_hook(repo, terminal).decision == "deny"
    assert audit(repo)[-1]["session"] == "vscode-1234"


def test_an_ask_tier_read_class_asks(repo: pathlib.Path) -> None:
    """FG202: a read class with tier ask makes Claude Code ask the person."""
    config = repo / ".flockguard" / "config.toml"
    config.write_text(
        config.read_text() + '\n[read.customers]\ntier = "ask"\npatterns = ["data/customers/**"]\n'
    )
    result = run_hook(repo, claude(repo, "Read", file_path=str(repo / "data/customers/a.csv")))
    assert result.decision == "ask"
    assert "FG202 read-needs-approval" in result.reason and "`customers` class" in result.reason
    shell = run_hook(repo, claude(repo, "Bash", command="head data/customers/a.csv"))
    assert shell.decision == "ask" and "FG202" in shell.reason
    assert run_hook(repo, claude(repo, "Read", file_path=str(repo / "data/other.csv"))).json == {}
