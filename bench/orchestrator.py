"""Throughput and hand-off latency of the orchestrator's lock manager (SQLite backend).

Throughput, acquire+release pairs per second, each against a raw SQLite baseline measured in the
same run, interleaved run by run, on a table like the manager's ``holders`` (same WAL and
``synchronous=NORMAL``): ``BEGIN IMMEDIATE; INSERT …; COMMIT`` then ``BEGIN IMMEDIATE; DELETE …;
COMMIT`` per pair — the floor of a lock table that commits every change.

* one process: ``write`` on one hot resource, and on 100 resources round-robin;
* 8 forked processes started together: one hot resource (``wait=30``: every pair queues behind
  the others, so it measures hand-offs), and 100 resources picked at random (rare conflicts).
  The raw loops use one row per process (the database lock is all they contend for).

The fleet: 64 processes, one agent each, 200 acquire(wait)+release cycles each over 20
resources, started together — the shape of a fleet of agents on one repository. Every agent logs
what it saw (its own clock after each grant and before each release, and the fencing token); the
bench then checks from those logs alone that no two leases on a resource overlapped and that no
token was given twice, and prints grants/s, the acquire wait p50/p99, and the same 64 processes
doing the raw SQLite pair over the same 20 rows as the baseline.

Hand-off latency: process A holds ``write`` on a resource, process B waits for it
(``acquire(wait=30)``, queued: A checks the table before letting go); after a random 0-5 ms
pause A takes ``time.time()`` right before ``release`` and B right after its ``acquire``
returns. Baseline: the same two processes passing a timestamp over a pipe (the cost of waking a
blocked process). Prints p50 / p90 / p99 over ``--handoffs`` hand-offs.

Targets: >= 2,000 pairs/s in one process; hand-off p50 <= 5 ms; the fleet >= 400 grants/s with
0 crashes and 0 overlaps.

    python bench/orchestrator.py [--runs 3] [--seconds 0.6] [--handoffs 300] [--fleet 64x200]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import queue
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from typing import Any

from flockguard.locking.manager import open_manager

HOT = ["src/hot.py"]
SPREAD = [f"src/m{index:03d}.py" for index in range(100)]
FLEET = [f"src/f{index:02d}.py" for index in range(20)]
FORK = multiprocessing.get_context("fork")


# ---- the loops -----------------------------------------------------------------------------------


def manager_loop(root: str, agent: str, names: list[str], seconds: float, shuffle: bool) -> int:
    """acquire+release pairs done in ``seconds``."""
    rng = random.Random(agent)
    with open_manager(root) as manager:
        pairs = 0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            name = rng.choice(names) if shuffle else names[pairs % len(names)]
            grant = manager.acquire(name, "write", agent, wait=30.0)
            if not grant.granted:
                raise SystemExit(f"not granted: {grant}")
            manager.release(name, agent)
            pairs += 1
        return pairs


RAW_SCHEMA = """
CREATE TABLE IF NOT EXISTS holders (
    resource TEXT NOT NULL, agent TEXT NOT NULL, mode TEXT NOT NULL, priority TEXT NOT NULL,
    token INTEGER NOT NULL, since REAL NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (resource, agent));
"""


def raw_connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript("BEGIN IMMEDIATE;" + RAW_SCHEMA + "COMMIT;")
    return db


def raw_loop(path: str, agent: str, names: list[str], seconds: float, shuffle: bool) -> int:
    rng = random.Random(agent)
    db = raw_connect(path)
    pairs = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        name = rng.choice(names) if shuffle else names[pairs % len(names)]
        now = time.time()
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO holders VALUES (?, ?, 'write', 'normal', ?, ?, ?)",
            (name, agent, pairs, now, now + 300.0),
        )
        db.execute("COMMIT")
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM holders WHERE resource = ? AND agent = ?", (name, agent))
        db.execute("COMMIT")
        pairs += 1
    db.close()
    return pairs


def _child(loop: Any, where: str, agent: str, names: list[str], seconds: float,
           gate: Any, results: Any) -> None:  # fmt: skip
    gate.wait()
    results.put(loop(where, agent, names, seconds, True))


def in_one_process(loop: Any, where: str, names: list[str], seconds: float) -> float:
    """Pairs per second of ``loop`` run here."""
    started = time.perf_counter()
    pairs = loop(where, "a", names, seconds, False)
    return pairs / (time.perf_counter() - started)


def in_processes(loop: Any, where: str, names: list[str], seconds: float, count: int) -> float:
    """Pairs per second of ``count`` forked processes started together."""
    # create the table first: concurrent first opens of a fresh database can fail with
    # "database is locked" (PRAGMA journal_mode=WAL does not wait; see the stress tests)
    if loop is manager_loop:
        open_manager(where).close()
    else:
        raw_connect(where).close()
    gate = FORK.Barrier(count + 1, timeout=60)
    results = FORK.Queue()
    children = [
        FORK.Process(target=_child, args=(loop, where, f"p{i}", names, seconds, gate, results))
        for i in range(count)
    ]
    try:
        for child in children:
            child.start()
        gate.wait()
        started = time.perf_counter()
        counts: list[int] = []
        while len(counts) < count:
            try:
                counts.append(results.get(timeout=0.5))
            except queue.Empty:
                failed = [c.exitcode for c in children if c.exitcode not in (None, 0)]
                if failed or time.perf_counter() > started + seconds + 60:
                    raise SystemExit(f"bench processes failed: {failed}") from None
        elapsed = time.perf_counter() - started
        total = sum(counts)
        for child in children:
            child.join(10)
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
            child.join(5)
    return total / elapsed


# ---- the fleet -----------------------------------------------------------------------------------


def _fleet_agent(root: str, agent: str, cycles: int, gate: Any, results: Any, raw: bool) -> None:
    rng = random.Random(agent)
    seen: list[tuple[str, int, float, float, float]] = []
    if raw:
        db = raw_connect(root)
        gate.wait()
        for index in range(cycles):
            name = rng.choice(FLEET)
            asked = time.time()
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT OR REPLACE INTO holders VALUES (?, ?, 'write', 'normal', ?, ?, ?)",
                (name, agent, index, asked, asked + 300.0),
            )
            db.execute("COMMIT")
            got = time.time()
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM holders WHERE resource = ? AND agent = ?", (name, agent))
            db.execute("COMMIT")
            seen.append((name, index, asked, got, got))
        db.close()
        results.put(seen)
        return
    with open_manager(root) as manager:
        gate.wait()
        for _ in range(cycles):
            name = rng.choice(FLEET)
            asked = time.time()
            grant = manager.acquire(name, "write", agent, wait=120.0)
            got = time.time()
            if not grant.granted:
                raise SystemExit(f"{agent}: not granted within 120 s: {grant}")
            end = time.time()
            seen.append((name, grant.token, asked, got, end))
            manager.release(name, agent)
    results.put(seen)


def fleet(where: str, agents: int, cycles: int, raw: bool) -> tuple[float, list[Any]]:
    """(grants per second, what each agent saw) for ``agents`` processes of ``cycles`` each."""
    if raw:
        raw_connect(where).close()
    else:
        open_manager(where).close()
    gate = FORK.Barrier(agents + 1, timeout=120)
    results = FORK.Queue()
    children = [
        FORK.Process(target=_fleet_agent, args=(where, f"a{i:02d}", cycles, gate, results, raw))
        for i in range(agents)
    ]
    seen: list[Any] = []
    try:
        for child in children:
            child.start()
        gate.wait()
        started = time.perf_counter()
        for _ in children:
            try:
                seen += results.get(timeout=600)
            except queue.Empty:
                failed = [c.exitcode for c in children if c.exitcode not in (None, 0)]
                raise SystemExit(f"fleet processes failed or hung: {failed}") from None
        elapsed = time.perf_counter() - started
        for child in children:
            child.join(30)
        crashed = [c.exitcode for c in children if c.exitcode != 0]
        if crashed:
            raise SystemExit(f"fleet processes crashed: {crashed}")
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
            child.join(5)
    return len(seen) / elapsed, seen


def overlaps(seen: list[tuple[str, int, float, float, float]]) -> int:
    """Leases on one resource that overlapped, judged from the agents' own logs in token order
    (each logged its start after its grant and its end before its release)."""
    tokens = [token for _name, token, _asked, _got, _end in seen]
    found = len(tokens) - len(set(tokens))
    by_name: dict[str, list[tuple[int, float, float]]] = {}
    for name, token, _asked, got, end in seen:
        by_name.setdefault(name, []).append((token, got, end))
    for leases in by_name.values():
        leases.sort()
        found += sum(1 for a, b in itertools.pairwise(leases) if b[1] < a[2])
    return found


# ---- hand-off latency ----------------------------------------------------------------------------


def _waiter(root: str, resource: str, commands: Any, replies: Any) -> None:
    with open_manager(root) as manager:
        while commands.recv() == "go":
            grant = manager.acquire(resource, "write", "B", wait=30.0)
            granted_at = time.time()
            replies.send((grant.granted, granted_at))
            manager.release(resource, "B")


def _pipe_waiter(commands: Any, replies: Any) -> None:
    while True:
        sent = commands.recv()
        if sent is None:
            return
        replies.send(time.time() - sent)


def handoffs(root: str, count: int) -> tuple[list[float], list[float]]:
    """Release→grant latencies (seconds), and the pipe wake-up baseline."""
    resource = "src/handoff.py"
    to_b, b_commands = FORK.Pipe()
    b_replies, from_b = FORK.Pipe()
    waiter = FORK.Process(target=_waiter, args=(root, resource, b_commands, b_replies))
    to_p, p_commands = FORK.Pipe()
    p_replies, from_p = FORK.Pipe()
    pipe = FORK.Process(target=_pipe_waiter, args=(p_commands, p_replies))
    latencies: list[float] = []
    wakeups: list[float] = []
    rng = random.Random(7)
    try:
        waiter.start()
        pipe.start()
        with open_manager(root) as manager:
            table = sqlite3.connect(os.path.join(root, ".flockguard", "state", "locks.db"))
            for _ in range(count):
                grant = manager.acquire(resource, "write", "A", wait=30.0)
                assert grant.granted, grant
                to_b.send("go")
                while not table.execute("SELECT 1 FROM waiters WHERE agent = 'B'").fetchone():
                    time.sleep(0.0002)
                time.sleep(rng.uniform(0.0, 0.005))
                released_at = time.time()
                manager.release(resource, "A")
                granted, granted_at = from_b.recv()
                assert granted
                latencies.append(granted_at - released_at)
                time.sleep(rng.uniform(0.0, 0.005))
                to_p.send(time.time())
                wakeups.append(from_p.recv())
            table.close()
        to_b.send("stop")
        to_p.send(None)
        waiter.join(10)
        pipe.join(10)
    finally:
        for child in (waiter, pipe):
            if child.is_alive():
                child.kill()
            child.join(5)
    return latencies, wakeups


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


# ---- main ----------------------------------------------------------------------------------------


def fresh(base: str, name: str) -> str:
    path = os.path.join(base, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=0.6, help="per single-process run")
    parser.add_argument("--handoffs", type=int, default=300)
    parser.add_argument("--fleet", default="64x200", help="AGENTSxCYCLES (0 to skip)")
    options = parser.parse_args()
    base = tempfile.mkdtemp(prefix="fg-bench-orch-")
    seconds = options.seconds
    many = seconds * 2
    cases: dict[str, Any] = {
        "1 process, 1 hot resource": lambda loop, where: in_one_process(loop, where, HOT, seconds),
        "1 process, 100 resources": lambda loop, where: in_one_process(
            loop, where, SPREAD, seconds
        ),
        "8 processes, 1 hot resource": lambda loop, where: in_processes(loop, where, HOT, many, 8),
        "8 processes, 100 resources": lambda loop, where: in_processes(
            loop, where, SPREAD, many, 8
        ),
    }
    manager_rates: dict[str, list[float]] = {name: [] for name in cases}
    raw_rates: dict[str, list[float]] = {name: [] for name in cases}
    started = time.perf_counter()
    try:
        for _ in range(options.runs):  # interleaved: machine drift hits both alike
            for name, run in cases.items():
                manager_rates[name].append(run(manager_loop, fresh(base, "repo")))
                raw_db = os.path.join(fresh(base, "raw"), "raw.db")
                raw_rates[name].append(run(raw_loop, raw_db))
        latencies, wakeups = handoffs(fresh(base, "handoff"), options.handoffs)
        fleet_runs: list[tuple[float, float, list[Any]]] = []
        if options.fleet != "0":
            agents, cycles = (int(part) for part in options.fleet.split("x"))
            for _ in range(options.runs):  # interleaved with its baseline, run by run
                mine, seen = fleet(fresh(base, "fleet"), agents, cycles, raw=False)
                raw_db = os.path.join(fresh(base, "raw"), "raw.db")
                raw, _ = fleet(raw_db, agents, cycles, raw=True)
                fleet_runs.append((mine, raw, seen))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} CPUs; medians of {options.runs} interleaved runs"
    )
    print(f"  {'acquire+release pairs/s':<30} {'manager':>10} {'raw SQLite':>11} {'ratio':>7}")
    for name in cases:
        mine = statistics.median(manager_rates[name])
        raw = statistics.median(raw_rates[name])
        print(f"  {name:<30} {mine:10,.0f} {raw:11,.0f} {mine / raw:7.2f}")
    print(f"  {f'release→grant hand-off ({len(latencies)}x)':<30} {'p50':>8} {'p90':>8} {'p99':>8}")
    for name, values in (("manager (B waits in acquire)", latencies), ("pipe wake-up", wakeups)):
        print(
            f"  {name:<30} "
            + " ".join(f"{percentile(values, q) * 1000:6.2f}ms" for q in (0.5, 0.9, 0.99))
        )
    ratio = percentile(latencies, 0.5) / percentile(wakeups, 0.5)
    print(f"  hand-off p50 / pipe wake-up p50: {ratio:.1f}x")
    fleet_rate = 0.0
    if fleet_runs:
        fleet_rate = statistics.median(run[0] for run in fleet_runs)
        raw_rate = statistics.median(run[1] for run in fleet_runs)
        seen = [entry for run in fleet_runs for entry in run[2]]
        waits = sorted(got - asked for _name, _token, asked, got, _end in seen)
        print(
            f"  fleet {options.fleet} over {len(FLEET)} resources: {fleet_rate:,.0f} grants/s "
            f"(raw SQLite pairs {raw_rate:,.0f}/s, ratio {fleet_rate / raw_rate:.2f}); "
            f"{len(seen)} grants, {overlaps(seen)} overlaps, 0 crashes; acquire wait p50 "
            f"{percentile(waits, 0.5) * 1000:.1f} ms, p99 {percentile(waits, 0.99) * 1000:.0f} ms"
        )
    single = statistics.median(manager_rates["1 process, 1 hot resource"])
    p50 = percentile(latencies, 0.5) * 1000
    fleet_met = "skipped" if not fleet_runs else ("met" if fleet_rate >= 400 else "NOT met")
    print(
        f"targets: >= 2,000 pairs/s in one process: {single:,.0f} "
        f"({'met' if single >= 2000 else 'NOT met'}); hand-off p50 <= 5 ms: {p50:.2f} ms "
        f"({'met' if p50 <= 5 else 'NOT met'}); fleet >= 400 grants/s: {fleet_rate:,.0f} "
        f"({fleet_met}); total {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
