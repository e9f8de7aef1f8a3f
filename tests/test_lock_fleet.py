"""A fleet on one lock table: 64 agent processes, killed waiters and requesters, no polling.

Each agent is its own OS process. What the checks rely on is what the agents saw, not what the
manager says of itself: every agent logs, with its own clock, when an acquire returned a grant
(after the grant) and when it let go (before the release), with the fencing token it got. Two
agents whose conflicting locks overlapped in those logged intervals overlapped in truth.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import pathlib
import random
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from conftest import installed, lock
from flockguard.locking import generation
from flockguard.locking.manager import LeaseLost, open_manager

FORK = multiprocessing.get_context("fork")
AGENTS = 64
CYCLES = 12
RESOURCES = [f"src/m{index:02d}.py" for index in range(20)]


def _agent(root: str, name: str, cycles: int, seed: int, gate: Any, out: str) -> None:
    rng = random.Random(seed)
    log = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with open_manager(root) as manager:
        gate.wait()
        for _ in range(cycles):
            resource = rng.choice(RESOURCES)
            asked = time.time()
            grant = manager.acquire(resource, "write", name, wait=60.0)
            got = time.time()
            if not grant.granted:
                os.write(log, (json.dumps({"ev": "refused", "res": resource}) + "\n").encode())
                continue
            time.sleep(rng.uniform(0, 0.002))
            end = time.time()
            record = {
                "ev": "held", "res": resource, "token": grant.token, "asked": asked,
                "start": got, "end": end,
            }  # fmt: skip
            os.write(log, (json.dumps(record) + "\n").encode())
            manager.release(resource, name)
    os.close(log)


def run_fleet(root: str, logs: pathlib.Path, agents: int, cycles: int) -> float:
    open_manager(root).close()
    gate = FORK.Barrier(agents + 1, timeout=120)
    children = [
        FORK.Process(
            target=_agent, args=(root, f"agent{i:02d}", cycles, i, gate, str(logs / f"{i}.jsonl"))
        )
        for i in range(agents)
    ]
    for child in children:
        child.start()
    gate.wait()
    started = time.perf_counter()
    for child in children:
        child.join(240)
    elapsed = time.perf_counter() - started
    crashed = [child.exitcode for child in children if child.exitcode != 0]
    for child in children:
        if child.is_alive():
            child.kill()
    assert not crashed, f"agent processes crashed or hung: exit codes {crashed}"
    return elapsed


def check_no_overlap(held: list[dict[str, Any]]) -> None:
    """Per resource, in fencing-token order, each lease starts after the one before ended."""
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for record in held:
        by_resource.setdefault(record["res"], []).append(record)
    tokens = [record["token"] for record in held]
    assert len(tokens) == len(set(tokens)), "a fencing token was handed out twice"
    for resource, records in by_resource.items():
        records.sort(key=lambda r: r["token"])
        for earlier, later in itertools.pairwise(records):
            assert later["start"] >= earlier["end"], (
                f"{resource}: token {later['token']} held from {later['start']} while token "
                f"{earlier['token']} was held until {earlier['end']}"
            )


def test_64_agents_contend_without_crash_or_overlap(tmp_path: pathlib.Path) -> None:
    root = str(tmp_path / "repo")
    logs = tmp_path / "logs"
    logs.mkdir()
    elapsed = run_fleet(root, logs, AGENTS, CYCLES)
    held = [
        json.loads(line)
        for path in logs.iterdir()
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    refused = [r for r in held if r["ev"] == "refused"]
    held = [r for r in held if r["ev"] == "held"]
    assert not refused, f"{len(refused)} acquires with a 60 s wait were not granted"
    assert len(held) == AGENTS * CYCLES
    check_no_overlap(held)
    waits = sorted(r["start"] - r["asked"] for r in held)
    p99 = waits[int(0.99 * len(waits))]
    print(
        f"{len(held)} grants by {AGENTS} processes in {elapsed:.1f} s "
        f"({len(held) / elapsed:.0f}/s); acquire wait p50 {waits[len(waits) // 2] * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.0f} ms"
    )
    with open_manager(root) as manager:
        document = manager.status()
    assert document["holders"] == [] and document["waiters"] == [], document


# ---- waiting: no writes, deadlines kept ----------------------------------------------------------


def _version(root: str) -> int:
    record = generation.read(os.path.join(root, ".flockguard", "state", generation.FILE))
    assert record is not None
    return record.version


def _wait_for(root: str, resource: str, agent: str, wait: float, out: Any) -> None:
    with open_manager(root) as manager:
        started = time.monotonic()
        cpu = time.process_time()
        grant = manager.acquire(resource, "write", agent, wait=wait)
        out.send((grant.granted, time.monotonic() - started, time.process_time() - cpu))


def test_a_waiter_writes_nothing_while_it_waits_and_keeps_its_deadline(tmp_path: Any) -> None:
    root = str(tmp_path)
    with open_manager(root) as manager:
        assert manager.acquire("src/a.py", "write", "holder").granted
        before = _version(root)
        mine, theirs = FORK.Pipe()
        child = FORK.Process(target=_wait_for, args=(root, "src/a.py", "waiter", 1.5, theirs))
        child.start()
        try:
            time.sleep(1.0)
            # one change to queue the request; none while it waits (the old waiter wrote every
            # 50 ms to keep its request alive)
            assert _version(root) - before == 1
            granted, took, cpu = mine.recv()
        finally:
            child.join(10)
        assert not granted
        assert 1.5 <= took <= 1.6, f"--wait 1.5 answered after {took:.3f} s"
        # asleep on its fifo: a few looks at the table, not a poll every few milliseconds
        assert cpu < 0.05, f"the waiter used {cpu * 1000:.0f} ms of CPU waiting 1.5 s"
        # the lapsed request is gone from the table without a write of its own
        assert manager.status()["waiters"] == []


def test_a_waiter_is_woken_by_the_release_not_by_a_poll(tmp_path: Any) -> None:
    root = str(tmp_path)
    with open_manager(root) as manager:
        assert manager.acquire("src/a.py", "write", "holder").granted
        mine, theirs = FORK.Pipe()
        child = FORK.Process(target=_wait_for, args=(root, "src/a.py", "waiter", 30.0, theirs))
        child.start()
        try:
            deadline = time.time() + 10
            while not manager.status()["waiters"] and time.time() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)
            released = time.monotonic()
            manager.release("src/a.py", "holder")
            granted, _took, _cpu = mine.recv()
            handed = time.monotonic() - released
        finally:
            child.join(10)
        assert granted
        assert handed < 0.1, f"the waiter took {handed * 1000:.0f} ms to learn of its grant"


# ---- the dead get nothing, and hold nothing ------------------------------------------------------


def test_a_killed_waiter_is_not_granted_what_it_waited_for(tmp_path: Any) -> None:
    """Killed well within its 30 s wait: the old manager granted it on release, and the lock then
    stayed held for a whole TTL with nobody behind it."""
    root = str(tmp_path)
    with open_manager(root, default_ttl=300.0) as manager:
        assert manager.acquire("src/a.py", "write", "holder").granted
        _mine, theirs = FORK.Pipe()
        child = FORK.Process(target=_wait_for, args=(root, "src/a.py", "victim", 30.0, theirs))
        child.start()
        deadline = time.time() + 10
        while not manager.status()["waiters"] and time.time() < deadline:
            time.sleep(0.01)
        assert [w["agent"] for w in manager.status()["waiters"]] == ["victim"]
        os.kill(child.pid, signal.SIGKILL)
        child.join(5)
        manager.release("src/a.py", "holder")
        document = manager.status()
        assert document["holders"] == [] and document["waiters"] == [], document
        assert manager.acquire("src/a.py", "write", "next").granted


def _hold_forever(root: str, resource: str, agent: str, ready: Any) -> None:
    with open_manager(root, default_ttl=300.0) as manager:
        ready.send(manager.acquire(resource, "write", agent).granted)
        time.sleep(120)


def test_the_locks_of_a_killed_process_go_with_it(tmp_path: Any) -> None:
    root = str(tmp_path)
    mine, theirs = FORK.Pipe()
    child = FORK.Process(target=_hold_forever, args=(root, "src/a.py", "doomed", theirs))
    child.start()
    assert mine.recv()
    with open_manager(root) as manager:
        refused = manager.acquire("src/a.py", "write", "other")
        assert not refused.granted and refused.holders[0]["agent"] == "doomed"
        os.kill(child.pid, signal.SIGKILL)
        child.join(5)
        # not after the 300 s lease: at once, since its owner is dead
        assert manager.acquire("src/a.py", "write", "other").granted
        with pytest.raises(LeaseLost, match="its owner is gone"):
            manager.release("src/a.py", "doomed")


def _full_pipe() -> tuple[int, int]:
    """A pipe whose buffer is full: a process writing to it blocks."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        while True:
            os.write(write_end, b"x" * 65536)
    except BlockingIOError:
        pass
    os.set_blocking(write_end, True)
    return read_end, write_end


def test_a_cli_granted_a_lock_that_dies_before_telling_anyone_lets_it_go(
    repo: pathlib.Path,
) -> None:
    """The requester's answer cannot be written (its stdout is a full pipe), so it is killed
    holding a grant nobody learnt of: the lock must not stay held for the lease's 300 s."""
    read_end, write_end = _full_pipe()
    proc = subprocess.Popen(
        [installed("flockguard"), "lock", "acquire", "src/db.py", "--mode", "write"],
        cwd=repo,
        env={**os.environ, "FLOCKGUARD_AGENT": "codex:crashing"},
        stdout=write_end,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        deadline = time.time() + 20
        held: list[dict[str, Any]] = []
        while not held and time.time() < deadline:
            status = subprocess.run(
                [installed("flockguard"), "status", "--json"],
                cwd=repo,
                capture_output=True,
                text=True,
                check=True,
            )
            held = json.loads(status.stdout)["holders"]
            time.sleep(0.05)
        assert [h["agent"] for h in held] == ["codex:crashing"], held
        assert proc.poll() is None, "the requester should be blocked writing its answer"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        os.close(read_end)
        if proc.poll() is None:
            proc.kill()
    taken = lock(repo, "acquire", "src/db.py", "--mode", "write", "--json", agent="claude:2")
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert json.loads(taken.stdout)["granted"] is True


def test_a_cli_grant_that_was_told_outlives_the_cli(repo: pathlib.Path) -> None:
    """Once the answer is out, the lock is the agent's (here: its lease's), not the process's."""
    assert lock(repo, "acquire", "src/db.py", "--mode", "write", agent="codex:1").returncode == 0
    refused = lock(repo, "acquire", "src/db.py", "--mode", "write", agent="claude:2")
    assert refused.returncode == 75 and "codex:1" in refused.stdout


def test_release_of_a_lost_lease_says_so_and_fails(repo: pathlib.Path) -> None:
    assert (
        lock(repo, "acquire", "a.py", "--mode", "write", "--ttl", "0.3", agent="a").returncode == 0
    )
    time.sleep(0.5)
    lost = lock(repo, "release", "a.py", agent="a")
    assert lost.returncode == 1 and "lease lost" in lost.stderr and "expired" in lost.stderr
    never = lock(repo, "release", "b.py", agent="a")
    assert never.returncode == 1 and "does not hold b.py" in never.stderr
    assert "Traceback" not in lost.stderr + never.stderr


# ---- the CLI under contention --------------------------------------------------------------------

CLI_WORKER = r"""
import json, subprocess, sys, time
flockguard, agent, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
env = {"FLOCKGUARD_AGENT": agent, "PATH": "/usr/bin:/bin"}
for index in range(rounds):
    resource = f"src/r{index % 3}.py"
    for args in (["acquire", resource, "--mode", "write", "--wait", "30", "--json"],
                 ["release", resource]):
        started = time.monotonic()
        proc = subprocess.run([flockguard, "lock", *args], capture_output=True, text=True, env=env)
        print(json.dumps({"args": args, "code": proc.returncode, "err": proc.stderr,
                          "out": proc.stdout, "took": time.monotonic() - started}), flush=True)
"""


def test_many_cli_agents_never_see_database_is_locked(repo: pathlib.Path) -> None:
    """32 CLI agents beside a fleet of 64 library agents on the same table (the old manager
    answered some of them "database is locked", and let `--wait 30` run out)."""
    logs = repo.parent / "fleet-logs"
    logs.mkdir()
    background = FORK.Process(target=run_fleet, args=(str(repo), logs, 64, 40))
    background.start()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CLI_WORKER, installed("flockguard"), f"agent-{i}", "3"],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(32)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        results += [json.loads(line) for line in out.splitlines()]
    assert len(results) == 32 * 3 * 2
    bad = [r for r in results if r["code"] != 0]
    assert not bad, bad[:3]
    text = " ".join(r["err"] for r in results)
    assert "locked" not in text and "crashed" not in text and "Traceback" not in text
    granted = [json.loads(r["out"]) for r in results if r["args"][0] == "acquire"]
    assert all(g["granted"] for g in granted)
    background.join(240)
    assert background.exitcode == 0


def test_wait_is_kept_within_100_ms_while_the_table_is_busy(repo: pathlib.Path) -> None:
    """A fleet keeps the table busy; a waiter for a lock that stays held answers on time."""
    root = str(repo)
    holder = lock(repo, "acquire", "held.py", "--mode", "write", agent="holder")
    assert holder.returncode == 0
    logs = repo.parent / "fleet-logs"
    logs.mkdir()
    background = FORK.Process(target=run_fleet, args=(root, logs, 24, 40))
    background.start()
    try:
        time.sleep(0.5)
        for wait in (0.5, 1.0):
            mine, theirs = FORK.Pipe()
            child = FORK.Process(target=_wait_for, args=(root, "held.py", "late", wait, theirs))
            child.start()
            granted, took, _cpu = mine.recv()
            child.join(10)
            assert not granted
            assert wait <= took <= wait + 0.1, f"--wait {wait} answered after {took:.3f} s"
        started = time.monotonic()
        cli = lock(repo, "acquire", "held.py", "--mode", "write", "--wait", "2", agent="cli")
        took = time.monotonic() - started
        assert cli.returncode == 75, cli.stderr
        assert took < 2 + 1.5, f"`lock acquire --wait 2` took {took:.1f} s (process included)"
    finally:
        background.join(240)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["acquire", "a.py", "--mode", "write", "--ttl", "nan"], "lock-ttl-invalid"),
        (["acquire", "a.py", "--mode", "write", "--ttl", "inf"], "lock-ttl-invalid"),
        (["acquire", "a.py", "--mode", "write", "--wait", "inf"], "lock-wait-invalid"),
        (["renew", "a.py", "--ttl", "-1"], "lock-ttl-invalid"),
        (["acquire", "a\udcff.py", "--mode", "write"], "lock-resource-invalid"),
        (["release", "--all", "--agent", "ag\udcffent"], "lock-agent-invalid"),
    ],
)
def test_odd_arguments_are_named_not_crashed_on(
    repo: pathlib.Path, args: list[str], says: str
) -> None:
    encoded = [os.fsencode(a) for a in args]  # as a shell passes bytes that are no UTF-8
    proc = subprocess.run(
        [os.fsencode(installed("flockguard")), b"lock", *encoded],
        cwd=repo,
        env={**os.environ, "FLOCKGUARD_AGENT": "codex:1"},
        capture_output=True,
        check=False,
    )
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode == 1 and says in err and "crashed" not in err, err
