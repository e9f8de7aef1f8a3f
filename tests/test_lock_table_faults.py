"""The lock table's bad days, through the installed commands and hook: a full disk, a table
deleted or replaced under running processes, damage, a read-only state directory, stale or
missing snapshots, killed writers' leftovers, an agent's host process that dies.

Where a fault needs a file system of its own (a small tmpfs, a read-only bind mount), the steps
run in a private mount namespace (`unshare --mount`), as root or in a user namespace.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pathlib
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from typing import Any

import pytest

from conftest import claude, installed, lock, run_fg, run_hook
from flockguard.locking import generation
from flockguard.locking.manager import LeaseLost, open_manager

FORK = multiprocessing.get_context("fork")
STATE = pathlib.Path(".flockguard") / "state"


def status(repo: pathlib.Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(run_fg("status", "--json", cwd=repo).stdout)
    return document


def held(repo: pathlib.Path) -> list[tuple[str, str]]:
    return sorted((h["resource"], h["agent"]) for h in status(repo)["holders"])


def write(repo: pathlib.Path, path: str, session: str) -> Any:
    return run_hook(
        repo, claude(repo, "Write", session=session, file_path=str(repo / path), content="x")
    )


# ---- private mount namespaces --------------------------------------------------------------------


def unshare_prefix() -> list[str]:
    base = ["unshare", "--mount", "--propagation", "private"]
    prefix = base if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", *base[1:]]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    if shutil.which("unshare") is None or probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
    return prefix


def in_namespace(script: str, *args: str) -> dict[str, Any]:
    """Run ``script`` (Python) in a private mount namespace; it prints one JSON document."""
    proc = subprocess.run(
        [*unshare_prefix(), sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


# Helpers every namespace script starts with: the repo, the installed commands, and how to call
# them as an agent would.
PRELUDE = r"""
import json, os, sqlite3, subprocess, sys
repo, bindir = sys.argv[1], sys.argv[2]
state = os.path.join(repo, ".flockguard", "state")
fg, hook = os.path.join(bindir, "flockguard"), os.path.join(bindir, "flockguard-hook")

def run(*args, agent=""):
    env = {**os.environ, "FLOCKGUARD_AGENT": agent} if agent else dict(os.environ)
    proc = subprocess.run([fg, *args], cwd=repo, env=env, capture_output=True, text=True)
    return {"code": proc.returncode, "out": proc.stdout, "err": proc.stderr}

def edit(session, path):
    payload = {"session_id": session, "cwd": repo, "hook_event_name": "PreToolUse",
               "permission_mode": "default", "transcript_path": "/t.jsonl", "tool_name": "Write",
               "tool_input": {"file_path": os.path.join(repo, path), "content": "x"}}
    proc = subprocess.run([hook, "claude-code"], input=json.dumps(payload), cwd=repo,
                          capture_output=True, text=True)
    out = json.loads(proc.stdout or "{}").get("hookSpecificOutput", {})
    return {"code": proc.returncode, "decision": out.get("permissionDecision"),
            "reason": out.get("permissionDecisionReason", "") + proc.stderr}

def holders():
    proc = run("status", "--json")
    if proc["code"]:
        return proc
    return sorted([h["resource"], h["agent"]] for h in json.loads(proc["out"])["holders"])
"""

FULL_DISK = (
    PRELUDE
    + r"""
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,nr_inodes=256", "tmpfs", state], check=True)
out = {}
run("lock", "acquire", "warm.py", "--mode", "write", agent="w")
run("lock", "release", "warm.py", agent="w")
keep = sqlite3.connect(os.path.join(state, "locks.db"))  # keeps the WAL file in place
keep.execute("SELECT count(*) FROM holders").fetchone()
filler = os.path.join(state, "filler")
with open(filler, "wb") as handle:  # no block left
    try:
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    except OSError:
        pass
out["full"] = {
    "acquire": run("lock", "acquire", "src/db.py", "--mode", "write", agent="codex:A"),
    "holders": holders(),
    "edit": edit("session-B", "src/db.py"),
}
os.unlink(filler)
made = 0
try:  # no inode left: a change can still be committed to the WAL, but not published
    while True:
        open(os.path.join(state, f"inode-{made}"), "w").close()
        made += 1
except OSError:
    pass
out["inodes"] = {
    "acquire": run("lock", "acquire", "src/api.py", "--mode", "write", agent="codex:A"),
    "holders": holders(),
    "edit": edit("session-B", "src/api.py"),
    "record": open(os.path.join(state, "locks.gen")).read().split()[2],
    "snapshot": os.readlink(os.path.join(state, "locks.json")).rsplit(".", 1)[1],
}
print(json.dumps(out))
"""
)


def test_a_full_disk_leaves_the_hook_and_the_cli_agreeing(repo: pathlib.Path) -> None:
    result = in_namespace(FULL_DISK, str(repo), str(pathlib.Path(installed("flockguard")).parent))
    full = result["full"]
    # no block left: nothing is granted, and everyone says so
    assert full["acquire"]["code"] == 1, full
    assert "lock-table-disk-full" in full["acquire"]["err"], full["acquire"]["err"]
    assert "Traceback" not in full["acquire"]["err"]
    assert full["holders"] == [], full
    assert full["edit"]["decision"] == "deny" and "FG904" in full["edit"]["reason"], full["edit"]
    assert "FG701" not in full["edit"]["reason"]  # no phantom holder
    # no inode left: the change commits, its snapshot cannot be published; the hook sees the
    # snapshot is behind the generation record and asks the table, as the CLI does
    inodes = result["inodes"]
    assert inodes["acquire"]["code"] == 0, inodes
    assert int(inodes["snapshot"], 16) < int(inodes["record"], 16), inodes
    assert inodes["holders"] == [["src/api.py", "codex:A"]], inodes
    assert inodes["edit"]["decision"] == "deny", inodes["edit"]
    assert "FG701" in inodes["edit"]["reason"] and "codex:A" in inodes["edit"]["reason"]


READ_ONLY = (
    PRELUDE
    + r"""
subprocess.run(["mount", "--bind", state, state], check=True)
subprocess.run(["mount", "-o", "remount,bind,ro", state], check=True)
print(json.dumps({
    "holders": holders(),
    "acquire": run("lock", "acquire", "src/other.py", "--mode", "write", agent="codex:B"),
    "doctor": run("doctor"),
    "edit": edit("session-C", "src/db.py"),
}))
"""
)


def test_a_read_only_state_directory_is_shown_and_explained(repo: pathlib.Path) -> None:
    assert lock(repo, "acquire", "src/db.py", "--mode", "write", agent="codex:A").returncode == 0
    result = in_namespace(READ_ONLY, str(repo), str(pathlib.Path(installed("flockguard")).parent))
    assert result["holders"] == [["src/db.py", "codex:A"]], result  # status works read-only
    acquire = result["acquire"]
    assert acquire["code"] == 1 and "lock-table-unwritable" in acquire["err"], acquire
    assert "writable" in acquire["err"] and "Traceback" not in acquire["err"]
    doctor = result["doctor"]
    assert doctor["code"] == 1 and "cannot be written" in doctor["out"], doctor
    assert result["edit"]["decision"] == "deny" and "FG701" in result["edit"]["reason"], result


# ---- a table deleted or replaced under running processes -----------------------------------------


def _table_server(root: str, commands: Any) -> None:
    """A long-lived process with the table open, doing what it is told."""
    with open_manager(root) as manager:
        while (command := commands.recv()) is not None:
            action, resource, agent = command
            try:
                if action == "acquire":
                    commands.send(manager.acquire(resource, "write", agent, owner="").as_json())
                else:
                    commands.send(manager.renew(resource, agent).as_json())
            except LeaseLost as lost:
                commands.send({"lost": lost.message})


def test_a_deleted_table_is_noticed_and_no_process_grants_from_the_old_file(
    repo: pathlib.Path,
) -> None:
    mine, theirs = FORK.Pipe()
    server = FORK.Process(target=_table_server, args=(str(repo), theirs))
    server.start()
    try:
        mine.send(("acquire", "src/a.py", "codex:A"))
        first = mine.recv()
        assert first["granted"]
        state = repo / STATE
        for name in ("locks.db", "locks.db-wal", "locks.db-shm"):
            (state / name).unlink(missing_ok=True)
        # another agent finds a new, empty table: granted, with a token above the lost one's
        taken = lock(repo, "acquire", "src/a.py", "--mode", "write", "--json", agent="claude:B")
        assert taken.returncode == 0, taken.stderr
        second = json.loads(taken.stdout)
        assert second["token"] > first["token"], (first, second)
        # the holder of the lost table is told, and the old process does not grant from it
        mine.send(("renew", "src/a.py", "codex:A"))
        assert "the lock table was deleted" in mine.recv()["lost"]
        mine.send(("acquire", "src/a.py", "gemini:C"))
        third = mine.recv()
        assert not third["granted"] and [h["agent"] for h in third["holders"]] == ["claude:B"]
        assert held(repo) == [("src/a.py", "claude:B")]
        denied = write(repo, "src/a.py", "session-D")
        assert denied.decision == "deny" and "claude:B" in denied.reason
    finally:
        mine.send(None)
        server.join(10)


def test_a_replaced_table_is_noticed_and_its_holders_told(repo: pathlib.Path) -> None:
    state = repo / STATE
    assert lock(repo, "acquire", "old.py", "--mode", "write", agent="codex:A").returncode == 0
    with (
        sqlite3.connect(state / "locks.db") as source,
        sqlite3.connect(repo.parent / "backup.db") as backup,
    ):
        source.backup(backup)  # yesterday's table, with codex:A holding old.py
    assert lock(repo, "release", "old.py", agent="codex:A").returncode == 0
    granted = lock(repo, "acquire", "new.py", "--mode", "write", "--json", agent="claude:B")
    token = json.loads(granted.stdout)["token"]
    for name in ("locks.db-wal", "locks.db-shm"):
        (state / name).unlink(missing_ok=True)
    shutil.copy(repo.parent / "backup.db", state / "locks.db")  # restored over the live table
    again = lock(repo, "acquire", "other.py", "--mode", "write", "--json", agent="gemini:C")
    assert again.returncode == 0 and json.loads(again.stdout)["token"] > token
    # neither the restored holder nor the one the copy erased holds anything now
    assert held(repo) == [("other.py", "gemini:C")]
    for resource, agent in (("old.py", "codex:A"), ("new.py", "claude:B")):
        lost = lock(repo, "renew", resource, agent=agent)
        assert lost.returncode == 1 and "replaced" in lost.stderr, (resource, lost.stderr)


# ---- damage --------------------------------------------------------------------------------------


def test_a_damaged_table_gives_clear_errors_and_repair_tells_the_holders(
    repo: pathlib.Path,
) -> None:
    assert lock(repo, "acquire", "src/db.py", "--mode", "write", agent="codex:A").returncode == 0
    table = repo / STATE / "locks.db"
    with open(table, "r+b") as handle:  # the checkpointed table's header, overwritten
        handle.write(b"this is not a database" * 10)
    acquire = lock(repo, "acquire", "src/api.py", "--mode", "write", agent="claude:B")
    assert acquire.returncode == 1, acquire
    assert "lock-table-damaged" in acquire.stderr and "flockguard locks repair" in acquire.stderr
    assert "Traceback" not in acquire.stderr and "crashed" not in acquire.stderr
    shown = run_fg("status", cwd=repo, check=False)
    assert shown.returncode == 1 and "lock-table-damaged" in shown.stderr
    doctor = run_fg("doctor", cwd=repo, check=False)
    assert doctor.returncode == 1 and "damaged" in doctor.stdout and "repair" in doctor.stdout
    refused = write(repo, "src/api.py", "session-B")
    assert refused.decision == "deny" and "FG904" in refused.reason
    repaired = run_fg("locks", "repair", "--json", cwd=repo)
    report = json.loads(repaired.stdout)
    assert report["repaired"] and any("codex:A: src/db.py" in e for e in report["lost"])
    assert pathlib.Path(report["damaged_copy"]).exists()
    lost = lock(repo, "renew", "src/db.py", agent="codex:A")
    assert lost.returncode == 1 and "lease lost" in lost.stderr and "damaged" in lost.stderr
    assert lock(repo, "acquire", "src/db.py", "--mode", "write", agent="claude:B").returncode == 0
    assert run_fg("doctor", cwd=repo, check=False).returncode == 0
    assert "sound" in run_fg("locks", "repair", cwd=repo).stdout


def test_repair_keeps_the_leases_it_can_read(repo: pathlib.Path) -> None:
    long = "x" * 180  # rows big enough to spread the holders over several pages
    names = [f"src/{long}-{index:02d}.py" for index in range(40)]
    with open_manager(str(repo)) as manager:
        for index, name in enumerate(names):
            assert manager.acquire(name, "write", f"agent-{index:02d}", owner="").granted
    table = repo / STATE / "locks.db"
    data = table.read_bytes()  # the last connection closed: the table is checkpointed
    victim = names[20].encode()
    page = data.index(victim) // 4096
    with open(table, "r+b") as handle:
        handle.seek(page * 4096)
        handle.write(os.urandom(4096))
    report = json.loads(run_fg("locks", "repair", "--json", cwd=repo).stdout)
    assert report["repaired"]
    kept, lost = len(report["kept_holders"]), len(report["lost"])
    assert kept + lost == 40 and kept > 0 and lost > 0, report
    assert any(names[20] in entry for entry in report["lost"])
    assert len(held(repo)) == kept
    survivor = next(e for e in report["kept_holders"]).split(":")[0]
    index = int(survivor.split("-")[1])
    renewed = lock(repo, "renew", names[index], agent=survivor)
    assert renewed.returncode == 0, renewed.stderr


# ---- what the hook reads -------------------------------------------------------------------------


@pytest.mark.parametrize("auto_claim", [True, False])
def test_a_missing_unreadable_or_stale_snapshot_is_never_read_as_nobody_holds_anything(
    repo: pathlib.Path, auto_claim: bool
) -> None:
    """Without auto_claim the hook has only the table's view to go on (no claim of its own
    would notice the holder): it must not be a stale one."""
    config = repo / ".flockguard" / "config.toml"
    config.write_text(
        config.read_text().replace("auto_claim = true", f"auto_claim = {auto_claim}".lower())
    )
    state = repo / STATE
    assert lock(repo, "acquire", "warm.py", "--mode", "write", agent="w").returncode == 0
    before = state / os.readlink(state / "locks.json")
    old = before.read_bytes()  # a snapshot from before codex:A's lock
    assert lock(repo, "acquire", "src/db.py", "--mode", "write", agent="codex:A").returncode == 0
    current = state / os.readlink(state / "locks.json")
    current.write_bytes(old)  # the snapshot now lags behind the table
    lagging = write(repo, "src/db.py", "session-B")
    assert lagging.decision == "deny" and "codex:A" in lagging.reason
    current.write_bytes(b"{not json")
    garbled = write(repo, "src/db.py", "session-B")
    assert garbled.decision == "deny" and "codex:A" in garbled.reason
    (state / "locks.json").unlink()
    missing = write(repo, "src/db.py", "session-B")
    assert missing.decision == "deny" and "codex:A" in missing.reason


def test_an_edit_queued_behind_a_waiter_does_not_go_ahead_without_a_lease(
    repo: pathlib.Path,
) -> None:
    (repo / "src" / "db").mkdir(parents=True)
    assert lock(repo, "acquire", "src/db/other.py", "--mode", "write", agent="A").returncode == 0
    queued = lock(repo, "acquire", "src/db/", "--mode", "write", "--keep-queued", agent="B")
    assert queued.returncode == 75 and "position 1" in queued.stdout
    refused = write(repo, "src/db/models.py", "session-C")
    assert refused.decision == "deny", refused.json
    assert "FG704" in refused.reason and "B (write)" in refused.reason
    assert all(h["resource"] != "src/db/models.py" for h in status(repo)["holders"])
    assert lock(repo, "release", "src/db/other.py", agent="A").returncode == 0
    assert held(repo) == [("src/db/", "B")]  # B's turn came


# ---- leftovers of killed writers -----------------------------------------------------------------


def _churn(root: str, agent: str) -> None:
    rng = random.Random(agent)
    with open_manager(root) as manager:
        while True:
            resource = f"src/f{rng.randrange(4)}.py"
            if manager.acquire(resource, "write", agent, wait=0.05).granted:
                manager.release(resource, agent)


def test_snapshot_files_killed_writers_leave_are_cleaned_up(repo: pathlib.Path) -> None:
    state = repo / STATE
    for _round in range(3):
        writers = [FORK.Process(target=_churn, args=(str(repo), f"w{i}")) for i in range(6)]
        for writer in writers:
            writer.start()
        time.sleep(0.4)
        for writer in writers:  # mid-publication, for some of them
            os.kill(writer.pid, signal.SIGKILL)
            time.sleep(random.uniform(0, 0.01))
        for writer in writers:
            writer.join(5)
    # names an older flockguard (and a writer with a pid we may reuse) left
    for name in (
        f".locks.json.{os.getpid()}.7",
        f"locks.json.{os.getpid()}.link",
        "locks.json.link",
    ):
        (state / name).write_text("{}")
    assert lock(repo, "acquire", "last.py", "--mode", "write", agent="z").returncode == 0
    names = sorted(p.name for p in state.iterdir() if "locks.json" in p.name)
    assert len([n for n in names if n.startswith(".locks.json.")]) == 1, names
    assert not [n for n in names if n.endswith(".link")], names
    published = json.loads((state / "locks.json").read_text())
    assert "z" in [h["agent"] for h in published["holders"]]
    # the killed writers' locks: gone once anyone looks (status sweeps the dead)
    assert held(repo) == [("last.py", "z")]
    live = list((state / "live").iterdir())
    run_fg("doctor", cwd=repo, check=False)  # sweeps the fifos of the killed writers
    assert len(list((state / "live").iterdir())) < max(len(live), 1)


# ---- an agent's host process ---------------------------------------------------------------------

HOST = r"""
import json, os, subprocess, sys, time
hook, flockguard, repo, session, path = sys.argv[1:6]
time.sleep(0.5)  # a host is up a while before its first hook (a quicker one looks like a wrapper)
def call(payload):
    # as hosts do: the hook command through a shell
    return subprocess.run(["sh", "-c", f"'{hook}' claude-code"], input=json.dumps(payload),
                          capture_output=True, text=True, cwd=repo).stdout
base = {"session_id": session, "cwd": repo, "transcript_path": "/t.jsonl",
        "permission_mode": "default"}
call({**base, "hook_event_name": "SessionStart", "source": "startup"})
written = call({**base, "hook_event_name": "PreToolUse", "tool_name": "Write",
                "tool_input": {"file_path": os.path.join(repo, path), "content": "x"}})
# the agent's shell takes a lock for longer work, as the skill teaches
shell = subprocess.run(["bash", "-c", f"'{flockguard}' lock acquire docs/ --mode write --ttl 600"],
                       env={**os.environ, "FLOCKGUARD_AGENT": f"claude-code:{session}"},
                       capture_output=True, text=True, cwd=repo)
print(json.dumps({"write": json.loads(written or "{}"), "shell": shell.returncode}), flush=True)
time.sleep(120)
"""


def test_an_agent_whose_host_process_died_holds_nothing(repo: pathlib.Path) -> None:
    host = subprocess.Popen(
        [
            sys.executable, "-c", HOST, installed("flockguard-hook"), installed("flockguard"),
            str(repo), "host-1", "db.py",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        assert host.stdout is not None
        started = json.loads(host.stdout.readline())
        assert started == {"write": {}, "shell": 0}  # its write was allowed, and claimed
        assert held(repo) == [("db.py", "claude-code:host-1"), ("docs/", "claude-code:host-1")]
        refused = write(repo, "db.py", "other-2")
        assert refused.decision == "deny" and "claude-code:host-1" in refused.reason
        host.send_signal(signal.SIGKILL)
        host.wait(10)
    finally:
        if host.poll() is None:
            host.kill()
        if host.stdout is not None:
            host.stdout.close()
    # at once, not after the claim's 120 s or the shell lock's 600 s: nobody is behind them
    allowed = write(repo, "db.py", "other-2")
    assert allowed.json == {}, allowed.reason
    assert held(repo) == [("db.py", "claude-code:other-2")]
    lost = lock(repo, "release", "docs/", agent="claude-code:host-1")
    assert lost.returncode == 1 and "its owner is gone" in lost.stderr


def test_an_active_agent_keeps_its_leases_and_an_idle_one_loses_them(repo: pathlib.Path) -> None:
    config = repo / ".flockguard" / "config.toml"
    text = config.read_text()
    assert "claim_ttl = 120" in text
    config.write_text(text.replace("claim_ttl = 120", "claim_ttl = 1.5"))
    assert write(repo, "a.py", "busy").json == {}
    for _ in range(6):  # 3 s of activity, twice the lease: each action renews when half spent
        time.sleep(0.5)
        assert run_hook(repo, claude(repo, "Read", session="busy", file_path=str(repo / "b.py")))
    lease = next(h for h in status(repo)["holders"] if h["resource"] == "a.py")
    assert lease["agent"] == "claude-code:busy" and lease["expires"] > time.time()
    time.sleep(1.7)  # idle past its lease
    assert write(repo, "a.py", "other").json == {}
    assert held(repo) == [("a.py", "claude-code:other")]


def _stuck_writer(gen_path: str, ready: Any) -> None:
    """Takes the table's mutex and stops, like a writer frozen mid-change (SIGSTOP, swap)."""
    import fcntl

    fd = os.open(gen_path, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    ready.send(True)
    os.kill(os.getpid(), signal.SIGSTOP)


def test_a_stuck_writer_gives_a_clear_error_within_the_wait(repo: pathlib.Path) -> None:
    assert lock(repo, "acquire", "warm.py", "--mode", "write", agent="w").returncode == 0
    mine, theirs = FORK.Pipe()
    stuck = FORK.Process(target=_stuck_writer, args=(str(repo / STATE / "locks.gen"), theirs))
    stuck.start()
    try:
        assert mine.recv()
        started = time.monotonic()
        busy = lock(repo, "acquire", "x.py", "--mode", "write", "--wait", "1", agent="a")
        took = time.monotonic() - started
        assert busy.returncode == 1 and "lock-table-busy" in busy.stderr, busy.stderr
        assert f"pid {stuck.pid}" in busy.stderr and "Traceback" not in busy.stderr
        assert "stopped" in busy.stderr  # why it does not let go, and what would
        assert took < 2 + 2.0, f"a stuck table held `--wait 1` for {took:.1f} s"
        refused = write(repo, "x.py", "session-B")  # the hook cannot claim: it says why
        assert refused.decision == "deny" and "FG904" in refused.reason
    finally:
        stuck.kill()
        stuck.join(5)
    assert lock(repo, "acquire", "x.py", "--mode", "write", agent="a").returncode == 0


def test_the_generation_record_only_moves_forward(repo: pathlib.Path) -> None:
    state = str(repo / STATE)
    assert lock(repo, "acquire", "a.py", "--mode", "write", agent="a").returncode == 0
    first = generation.read(os.path.join(state, generation.FILE))
    assert lock(repo, "release", "a.py", agent="a").returncode == 0
    second = generation.read(os.path.join(state, generation.FILE))
    assert first is not None and second is not None
    assert second.generation == first.generation and second.version == first.version + 1
    assert second.next_token >= first.next_token


def test_a_hook_run_through_a_wrapper_script_still_ties_its_lease_to_the_host(
    repo: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    """A wrapper that does not `exec` the hook is a process of its own; it exits with the hook,
    and a lease tied to it died at once (so the next agent's edit went through)."""
    wrapper = tmp_path / "fg-hook"
    wrapper.write_text(f"#!/bin/sh\n{installed('flockguard-hook')} claude-code\n")
    wrapper.chmod(0o755)

    def edit(session: str) -> dict[str, Any]:
        payload = claude(repo, "Write", session=session, file_path=str(repo / "x.py"), content="")
        proc = subprocess.run(
            [str(wrapper)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            cwd=repo,
            check=False,
        )
        document: dict[str, Any] = json.loads(proc.stdout)
        return document

    assert edit("first") == {}
    assert held(repo) == [("x.py", "claude-code:first")]
    second = edit("second")
    assert second["hookSpecificOutput"]["permissionDecision"] == "deny", second
    assert "claude-code:first" in second["hookSpecificOutput"]["permissionDecisionReason"]


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf src",
        "rm -r src/sub",
        "mv src elsewhere",
        "git checkout -- src",
        "find src -name '*.py' -delete",
        "rsync -a --delete /tmp/ src/",
        # what writes the whole tree: the root has no name of its own, and was let through
        "tar -xf a.tar",
        "git reset --hard",
        "patch -p1 < fix.diff",
    ],
)
def test_a_directory_operation_over_another_agents_file_is_refused(
    repo: pathlib.Path, command: str
) -> None:
    (repo / "src" / "sub").mkdir(parents=True)
    (repo / "src" / "sub" / "a.py").write_text("x\n")
    assert lock(repo, "acquire", "src/sub/a.py", "--mode", "write", agent="codex:A").returncode == 0
    refused = run_hook(repo, claude(repo, "Bash", session="other", command=command))
    assert refused.decision == "deny" and "FG701" in refused.reason, (command, refused.json)
    assert "codex:A" in refused.reason


def test_fifos_in_place_of_the_state_files_never_hang_anyone(repo: pathlib.Path) -> None:
    assert lock(repo, "acquire", "a.py", "--mode", "write", agent="codex:A").returncode == 0
    state = repo / STATE
    for name in ("locks.json", "locks.gen"):
        (state / name).unlink()
        os.mkfifo(state / name)
    started = time.monotonic()
    refused = write(repo, "a.py", "session-B")  # the table itself still says who holds it
    assert refused.decision == "deny" and "codex:A" in refused.reason, refused.json
    other = write(repo, "b.py", "session-B")  # no lease can be taken: said, not hung
    assert other.decision == "deny" and "FG904" in other.reason and "locks.gen" in other.reason
    acquire = lock(repo, "acquire", "b.py", "--mode", "write", agent="codex:A")
    assert acquire.returncode == 1 and "not a regular file" in acquire.stderr, acquire.stderr
    doctor = run_fg("doctor", cwd=repo, check=False)
    assert doctor.returncode == 1 and "locks.gen is not a regular file" in doctor.stdout
    assert time.monotonic() - started < 20
