"""Orchestrator locks as agents meet them: the CLI, the hook (FG701/FG702, auto-claim),
sessions, and the commit check — all through the installed commands."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest

from conftest import audit, claude, lock, run_fg, run_hook


def event(repo: pathlib.Path, name: str, session: str, **fields: object) -> dict:
    return {"session_id": session, "cwd": str(repo), "hook_event_name": name, **fields}


def stable(document: dict) -> tuple[list, list]:
    """A lock table's holders and waiters without the fields that count time from now."""
    volatile = {"expires_in", "waited"}
    return (
        [{k: v for k, v in h.items() if k not in volatile} for h in document["holders"]],
        [{k: v for k, v in w.items() if k not in volatile} for w in document["waiters"]],
    )


def agent_of(session: str) -> str:
    """Claude Code's agent id for ``session``: all of it (ids here are short and plain, so
    not hashed), never a prefix that sessions started in the same second would share."""
    assert len(session) <= 64 and session.replace("-", "").isalnum(), session
    return f"claude-code:{session}"


def test_acquire_conflict_queue_release_and_status(repo: pathlib.Path) -> None:
    first = lock(repo, "acquire", "src/db.py", "--mode", "write", "--json", agent="codex:1")
    assert first.returncode == 0, first.stderr
    granted = json.loads(first.stdout)
    assert granted["granted"] is True and granted["token"] > 0 and granted["expires_at"] > 0
    refused = lock(
        repo, "acquire", "src/db.py", "--mode", "read", "--json", "--keep-queued", agent="claude:2"
    )
    assert refused.returncode == 75
    answer = json.loads(refused.stdout)
    assert answer["granted"] is False and answer["position"] == 1
    assert [h["agent"] for h in answer["holders"]] == ["codex:1"]
    status = json.loads(run_fg("status", "--json", cwd=repo).stdout)
    assert [w["agent"] for w in status["waiters"]] == ["claude:2"]
    snapshot = json.loads((repo / ".flockguard" / "state" / "locks.json").read_text())
    assert stable(snapshot) == stable(status)  # the same table; status is as of its own now
    assert snapshot["version"] == status["version"]
    assert lock(repo, "release", "src/db.py", agent="codex:1").returncode == 0
    after = json.loads(run_fg("status", "--json", cwd=repo).stdout)
    assert [(h["agent"], h["mode"]) for h in after["holders"]] == [("claude:2", "read")]
    assert after["holders"][0]["token"] > granted["token"]  # fencing tokens only grow
    assert json.loads(lock(repo, "release", "--all", agent="claude:2").stdout) == {"released": 1}


def test_renew_after_a_break_says_lease_lost(repo: pathlib.Path) -> None:
    assert lock(repo, "acquire", "docs/", "--mode", "write", agent="a").returncode == 0
    assert lock(repo, "renew", "docs/", "--ttl", "60", agent="a").returncode == 0
    broken = run_fg("lock", "break", "docs/", cwd=repo)
    assert json.loads(broken.stdout)["broken"][0]["agent"] == "a"
    lost = lock(repo, "renew", "docs/", agent="a")
    assert lost.returncode == 1 and "lease lost" in lost.stderr and "broken by" in lost.stderr
    assert any(r.get("event") == "lock-break" and r.get("resource") == "docs/" for r in audit(repo))


def test_bad_requests_are_named(repo: pathlib.Path) -> None:
    missing = lock(repo, "acquire", "x.py", "--mode", "write", agent="")
    assert missing.returncode == 1 and "FLOCKGUARD_AGENT" in missing.stderr
    outside = lock(repo, "acquire", "/etc/passwd", "--mode", "write", agent="a")
    assert outside.returncode == 1 and "outside the repository" in outside.stderr
    assert "Traceback" not in missing.stderr + outside.stderr


def test_an_edit_claims_the_file_and_a_second_agent_is_refused(repo: pathlib.Path) -> None:
    (repo / "src").mkdir()
    target = str(repo / "src" / "db.py")
    first = run_hook(
        repo,
        claude(
            repo, "Edit", session="aaaaaaaa-1", file_path=target, old_string="a", new_string="b"
        ),
    )
    assert first.json == {}
    second = run_hook(
        repo, claude(repo, "Write", session="bbbbbbbb-2", file_path=target, content="x")
    )
    assert second.decision == "deny"
    assert (
        "FG701 lock-held-by-another-agent" in second.reason
        and agent_of("aaaaaaaa-1") in second.reason
    )
    shell = run_hook(repo, claude(repo, "Bash", session="bbbbbbbb-2", command="echo y > src/db.py"))
    assert shell.decision == "deny" and "FG701" in shell.reason
    read = run_hook(repo, claude(repo, "Read", session="bbbbbbbb-2", file_path=target))
    assert "FG702" in read.json["hookSpecificOutput"]["additionalContext"]
    again = run_hook(
        repo,
        claude(
            repo, "Edit", session="aaaaaaaa-1", file_path=target, old_string="b", new_string="c"
        ),
    )
    assert again.json == {}  # its own lease never stops it
    run_hook(repo, event(repo, "SessionEnd", "aaaaaaaa-1", reason="prompt_input_exit"))
    assert (
        run_hook(
            repo, claude(repo, "Write", session="bbbbbbbb-2", file_path=target, content="x")
        ).json
        == {}
    )


def test_a_directory_lock_covers_the_files_in_it(repo: pathlib.Path) -> None:
    assert (
        lock(repo, "acquire", "src/db/", "--mode", "intent_write", agent="codex:9").returncode == 0
    )
    inside = run_hook(
        repo,
        claude(
            repo, "Edit", file_path=str(repo / "src/db/models.py"), old_string="a", new_string="b"
        ),
    )
    assert inside.decision == "deny" and "codex:9" in inside.reason and "src/db/" in inside.reason
    elsewhere = run_hook(
        repo,
        claude(repo, "Edit", file_path=str(repo / "src/api.py"), old_string="a", new_string="b"),
    )
    assert elsewhere.json == {}


def test_auto_claim_can_be_switched_off(repo: pathlib.Path) -> None:
    config = repo / ".flockguard" / "config.toml"
    config.write_text(config.read_text().replace("auto_claim = true", "auto_claim = false"))
    target = str(repo / "a.py")
    run_hook(repo, claude(repo, "Write", session="aaaaaaaa-1", file_path=target, content="x"))
    assert (
        run_hook(
            repo, claude(repo, "Write", session="bbbbbbbb-2", file_path=target, content="y")
        ).json
        == {}
    )


def test_session_start_gives_the_agent_its_id_table_and_shell_env(
    repo: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    assert lock(repo, "acquire", "api/", "--mode", "write", agent="codex:1").returncode == 0
    env_file = tmp_path / "claude.env"
    result = run_hook(
        repo,
        event(repo, "SessionStart", "cccccccc-3", source="startup"),
        env={"CLAUDE_ENV_FILE": str(env_file)},
    )
    context = result.json["hookSpecificOutput"]["additionalContext"]
    assert agent_of("cccccccc-3") in context and "api/: write by codex:1" in context
    assert env_file.read_text() == f'export FLOCKGUARD_AGENT="{agent_of("cccccccc-3")}"\n'
    quiet = run_hook(repo, event(repo, "UserPromptSubmit", "cccccccc-3", prompt="go on"))
    assert "additionalContext" not in json.dumps(quiet.json)  # nothing changed since
    assert lock(repo, "acquire", "web/", "--mode", "write", agent="gemini:4").returncode == 0
    told = run_hook(repo, event(repo, "UserPromptSubmit", "cccccccc-3", prompt="go on"))
    assert "web/: write by gemini:4" in told.json["hookSpecificOutput"]["additionalContext"]


def git(
    repo: pathlib.Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_precommit_refuses_paths_another_agent_holds(repo: pathlib.Path) -> None:
    (repo / "db.py").write_text("x\n")
    (repo / "other.py").write_text("y\n")
    assert lock(repo, "acquire", "db.py", "--mode", "write", agent="codex:1").returncode == 0
    assert "installed" in run_fg("precommit", "--install", cwd=repo).stdout
    git(repo, "add", "db.py", "other.py")
    refused = git(repo, "commit", "-m", "mine", env={"FLOCKGUARD_AGENT": "claude:2"})
    assert refused.returncode != 0 and "FG703" in refused.stderr and "codex:1" in refused.stderr
    own = git(repo, "commit", "-m", "theirs", env={"FLOCKGUARD_AGENT": "codex:1"})
    assert own.returncode == 0, own.stderr


def test_precommit_does_not_overwrite_a_foreign_hook(repo: pathlib.Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    proc = run_fg("precommit", "--install", cwd=repo, check=False)
    assert proc.returncode == 1 and "left unchanged" in proc.stderr
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"


@pytest.mark.parametrize("mode", ["read", "intent_write"])
def test_weaker_locks_do_not_refuse_reads(repo: pathlib.Path, mode: str) -> None:
    assert lock(repo, "acquire", "notes.md", "--mode", mode, agent="codex:1").returncode == 0
    assert run_hook(repo, claude(repo, "Read", file_path=str(repo / "notes.md"))).json == {}


def test_a_write_awaiting_approval_takes_no_lease(repo: pathlib.Path) -> None:
    """Only an allowed write claims its file: a person may still refuse one that asks."""
    asked = run_hook(
        repo, claude(repo, "Write", session="aaaaaaaa-1", file_path=str(repo / ".env"), content="x")
    )
    assert asked.decision == "ask"
    status = json.loads(run_fg("status", "--json", cwd=repo).stdout)
    assert [h for h in status["holders"] if h["resource"] == ".env"] == []
