"""Shared fixtures: every test drives the *installed* commands as real subprocesses."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

BIN = pathlib.Path(sys.executable).parent
FIXTURES = pathlib.Path(__file__).parent / "fixtures"
PAYLOADS = FIXTURES / "payloads"


def installed(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed beside {sys.executable}: pip install '.[test]' first")
    return str(path)


class HookResult:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    @property
    def json(self) -> dict[str, Any]:
        assert self.stdout.strip(), f"no stdout; stderr: {self.stderr!r}"
        document = json.loads(self.stdout)
        assert isinstance(document, dict)
        return document

    @property
    def decision(self) -> str | None:
        """PreToolUse permissionDecision, or None when the hook gave none."""
        if self.code == 2:
            return "deny"
        specific = self.json.get("hookSpecificOutput", {})
        return specific.get("permissionDecision")

    @property
    def reason(self) -> str:
        if self.code == 2:
            return self.stderr
        return str(self.json.get("hookSpecificOutput", {}).get("permissionDecisionReason", ""))


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real home directory (crash logs, ~ paths)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    monkeypatch.delenv("FLOCKGUARD_AGENT", raising=False)


@pytest.fixture
def hook_bin() -> str:
    return installed("flockguard-hook")


@pytest.fixture
def fg_bin() -> str:
    return installed("flockguard")


def git_init(path: pathlib.Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)


def run_fg(*args: str, cwd: pathlib.Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [installed("flockguard"), *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        pytest.fail(f"flockguard {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def lock(
    repo: pathlib.Path, *args: str, agent: str | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """`flockguard lock ARGS` as agent ``agent`` ($FLOCKGUARD_AGENT; None: left unset)."""
    env = {**os.environ}
    if agent is not None:
        env["FLOCKGUARD_AGENT"] = agent
    return subprocess.run(
        [installed("flockguard"), "lock", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


@pytest.fixture
def repo(tmp_path: pathlib.Path) -> pathlib.Path:
    """A fresh git repository on which `flockguard init` has run."""
    root = tmp_path / "repo"
    root.mkdir()
    git_init(root)
    run_fg("init", cwd=root)
    return root


def run_hook(
    repo: pathlib.Path,
    payload: dict[str, Any] | str | bytes,
    *,
    platform: str = "claude-code",
    env: dict[str, str] | None = None,
    cwd: pathlib.Path | None = None,
) -> HookResult:
    """Run the installed hook once, as an agent would: payload on stdin."""
    if isinstance(payload, dict):
        data = json.dumps(payload).encode()
    elif isinstance(payload, str):
        data = payload.encode()
    else:
        data = payload
    proc = subprocess.run(
        [installed("flockguard-hook"), platform],
        input=data,
        capture_output=True,
        cwd=cwd or repo,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return HookResult(
        subprocess.CompletedProcess(
            proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode()
        )
    )


def payload(platform: str, name: str, repo: pathlib.Path, **tool_input: Any) -> dict[str, Any]:
    """Fixture payload ``name``, with ``{repo}`` in its strings replaced by the repo path.

    Keyword arguments override keys of ``tool_input``.
    """
    text = (PAYLOADS / platform / f"{name}.json").read_text()
    document = json.loads(text.replace("{repo}", str(repo)))
    if tool_input:
        document["tool_input"] = {**document.get("tool_input", {}), **tool_input}
    return document


def claude(
    repo: pathlib.Path, tool: str, session: str = "sess-1", **tool_input: Any
) -> dict[str, Any]:
    """A Claude Code PreToolUse payload for ``tool``."""
    return {
        "session_id": session,
        "transcript_path": f"/home/dev/.claude/projects/repo/{session}.jsonl",
        "cwd": str(repo),
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
        "tool_use_id": "toolu_01TEST",
    }


def audit(repo: pathlib.Path) -> list[dict[str, Any]]:
    path = repo / ".flockguard" / "state" / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
