"""``flockguard demo``: several simulated agents at once against a throw-away repository.

It runs ``flockguard init`` in a temp git repo, then drives the *installed* ``flockguard-hook
claude-code`` as one subprocess per action, exactly as Claude Code would, from four agents in
parallel, and summarises what was allowed, warned, asked and denied, by agent and by rule.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

# agent -> its actions: (tool, tool_input) with "{repo}" and "{home}" filled in at run time
SCRIPTS: dict[str, list[tuple[str, dict[str, str]]]] = {
    "frontend": [
        ("Read", {"file_path": "{repo}/src/app.py"}),
        ("Edit", {"file_path": "{repo}/src/app.py", "old_string": "x", "new_string": "y"}),
        ("Bash", {"command": "npm install --save left-pad"}),
        ("Edit", {"file_path": "{repo}/package-lock.json", "old_string": "1", "new_string": "2"}),
        ("Grep", {"pattern": "TODO", "path": "{repo}/src"}),
        ("Write", {"file_path": "{repo}/src/ui/button.tsx", "content": "export {}"}),
    ],
    "backend": [
        ("Read", {"file_path": "{repo}/src/db.py"}),
        ("Read", {"file_path": "{repo}/.env"}),
        ("Bash", {"command": "grep DATABASE_URL .env"}),
        ("Write", {"file_path": "{repo}/.env", "content": "DATABASE_URL=postgres://"}),
        ("Read", {"file_path": "{repo}/.env.example"}),
        ("Edit", {"file_path": "{repo}/src/db.py", "old_string": "a", "new_string": "b"}),
    ],
    "tests": [
        ("Bash", {"command": "pytest -q 2>&1 | tail -n 20"}),
        ("Write", {"file_path": "{repo}/tests/test_db.py", "content": "def test(): ..."}),
        ("Write", {"file_path": "{repo}/.github/workflows/ci.yml", "content": "on: push"}),
        ("Bash", {"command": "cd tests && cat ../deploy/server.key"}),
        ("Glob", {"pattern": "**/*.py"}),
    ],
    "rogue": [
        ("Write", {"file_path": "{repo}/.flockguard/config.toml", "content": "# nothing"}),
        ("Bash", {"command": "echo '{}' > .claude/settings.json"}),
        ("Write", {"file_path": "{repo}/.git/hooks/pre-commit", "content": "exit 0"}),
        ("Read", {"file_path": "{home}/.ssh/id_ed25519"}),
        ("Bash", {"command": "bash -c 'cat ~/.aws/credentials'"}),
        ("Write", {"file_path": "/etc/profile.d/zz-demo.sh", "content": "alias ls=rm"}),
        ("Bash", {"command": "F=$(ls | head -1); echo pwned > $F"}),
    ],
}  # fmt: skip

SEED_FILES = {
    "src/app.py": "x = 1\n",
    "src/db.py": "a = 1\n",
    "src/models.py": "a = 1\n",
    "package-lock.json": "{}\n",
    ".env": "DATABASE_URL=postgres://secret\n",
    ".env.example": "DATABASE_URL=\n",
    "deploy/server.key": "-----BEGIN PRIVATE KEY-----\n",
    ".github/workflows/ci.yml": "on: push\n",
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", action="store_true", help="keep the demo repository")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def _payload(agent: str, tool: str, tool_input: dict[str, str], repo: str, home: str) -> bytes:
    filled = {k: v.replace("{repo}", repo).replace("{home}", home) for k, v in tool_input.items()}
    return json.dumps(
        {
            "session_id": f"demo-{agent}",
            "transcript_path": f"{home}/.claude/projects/demo/{agent}.jsonl",
            "cwd": repo,
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": filled,
            "tool_use_id": f"toolu_{agent}_{tool}",
        }
    ).encode()


def _answer(proc: subprocess.CompletedProcess[bytes]) -> tuple[str, str]:
    """(outcome, message) from a Claude Code hook answer."""
    if proc.returncode == 2:
        return "deny", proc.stderr.decode().strip()
    document = json.loads(proc.stdout or b"{}")
    specific = document.get("hookSpecificOutput", {})
    decision = specific.get("permissionDecision")
    if decision:
        return decision, specific.get("permissionDecisionReason", "")
    if specific.get("additionalContext"):
        return "warn", specific["additionalContext"]
    return "allow", ""


def _agent(agent: str, hook: str, repo: str, home: str) -> list[dict[str, Any]]:
    results = []
    for tool, tool_input in SCRIPTS[agent]:
        started = time.perf_counter()
        proc = subprocess.run(
            [hook, "claude-code"],
            input=_payload(agent, tool, tool_input, repo, home),
            capture_output=True,
            cwd=repo,
            check=False,
        )
        outcome, message = _answer(proc)
        target = tool_input.get("file_path") or tool_input.get("command") or tool_input["pattern"]
        results.append(
            {
                "agent": agent,
                "tool": tool,
                "target": target.replace("{repo}/", "").replace("{home}", "~"),
                "outcome": outcome,
                "message": message,
                "ms": (time.perf_counter() - started) * 1000,
            }
        )
    return results


def _setup(repo: str) -> None:
    subprocess.run(["git", "init", "-q", repo], check=True)
    for relative, text in SEED_FILES.items():
        path = os.path.join(repo, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    flockguard = os.path.join(os.path.dirname(sys.executable), "flockguard")
    command = (
        [flockguard] if os.access(flockguard, os.X_OK) else [sys.executable, "-m", "flockguard"]
    )
    subprocess.run([*command, "init", "--repo", repo], check=True, capture_output=True)


RECORDS_PER_AGENT = 8
COORD_LOG = ".flockguard/state/coord/events.jsonl"
TASKS = ".flockguard/state/coord/tasks.jsonl"


def _coordinate(repo: str) -> dict[str, Any]:
    """L1: every agent appends records to one shared log at once through the installed CLI; then
    one agent holds the task list while another tries to append and is told who holds it."""
    flockguard = os.path.join(os.path.dirname(sys.executable), "flockguard")
    log = os.path.join(repo, COORD_LOG)
    os.makedirs(os.path.dirname(log), exist_ok=True)

    def appends(agent: str) -> int:
        failures = 0
        for seq in range(RECORDS_PER_AGENT):
            record = {"agent": agent, "seq": seq, "event": "progress"}
            proc = subprocess.run(
                [flockguard, "record", "append", log, "--json", json.dumps(record)],
                capture_output=True,
                check=False,
            )
            failures += proc.returncode != 0
        return failures

    with ThreadPoolExecutor(max_workers=len(SCRIPTS)) as pool:
        failures = sum(pool.map(appends, SCRIPTS))
    from flockguard.locking import coordlog

    written = coordlog.read(log)
    seen = {(r.get("agent"), r.get("seq")) for r in written.records}
    tasks = os.path.join(repo, TASKS)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from flockguard.locking.file_lock import lock\n"
            f"with lock({tasks!r}, agent='backend'):\n"
            "    print('held', flush=True); time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        holder.stdout.readline()  # it holds the lock now
        waiter = subprocess.run(
            [flockguard, "record", "append", tasks, "--json", '{"task": "x"}', "--timeout", "0.3"],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        holder.kill()
        holder.wait()
    told = next((line.strip(" ×") for line in waiter.stderr.splitlines() if "held by" in line), "")
    return {
        "appended": len(written.records),
        "expected": RECORDS_PER_AGENT * len(SCRIPTS),
        "each_once": len(seen) == len(written.records),
        "torn": len(written.torn),
        "failures": failures,
        "waiter_exit": waiter.returncode,
        "waiter_told": told,
    }


def _hook(hook: str, repo: str, payload: dict[str, Any]) -> tuple[str, str]:
    proc = subprocess.run(
        [hook, "claude-code"],
        input=json.dumps(payload).encode(),
        capture_output=True,
        cwd=repo,
        check=False,
    )
    return _answer(proc)


def _handover(hook: str, repo: str) -> dict[str, Any]:
    """Orchestrator locks: an edit claims its file, a second agent is refused and queues, the
    first agent's session end hands the file over."""
    target = os.path.join(repo, "src", "models.py")

    def edit(agent: str) -> dict[str, Any]:
        return {
            "session_id": f"demo-{agent}",
            "cwd": repo,
            "hook_event_name": "PreToolUse",
            "tool_name": "Edit",
            "tool_input": {"file_path": target, "old_string": "a", "new_string": "b"},
        }

    first, _ = _hook(hook, repo, edit("frontend"))
    second, told = _hook(hook, repo, edit("backend"))
    flockguard = os.path.join(os.path.dirname(sys.executable), "flockguard")
    queued = subprocess.run(
        [flockguard, "lock", "acquire", "src/models.py", "--mode", "write", "--keep-queued",
         "--agent", "claude-code:demo-backend", "--repo", repo, "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    end = {
        "session_id": "demo-frontend",
        "cwd": repo,
        "hook_event_name": "SessionEnd",
        "reason": "exit",
    }
    _hook(hook, repo, end)
    status = subprocess.run(
        [flockguard, "status", "--json", "--repo", repo],
        capture_output=True,
        text=True,
        check=False,
    )
    holders = json.loads(status.stdout or "{}").get("holders", [])
    return {
        "first_edit": first,
        "second_edit": second,
        "second_told": told,
        "queued_position": json.loads(queued.stdout or "{}").get("position"),
        "holder_after_release": [h["agent"] for h in holders if h["resource"] == "src/models.py"],
    }


def run(*, keep: bool, json: bool) -> int:
    from flockguard.install.repo import hook_command

    hook = hook_command()
    base = tempfile.mkdtemp(prefix="flockguard-demo-")
    repo = os.path.join(base, "repo")
    home = os.path.join(base, "home")
    os.makedirs(home)
    _setup(repo)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(SCRIPTS)) as pool:
        batches = list(pool.map(lambda agent: _agent(agent, hook, repo, home), SCRIPTS))
    wall = time.perf_counter() - started
    results = [row for batch in batches for row in batch]
    from flockguard.audit import read

    records = read(repo)
    summary = _summary(results, records, wall)
    summary["coordination"] = _coordinate(repo)
    summary["handover"] = _handover(hook, repo)
    if json:
        print(_dumps({**summary, "repo": repo if keep else None}))
    else:
        _print(summary, results, repo, keep)
    if not keep:
        import shutil

        shutil.rmtree(base, ignore_errors=True)
    coordination = summary["coordination"]
    whole = coordination["appended"] == coordination["expected"] and coordination["each_once"]
    return 0 if summary["audited"] == summary["actions"] and whole else 1


def _summary(
    results: list[dict[str, Any]], records: list[dict[str, Any]], wall: float
) -> dict[str, Any]:
    by_agent: dict[str, Counter[str]] = {}
    for row in results:
        by_agent.setdefault(row["agent"], Counter())[row["outcome"]] += 1
    by_rule: Counter[str] = Counter(
        f"{f['code']} {f['name']}" for record in records for f in record["findings"]
    )
    times = sorted(row["ms"] for row in results)
    return {
        "actions": len(results),
        "audited": len(records),
        "outcomes": dict(Counter(row["outcome"] for row in results)),
        "by_agent": {agent: dict(counts) for agent, counts in by_agent.items()},
        "by_rule": dict(sorted(by_rule.items())),
        "median_ms": round(times[len(times) // 2], 1),
        "wall_s": round(wall, 2),
    }


def _print(summary: dict[str, Any], results: list[dict[str, Any]], repo: str, keep: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    colour = {"allow": "green", "warn": "yellow", "ask": "magenta", "deny": "red"}
    outcomes = ("allow", "warn", "ask", "deny")
    console.print(
        f"[bold]flockguard demo[/]: {len(SCRIPTS)} simulated Claude Code agents, "
        f"{summary['actions']} actions in parallel through the installed flockguard-hook"
    )
    actions = Table(title="Actions", title_justify="left")
    for column in ("agent", "tool", "target", "outcome"):
        actions.add_column(column)
    for row in results:
        target = row["target"] if len(row["target"]) <= 60 else row["target"][:57] + "..."
        outcome = row["outcome"]
        actions.add_row(row["agent"], row["tool"], target, f"[{colour[outcome]}]{outcome}[/]")
    console.print(actions)
    agents = Table(title="By agent", title_justify="left")
    agents.add_column("agent")
    for outcome in outcomes:
        agents.add_column(outcome, justify="right")
    for agent, counts in summary["by_agent"].items():
        agents.add_row(agent, *(str(counts.get(outcome, 0)) for outcome in outcomes))
    totals = summary["outcomes"]
    agents.add_row("[bold]all[/]", *(f"[bold]{totals.get(o, 0)}[/]" for o in outcomes))
    console.print(agents)
    rules = Table(title="By rule", title_justify="left")
    rules.add_column("rule")
    rules.add_column("findings", justify="right")
    for rule, count in summary["by_rule"].items():
        rules.add_row(rule, str(count))
    console.print(rules)
    denied = next((row for row in results if row["outcome"] == "deny"), None)
    if denied:
        console.print(f"[bold]What an agent is told[/] ({denied['agent']}, {denied['tool']}):")
        console.print(f"  {denied['message']}", soft_wrap=True)
    console.print(
        f"audit log: {summary['audited']} records for {summary['actions']} actions · "
        f"median hook run {summary['median_ms']} ms · wall {summary['wall_s']} s"
    )
    coordination = summary["coordination"]
    console.print(
        f"[bold]Coordination log[/] ({COORD_LOG}): {coordination['appended']} of "
        f"{coordination['expected']} records from {len(SCRIPTS)} agents appending at once, "
        f"each exactly once: {coordination['each_once']}, torn bytes: {coordination['torn']}"
    )
    console.print(
        f"[bold]A busy lock[/]: an agent appending to {TASKS} while another holds it waited "
        f"0.3 s and got exit {coordination['waiter_exit']}:"
    )
    console.print(f"  {coordination['waiter_told']}", soft_wrap=True)
    handover = summary["handover"]
    console.print(
        "[bold]Locks between agents[/]: frontend's edit of src/models.py: "
        f"{handover['first_edit']} (it claims the file); backend's edit of it: "
        f"{handover['second_edit']}:"
    )
    console.print(f"  {handover['second_told']}", soft_wrap=True)
    console.print(
        f"  backend queues (position {handover['queued_position']}); frontend's session ends; "
        f"src/models.py is now held by {', '.join(handover['holder_after_release']) or 'nobody'}"
    )
    if keep:
        console.print(f"repository kept at {repo}")


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2)
