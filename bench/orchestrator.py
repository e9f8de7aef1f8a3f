"""Throughput and hand-off latency of the orchestrator's lock manager (SQLite backend).

Throughput, acquire+release pairs per second, each against a raw SQLite baseline measured in the
same run, interleaved run by run, on a table like the manager's ``holders`` (same WAL and
``synchronous=NORMAL``): ``BEGIN IMMEDIATE; INSERT …; COMMIT`` then ``BEGIN IMMEDIATE; DELETE …;
COMMIT`` per pair — the floor of a lock table that commits every change.

* one process: ``write`` on one hot resource, and on 100 resources round-robin;
* 8 forked processes started together: one hot resource (``wait=30``: every pair queues behind
  the others, so it measures hand-offs), and 100 resources picked at random (rare conflicts).
  The raw loops use one row per process (the database lock is all they contend for).

Hand-off latency: process A holds ``write`` on a resource, process B waits for it
(``acquire(wait=30)``, queued: A checks the table before letting go); after a random 0-5 ms
pause A takes ``time.time()`` right before ``release`` and B right after its ``acquire``
returns. Baseline: the same two processes passing a timestamp over a pipe (the cost of waking a
blocked process). Prints p50 / p90 / p99 over ``--handoffs`` hand-offs.

Targets (the issue): >= 2,000 pairs/s in one process; hand-off p50 <= 5 ms.

    python bench/orchestrator.py [--runs 3] [--seconds 0.6] [--handoffs 300]
"""

from __future__ import annotations

import argparse
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
    single = statistics.median(manager_rates["1 process, 1 hot resource"])
    p50 = percentile(latencies, 0.5) * 1000
    print(
        f"targets: >= 2,000 pairs/s in one process: {single:,.0f} "
        f"({'met' if single >= 2000 else 'NOT met'}); hand-off p50 <= 5 ms: {p50:.2f} ms "
        f"({'met' if p50 <= 5 else 'NOT met'}); total {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
