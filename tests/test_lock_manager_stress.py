"""Stress test of the orchestrator's lock manager across OS processes (~8 s).

Sixteen forked workers share one SQLite lock table for a few seconds. Each loops: acquire a
random mode on a random resource (files, a directory, a glob) with a random priority and a short
wait, sometimes ``keep_queued`` (then it comes back for the request twice and withdraws it),
sometimes a second lock while holding the first (so waits-for cycles happen), holds briefly,
releases. Leases are 2 s. Every few hundred milliseconds the test SIGKILLs a random worker and
starts a fresh one under a new agent name; the dead worker's leases and requests must go.

Each worker appends its own JSON lines (one ``os.write`` each, so a SIGKILL loses no line
written before it): every question with its answer and timings, every grant with its fencing
token and the lease's ``since`` / ``expires`` read from the table, and every release *before*
calling ``release`` (a worker stops using a lock once it has logged its release).

The checker then asserts, from the logs:

(a) no two grants of different agents whose resources share a path and whose modes conflict
    (an independent table, not ``resources.compatible``) ever had overlapping leases. A lease runs
    from its ``since`` (the backend's ``time.time()`` in the granting transaction) to the earlier
    of the logged release (taken *before* the release transaction, so never later than the real
    end) and its expiry (a killed worker's lease ends there). Correct manager ⇒ the earlier grant
    (lower token) ends no later than the later one starts; the bounds only err on the safe side.
(b) fencing tokens are unique and increase in grant order (``since`` never decreases with them).
(c) no request was stuck: every answer came within its wait (plus slack for a loaded machine),
    no live worker's request "lapsed", and once every worker stopped the table is empty at once:
    the leases and requests of killed workers go with their owners, not with their TTL.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import os
import random
import signal
import sqlite3
import threading
import time
from typing import Any

import pytest

from flockguard.locking.manager import LeaseLost, open_manager

RESOURCES = ("src/a.py", "src/b.py", "src/db/m.py", "src/db/", "src/*.py", "docs/x.md")
# pairs of distinct resources that share a path (`src/*.py` does not reach into src/db/)
SHARE_A_PATH = {
    frozenset(pair)
    for pair in (
        ("src/a.py", "src/*.py"),
        ("src/b.py", "src/*.py"),
        ("src/db/m.py", "src/db/"),
    )
}
MODES = ("read", "intent_write", "write")
PRIORITIES = ("low", "normal", "high", "critical")
TTL = 2.0
WORKERS = 16
RUN_FOR = 7.0
KILLS = 6
SLACK = 3.0  # how late an answer may come on a loaded two-core machine


def conflict(mode_a: str, res_a: str, mode_b: str, res_b: str) -> bool:
    if res_a != res_b and frozenset((res_a, res_b)) not in SHARE_A_PATH:
        return False
    if "write" in (mode_a, mode_b):
        return True
    return mode_a == mode_b == "intent_write" and res_a == res_b


# ---- the worker ----------------------------------------------------------------------------------


def worker(root: str, agent: str, log_path: str, seed: int, stop_at: float) -> None:
    out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def log(**fields: Any) -> None:
        os.write(out, (json.dumps(fields) + "\n").encode())

    try:
        work(root, agent, log, random.Random(seed), stop_at)
    except BaseException as exc:
        log(ev="error", error=repr(exc))
        raise


def work(root: str, agent: str, log: Any, rng: random.Random, stop_at: float) -> None:
    manager = open_manager(root, promote_after=0.5, default_ttl=TTL)
    table = sqlite3.connect(os.path.join(root, ".flockguard", "state", "locks.db"))

    def ask(resource: str, mode: str, priority: str, wait: float, keep: bool) -> Any:
        t0 = time.time()
        grant = manager.acquire(
            resource, mode, agent, priority=priority, wait=wait, keep_queued=keep
        )
        t1 = time.time()
        log(
            ev="answer", res=resource, mode=mode, wait=wait, keep=keep, t0=t0, t1=t1,
            granted=grant.granted, token=grant.token, reason=grant.reason,
        )  # fmt: skip
        if grant.granted:
            row = table.execute(
                "SELECT since, token FROM holders WHERE resource = ? AND agent = ?",
                (resource, agent),
            ).fetchone()
            since = row[0] if row and row[1] == grant.token else grant.expires_at - TTL
            log(
                ev="grant", res=resource, mode=grant.mode, token=grant.token, since=since,
                expires=grant.expires_at,
            )  # fmt: skip
        return grant

    def release(resource: str, token: int) -> None:
        log(ev="release", res=resource, token=token, t=time.time())
        try:
            manager.release(resource, agent)
        except LeaseLost as lost:  # stalled past its TTL on a loaded machine: it is told so
            log(ev="lost", res=resource, token=token, why=str(lost), t=time.time())

    while time.time() < stop_at:
        resource = rng.choice(RESOURCES)
        priority = rng.choice(PRIORITIES)
        keep = rng.random() < 0.25
        grant = ask(resource, rng.choice(MODES), priority, rng.choice((0.0, 0.02, 0.1, 0.3)), keep)
        if not grant.granted and keep and not grant.reason:
            for _ in range(2):  # come back for the queued request
                grant = ask(resource, grant.mode, priority, 0.05, True)
                if grant.granted or grant.reason:
                    break
            if not grant.granted:
                log(ev="withdraw", res=resource, t=time.time())
                try:
                    dropped = manager.release(resource, agent)
                except LeaseLost:
                    dropped = False
                log(ev="withdrawn", res=resource, dropped=dropped, t=time.time())
        if not grant.granted:
            continue
        held = [(resource, grant.token)]
        if rng.random() < 0.3:  # a second lock while holding the first
            other = rng.choice([r for r in RESOURCES if r != resource])
            second = ask(other, rng.choice(MODES), priority, rng.choice((0.0, 0.05, 0.2)), False)
            if second.granted:
                held.append((other, second.token))
        time.sleep(rng.uniform(0.0, 0.01))
        for res, token in reversed(held):
            release(res, token)
    left = manager.release_all(agent)  # 0 unless the table gave it a lock it never heard of
    log(ev="done", left=left, t=time.time())
    manager.close()


# ---- the test ------------------------------------------------------------------------------------


def read_log(path: str) -> list[dict[str, Any]]:
    events = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            with contextlib.suppress(ValueError):  # a line cut by SIGKILL
                events.append(json.loads(line))
    return events


def test_many_processes_with_kills(tmp_path: Any) -> None:
    root = str(tmp_path / "repo")
    os.makedirs(root)
    open_manager(root).close()  # first opens race: see the test at the end of this file
    context = multiprocessing.get_context("fork")
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    print(f"seed {seed}")
    rng.seed(seed)
    stop_at = time.time() + RUN_FOR
    processes: dict[str, Any] = {}
    logs: dict[str, str] = {}
    killed: dict[str, float] = {}

    def start(agent: str) -> None:
        logs[agent] = str(tmp_path / f"{agent}.jsonl")
        process = context.Process(
            target=worker, args=(root, agent, logs[agent], rng.randrange(1 << 30), stop_at)
        )
        process.start()
        processes[agent] = process

    try:
        for index in range(WORKERS):
            start(f"w{index:02d}.0")
        for generation in range(1, KILLS + 1):
            time.sleep(rng.uniform(0.2, 0.9))
            if time.time() > stop_at - 0.5:
                break
            victim = rng.choice([a for a in processes if a not in killed])
            killed[victim] = time.time()  # before the kill: it held its locks until then
            os.kill(processes[victim].pid, signal.SIGKILL)
            processes[victim].join(5)
            start(f"{victim.split('.')[0]}.{generation}")
        for process in processes.values():
            process.join(max(stop_at - time.time(), 0) + 20)
    finally:
        for process in processes.values():
            if process.is_alive():
                process.kill()
            process.join(5)
    stopped = time.time()
    failed = {a: p.exitcode for a, p in processes.items() if a not in killed and p.exitcode != 0}
    assert not failed, f"workers failed: {failed}"
    assert len(killed) >= 3

    events = {agent: read_log(path) for agent, path in logs.items()}
    check_answers(events, killed)
    grants = collect_grants(events, killed)
    check_tokens(grants)
    check_exclusion(grants)
    check_table_drains(root, killed, stopped)


def check_answers(events: dict[str, list[dict[str, Any]]], killed: dict[str, float]) -> None:
    answers = [e for log in events.values() for e in log if e["ev"] == "answer"]
    errors = [(a, e) for a, log in events.items() for e in log if e["ev"] == "error"]
    assert not errors, errors
    late = [a for a in answers if a["t1"] - a["t0"] > a["wait"] + SLACK]
    assert not late, f"answers later than wait + {SLACK} s: {late[:5]}"
    lapsed = [a for a in answers if a["reason"] == "request lapsed"]
    assert not lapsed, f"requests of live workers lapsed: {lapsed[:5]}"
    for agent, log in events.items():
        if agent not in killed:
            done = [e for e in log if e["ev"] == "done"]
            assert done and done[0]["left"] == 0, f"{agent} held locks it was never told of"
    granted = sum(a["granted"] for a in answers)
    deadlocks = sum(a["reason"].startswith("deadlock") for a in answers)
    dropped = sum(e.get("dropped", False) for log in events.values() for e in log)
    print(
        f"{len(answers)} answers, {granted} grants, {deadlocks} deadlock refusals, "
        f"{dropped} queued requests granted just before their withdrawal, {len(killed)} kills"
    )
    assert granted >= 100


def collect_grants(
    events: dict[str, list[dict[str, Any]]], killed: dict[str, float]
) -> list[dict[str, Any]]:
    """One record per fencing token: agent, resource, mode, since, end of the lease."""
    by_token: dict[int, dict[str, Any]] = {}
    for agent, log in events.items():
        for e in log:
            if e["ev"] == "grant":
                grant = by_token.setdefault(
                    e["token"],
                    {"agent": agent, "res": e["res"], "mode": e["mode"], "token": e["token"],
                     "since": e["since"], "expires": e["expires"], "released": None},
                )  # fmt: skip
                assert (grant["agent"], grant["res"]) == (agent, e["res"]), (grant, e)
                grant["since"] = min(grant["since"], e["since"])
                grant["expires"] = max(grant["expires"], e["expires"])  # renewed on re-asking
            elif e["ev"] == "release" and e["token"] in by_token:
                grant = by_token[e["token"]]
                if grant["released"] is None:
                    grant["released"] = e["t"]
    for grant in by_token.values():
        if grant["released"] is None:
            assert grant["agent"] in killed, f"a live worker never released {grant}"
        # a killed worker's lock may be taken away once it is dead: the kill is a lower bound
        # of when that happened (a grant to another before it would be an overlap)
        died = killed.get(grant["agent"], grant["expires"])
        grant["end"] = min(grant["expires"], grant["released"] or grant["expires"], died)
    return sorted(by_token.values(), key=lambda g: g["token"])


def check_tokens(grants: list[dict[str, Any]]) -> None:
    for earlier, later in itertools.pairwise(grants):
        assert earlier["since"] <= later["since"] + 1e-6, (
            f"token {later['token']} was granted before token {earlier['token']}",
            earlier,
            later,
        )


def check_exclusion(grants: list[dict[str, Any]]) -> None:
    active: list[dict[str, Any]] = []
    pairs = 0
    for grant in grants:  # in token order, so `since` never decreases
        active = [g for g in active if g["end"] > grant["since"] + 1e-6]
        for other in active:
            if other["agent"] != grant["agent"] and conflict(
                other["mode"], other["res"], grant["mode"], grant["res"]
            ):
                pytest.fail(
                    f"incompatible leases overlapped: {other} (until {other['end']}) and "
                    f"{grant} (from {grant['since']})"
                )
            pairs += 1
        active.append(grant)
    print(f"{len(grants)} leases, {pairs} overlapping pairs checked compatible")


def check_table_drains(root: str, killed: dict[str, float], stopped: float) -> None:
    with open_manager(root) as manager:
        document = manager.status()
        stuck = [
            entry
            for entry in document["holders"] + document["waiters"]
            if entry["agent"] not in killed
        ]
        assert not stuck, f"left in the table by live workers: {stuck}"
        # the killed workers' locks and requests do not wait for their TTL: their owners are
        # dead, so the table is empty at once
        assert document["holders"] == [] and document["waiters"] == [], document
        assert time.time() < stopped + TTL, "the check itself took longer than a lease"


def _wait_then_die(root: str) -> None:
    with open_manager(root, default_ttl=60.0) as manager:
        manager.acquire("src/a.py", "write", "B", wait=0.3)


def test_request_of_a_killed_waiter_lapses_after_its_wait(tmp_path: Any) -> None:
    root = str(tmp_path)
    with open_manager(root, default_ttl=60.0) as manager:
        assert manager.acquire("src/a.py", "write", "A").granted
        child = multiprocessing.get_context("fork").Process(target=_wait_then_die, args=(root,))
        child.start()
        try:
            deadline = time.time() + 10
            while not manager.status()["waiters"] and time.time() < deadline:
                time.sleep(0.01)
            assert [w["agent"] for w in manager.status()["waiters"]] == ["B"]
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.join(5)
        time.sleep(1.3)  # well past the 0.3 s it was willing to wait
        manager.release("src/a.py", "A")
        document = manager.status()
        assert document["waiters"] == []
        assert document["holders"] == []  # the dead waiter was not handed the lock


def test_opening_a_fresh_table_waits_for_another_writer(tmp_path: Any) -> None:
    state = tmp_path / ".flockguard" / "state"
    state.mkdir(parents=True)
    other = sqlite3.connect(state / "locks.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process creating the table, still in rollback mode
    other.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)")
    timer = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    timer.start()
    try:
        with open_manager(str(tmp_path)) as manager:
            assert manager.acquire("src/a.py", "write", "A").granted
    finally:
        timer.join()
        other.close()
