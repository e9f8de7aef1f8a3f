"""The orchestrator's lock manager against a reference model (DESIGN.md §6, research/locks.md §3).

A hypothesis state machine drives a real :class:`Manager` (SQLite, two connections to one table)
with acquire / release / release_all / renew / break_lock from three agents on six resources
(files, a directory, a glob) and checks every answer and, after every step, the whole table
against a model written here from the design, not from the code: its own overlap table, its own
compatibility matrix, holders per (resource, agent), a queue ordered by priority then arrival.

Time is real in the machine, so it keeps leases long and aging off; expiry, aging and cycles are
tested on the pure scheduler (:func:`schedule.step`) with explicit ``now`` values below.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import sqlite3
import tempfile
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from flockguard.locking import resources
from flockguard.locking.manager import LeaseLost, NotHeld, open_manager
from flockguard.locking.schedule import Holding, Waiting, step

READ, IW, WRITE = "read", "intent_write", "write"
MODES = (READ, IW, WRITE)
PRIORITIES = ("low", "normal", "high", "critical")
STRENGTH = {READ: 0, IW: 1, WRITE: 2}
AGENTS = ("A", "B", "C")

# The resources of the machine and other spellings of them (normalised by the manager).
SPELLINGS = {
    "src/a.py": ("src/a.py", "./src/a.py"),
    "src/b.py": ("src/b.py",),
    "src/db/m.py": ("src/db/m.py", "src//db/m.py"),
    "docs/x.md": ("docs/x.md",),
    "src/": ("src/", "./src/"),
    "src/db/**": ("src/db/**",),
}
RESOURCES = tuple(SPELLINGS)
# Pairs of distinct resources that share at least one path, written out by hand.
SHARE_A_PATH = {
    frozenset(pair)
    for pair in (
        ("src/", "src/a.py"),
        ("src/", "src/b.py"),
        ("src/", "src/db/m.py"),
        ("src/", "src/db/**"),
        ("src/db/**", "src/db/m.py"),
    )
}


def shares_a_path(a: str, b: str) -> bool:
    return a == b or frozenset((a, b)) in SHARE_A_PATH


def may_coexist(mode_a: str, res_a: str, mode_b: str, res_b: str) -> bool:
    """The design's matrix (IS/IX/X, intent_write self-conflicting on one resource)."""
    if not shares_a_path(res_a, res_b):
        return True
    if WRITE in (mode_a, mode_b):
        return False
    if mode_a == mode_b == IW:
        return res_a != res_b
    return True


def covers(held: str, wanted: str) -> bool:
    return STRENGTH[held] >= STRENGTH[wanted]


def test_model_tables_agree_with_resources_module() -> None:
    """The hand-written tables and `resources` agree on the machine's resources."""
    for a, b in itertools.product(RESOURCES, repeat=2):
        assert resources.overlap(a, b) == shares_a_path(a, b), (a, b)
        for ma, mb in itertools.product(MODES, repeat=2):
            assert resources.compatible(ma, a, mb, b) == may_coexist(ma, a, mb, b), (ma, a, mb, b)
    for name, spellings in SPELLINGS.items():
        for spelling in spellings:
            assert resources.normalize(spelling) == name


# ---- the reference model -------------------------------------------------------------------------


class MHold:
    __slots__ = ("mode", "priority", "token")

    def __init__(self, mode: str, priority: str, token: int | None) -> None:
        self.mode, self.priority, self.token = mode, priority, token


class MWait:
    __slots__ = ("seq", "resource", "agent", "mode", "priority")

    def __init__(self, seq: int, resource: str, agent: str, mode: str, priority: str) -> None:
        self.seq, self.resource, self.agent, self.mode, self.priority = (
            seq,
            resource,
            agent,
            mode,
            priority,
        )

    @property
    def key(self) -> tuple[str, str]:
        return (self.resource, self.agent)


class Model:
    """Holders per (resource, agent); one queue, ordered by priority class then arrival."""

    def __init__(self) -> None:
        self.holders: dict[tuple[str, str], MHold] = {}
        self.queue: list[MWait] = []
        self.seq = 0
        # the manager's notes (reason, at) for the owners, cleared when they acquire again
        self.lost: dict[tuple[str, str], str] = {}
        self.refused: dict[tuple[str, str], tuple[str, float]] = {}

    def order(self) -> list[MWait]:
        return sorted(self.queue, key=lambda w: (-PRIORITIES.index(w.priority), w.seq))

    def waiter(self, resource: str, agent: str) -> MWait | None:
        return next((w for w in self.queue if w.key == (resource, agent)), None)

    def blocking_holders(self, agent: str, mode: str, resource: str) -> list[tuple[str, str]]:
        return [
            (res, other)
            for (res, other), held in self.holders.items()
            if other != agent and not may_coexist(held.mode, res, mode, resource)
        ]

    def grant_pass(self) -> list[tuple[str, str]]:
        """Grant in queue order; a request is never granted past an earlier one it conflicts
        with (of another agent)."""
        granted = []
        still: list[MWait] = []
        for w in self.order():
            ahead = [
                s
                for s in still
                if s.agent != w.agent and not may_coexist(s.mode, s.resource, w.mode, w.resource)
            ]
            if ahead or self.blocking_holders(w.agent, w.mode, w.resource):
                still.append(w)
                continue
            # the token is learnt from the table (LockManagerMachine.learn): tokens follow the
            # clock, so the model checks only that they are unique and only grow
            self.holders[w.key] = MHold(w.mode, w.priority, None)
            self.queue.remove(w)
            granted.append(w.key)
        if granted and len(self.holders) > 1:
            event("granted beside other holders")
        return granted

    def waits_for(self) -> list[tuple[MWait, set[str]]]:
        """Each queued request with the agents it waits for: holders of locks it conflicts
        with, and agents of earlier requests it conflicts with."""
        out = []
        queue = self.order()
        for index, w in enumerate(queue):
            targets = {a for _r, a in self.blocking_holders(w.agent, w.mode, w.resource)}
            targets.update(
                s.agent
                for s in queue[:index]
                if s.agent != w.agent and not may_coexist(s.mode, s.resource, w.mode, w.resource)
            )
            out.append((w, targets))
        return out

    def cycles(self) -> list[tuple[str, ...]]:
        edges: dict[str, set[str]] = {agent: set() for agent in AGENTS}
        for w, targets in self.waits_for():
            edges[w.agent] |= targets
        found = []
        for size in (2, 3):
            for path in itertools.permutations(AGENTS, size):
                if path[0] != min(path):
                    continue
                if all(path[(i + 1) % size] in edges[path[i]] for i in range(size)):
                    found.append(path)
        return found

    def break_cycles(
        self, real_refused: dict[tuple[str, str], tuple[str, float]]
    ) -> list[tuple[str, str]]:
        """While a waits-for cycle remains, refuse the youngest of the requests that are its
        edges (a request of one agent on it waiting for the next). Which cycle goes first is
        the scheduler's choice: the model takes the one whose refusal the manager recorded
        (``real_refused``, its notes table)."""
        refusals = []
        while cycles := self.cycles():
            waits = self.waits_for()
            candidates: dict[tuple[str, str], list[tuple[str, ...]]] = {}
            for cycle in cycles:
                following = {cycle[i]: cycle[(i + 1) % len(cycle)] for i in range(len(cycle))}
                edges = [w for w, to in waits if following.get(w.agent, "") in to]
                youngest = max(edges, key=lambda w: w.seq)
                candidates.setdefault(youngest.key, []).append(cycle)
            chosen = [
                key
                for key in candidates
                if key in real_refused and self.refused.get(key) != real_refused[key]
            ]
            assert chosen, (
                f"waits-for cycles {cycles} remain and none of the requests "
                f"{sorted(candidates)} was refused (refusals: {real_refused})"
            )
            key = chosen[0]
            event(f"cycle refusal ({len(cycles[0])} agents)")
            reason = real_refused[key][0]
            assert reason.startswith("deadlock:"), reason
            named = reason.split(" wait for each other")[0]
            assert any(
                set(named.removeprefix("deadlock: ").split(" → ")) == set(cycle)
                for cycle in candidates[key]
            ), (reason, candidates[key])
            self.queue = [w for w in self.queue if w.key != key]
            self.refused[key] = real_refused[key]
            refusals.append(key)
        return refusals

    def settle(
        self, real_refused: dict[tuple[str, str], tuple[str, float]]
    ) -> list[tuple[str, str]]:
        """One scheduler run: grants, then cycle refusals (whose own effects wait for the
        next run, as in the scheduler)."""
        self.grant_pass()
        return self.break_cycles(real_refused)


# ---- the state machine ---------------------------------------------------------------------------


def holder_key(h: dict[str, Any]) -> tuple[str, str, str, str, int]:
    return (h["resource"], h["agent"], h["mode"], h["priority"], h["token"])


class LockManagerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = tempfile.mkdtemp(prefix="fg-model-")
        # two connections to one table: A and C use the first, B the second
        first = open_manager(self.root, promote_after=1e9, default_ttl=3600.0)
        second = open_manager(self.root, promote_after=1e9, default_ttl=3600.0)
        self.managers = {"A": first, "B": second, "C": first}
        self.db = sqlite3.connect(os.path.join(self.root, ".flockguard", "state", "locks.db"))
        self.snapshot_path = os.path.join(self.root, ".flockguard", "state", "locks.json")
        self.model = Model()
        # tokens start above any a lost table gave out: from the clock
        (seed,) = self.db.execute("SELECT value FROM meta WHERE key = 'next_token'").fetchone()
        assert seed >= int((time.time() - 60) * 1e6), seed
        self.tokens: dict[int, tuple[str, str, str]] = {}  # every grant seen, by token

    def teardown(self) -> None:
        self.db.close()
        for manager in {id(m): m for m in self.managers.values()}.values():
            manager.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def real_refused(self) -> dict[tuple[str, str], tuple[str, float]]:
        rows = self.db.execute("SELECT resource, agent, reason, at FROM refused").fetchall()
        return {(r, a): (reason, at) for r, a, reason, at in rows}

    def real_lost(self) -> dict[tuple[str, str], str]:
        rows = self.db.execute("SELECT resource, agent, reason FROM lost").fetchall()
        return {(r, a): reason for r, a, reason in rows}

    def after_change(self) -> None:
        """Model side of a change that runs the scheduler once."""
        self.model.settle(self.real_refused())
        self.learn()

    def learn(self) -> None:
        """Tokens of the model's new grants, from the table; known ones must not have changed."""
        real = {
            (r, a): token
            for r, a, token in self.db.execute("SELECT resource, agent, token FROM holders")
        }
        for key, held in self.model.holders.items():
            assert key in real, (key, "granted in the model, not in the table")
            if held.token is None:
                held.token = real[key]
            assert held.token == real[key], (key, held.token, real[key])

    # ---- rules -----------------------------------------------------------------------------------

    @rule(
        agent=st.sampled_from(AGENTS),
        resource=st.sampled_from(RESOURCES),
        spelling=st.integers(0, 2),
        mode=st.sampled_from(MODES),
        priority=st.sampled_from(PRIORITIES),
        keep_queued=st.booleans(),
    )
    def acquire(
        self,
        agent: str,
        resource: str,
        spelling: int,
        mode: str,
        priority: str,
        keep_queued: bool,
    ) -> None:
        model = self.model
        key = (resource, agent)
        spelled = SPELLINGS[resource][spelling % len(SPELLINGS[resource])]
        grant = self.managers[agent].acquire(
            spelled, mode, agent, priority=priority, wait=0.0, keep_queued=keep_queued
        )
        assert grant.resource == resource
        real_refused = self.real_refused()
        model.lost.pop(key, None)
        model.refused.pop(key, None)

        held = model.holders.get(key)
        if held is not None and covers(held.mode, mode):  # held as strongly: a renewal
            self.after_change()
            assert grant.granted, grant
            assert (grant.mode, grant.token) == (held.mode, held.token)
            return
        existing = model.waiter(resource, agent)
        if existing is not None:  # the queued request takes the new mode, keeps its place
            event("queued request changes mode")
            existing.mode = mode
        else:
            model.seq += 1
            model.queue.append(MWait(model.seq, resource, agent, mode, priority))
        refusals = model.settle(real_refused)
        self.learn()
        held = model.holders.get(key)
        if held is not None and covers(held.mode, mode):
            assert grant.granted, (grant, "the model granted it")
            assert (grant.mode, grant.token) == (mode, held.token)
            return
        own_refused = key in refusals
        if not own_refused and not keep_queued:
            # asked without waiting: taken out of the queue in the same transaction
            model.queue = [w for w in model.queue if w.key != key]
        # the answer describes the table as status() shows it next, and status() applies what
        # a scheduler run would change (a request freed by the withdrawal is granted)
        model.grant_pass()
        self.learn()
        queue = model.order()
        position = next((i for i, w in enumerate(queue, 1) if w.key == key), 0)
        blocking = {
            (res, other, model.holders[res, other].mode, model.holders[res, other].token)
            for res, other in model.blocking_holders(agent, mode, resource)
        }
        assert not grant.granted, (grant, "the model did not grant it")
        assert grant.position == (position if keep_queued else 0), (grant, [w.key for w in queue])
        got = {(h["resource"], h["agent"], h["mode"], h["token"]) for h in grant.holders}
        assert got == blocking, (got, blocking)
        event(f"not granted (keep_queued={keep_queued}, refused={own_refused})")
        if own_refused:
            assert grant.reason == model.refused[key][0], grant
            assert grant.reason.startswith("deadlock:"), grant
        else:
            assert grant.reason == "", grant

    @rule(agent=st.sampled_from(AGENTS), resource=st.sampled_from(RESOURCES))
    def release(self, agent: str, resource: str) -> None:
        key = (resource, agent)
        expected = key in self.model.holders or self.model.waiter(resource, agent) is not None
        if not expected and key in self.model.lost:  # a lost lease is said to be lost
            with pytest.raises(LeaseLost, match=re.escape(self.model.lost[key])):
                self.managers[agent].release(resource, agent)
        else:
            assert self.managers[agent].release(resource, agent) == expected
        self.model.holders.pop(key, None)
        self.model.queue = [w for w in self.model.queue if w.key != key]
        queued = len(self.model.queue)
        self.after_change()
        if len(self.model.queue) < queued:
            event("a release grants queued requests")

    @rule(agent=st.sampled_from(AGENTS))
    def release_all(self, agent: str) -> None:
        expected = sum(1 for _r, a in self.model.holders if a == agent)
        assert self.managers[agent].release_all(agent) == expected
        self.model.holders = {k: h for k, h in self.model.holders.items() if k[1] != agent}
        self.model.queue = [w for w in self.model.queue if w.agent != agent]
        self.after_change()

    @rule(agent=st.sampled_from(AGENTS), resource=st.sampled_from(RESOURCES))
    def renew(self, agent: str, resource: str) -> None:
        key = (resource, agent)
        held = self.model.holders.get(key)
        manager = self.managers[agent]
        if held is None and key not in self.model.lost:
            with pytest.raises(NotHeld, match=f"{agent} does not hold {re.escape(resource)}"):
                manager.renew(resource, agent)
        elif held is None:
            with pytest.raises(LeaseLost) as caught:
                manager.renew(resource, agent)
            why = self.model.lost[key]
            assert f"{agent} no longer holds {resource} ({why})" in str(caught.value)
        else:
            before = time.time()
            grant = manager.renew(resource, agent, ttl=1800.0)
            assert grant.granted and (grant.mode, grant.token) == (held.mode, held.token)
            assert grant.expires_at >= before + 1800.0 - 1e-3
        self.after_change()

    @rule(resource=st.sampled_from(RESOURCES), by=st.sampled_from(AGENTS))
    def break_lock(self, resource: str, by: str) -> None:
        broken = self.managers[by].break_lock(resource, by=f"agent {by}")
        expected = {
            (res, agent, held.mode, held.token)
            for (res, agent), held in self.model.holders.items()
            if res == resource
        }
        assert {(h["resource"], h["agent"], h["mode"], h["token"]) for h in broken} == expected
        for res, agent, _mode, _token in expected:
            del self.model.holders[res, agent]
            self.model.lost[res, agent] = f"broken by agent {by}"
        self.after_change()

    @rule(index=st.integers(0, 20))
    def release_a_holder(self, index: int) -> None:
        """Let go of a lock that is held (the random `release` mostly misses)."""
        held = sorted(self.model.holders)
        if held:
            resource, agent = held[index % len(held)]
            self.release(agent, resource)

    @rule(index=st.integers(0, 20))
    def come_back_for_queued(self, index: int) -> None:
        """Ask again, in the same mode, for a request left queued (keep_queued)."""
        queue = self.model.order()
        if queue:
            w = queue[index % len(queue)]
            self.acquire(w.agent, w.resource, 0, w.mode, w.priority, keep_queued=True)

    # ---- invariants ------------------------------------------------------------------------------

    def expected_document(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        holders = sorted(
            (res, agent, h.mode, h.priority, h.token)
            for (res, agent), h in self.model.holders.items()
        )
        waiters = [
            (w.resource, w.agent, w.mode, w.priority, position)
            for position, w in enumerate(self.model.order(), 1)
        ]
        return holders, waiters

    @staticmethod
    def seen_document(document: dict[str, Any]) -> tuple[list[Any], list[Any]]:
        holders = sorted(holder_key(h) for h in document["holders"])
        waiters = [
            (w["resource"], w["agent"], w["mode"], w["priority"], w["position"])
            for w in document["waiters"]
        ]
        return holders, waiters

    def read_snapshot(self) -> dict[str, Any]:
        with open(self.snapshot_path, encoding="utf-8") as handle:
            document: dict[str, Any] = json.load(handle)
        return document

    @invariant()
    def table_matches_model(self) -> None:
        # the snapshot published by the last change shows the model's state
        if os.path.exists(self.snapshot_path):
            assert self.seen_document(self.read_snapshot()) == self.expected_document()
        document = self.managers["A"].status()
        self.model.grant_pass()  # status() applies what a scheduler run would (a freed grant)
        self.learn()
        assert self.seen_document(document) == self.expected_document()
        if os.path.exists(self.snapshot_path):  # published after each change, in order
            snapshot = self.read_snapshot()
            assert self.seen_document(snapshot) == self.seen_document(document)
            assert (snapshot["generation"], snapshot["version"]) == (
                document["generation"],
                document["version"],
            ), "status() and locks.json show different versions"
        else:
            assert document["holders"] == document["waiters"] == [], "changed, not published"
        # every waiter has its place 1..n, in queue order (priority class, then arrival)
        waiters = document["waiters"]
        assert [w["position"] for w in waiters] == list(range(1, len(waiters) + 1))
        keys = [(-PRIORITIES.index(w["effective_priority"]), w["waiting_since"]) for w in waiters]
        assert keys == sorted(keys)
        # the manager's notes of refusals and broken leases are the model's
        assert self.real_refused() == self.model.refused
        assert self.real_lost() == self.model.lost
        self.no_incompatible_holders(document["holders"])

    def no_incompatible_holders(self, holders: list[dict[str, Any]]) -> None:
        for a, b in itertools.combinations(holders, 2):
            if a["agent"] != b["agent"]:
                assert may_coexist(a["mode"], a["resource"], b["mode"], b["resource"]), (a, b)
                assert resources.compatible(a["mode"], a["resource"], b["mode"], b["resource"])
        # fencing tokens: never given to two grants, each new one above all before it
        for h in sorted(holders, key=lambda h: h["token"]):
            grant = (h["resource"], h["agent"], h["mode"])
            if h["token"] in self.tokens:
                assert self.tokens[h["token"]] == grant, (h, self.tokens[h["token"]])
            else:
                assert h["token"] > max(self.tokens, default=0), (h, max(self.tokens))
                self.tokens[h["token"]] = grant


LockManagerMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_lock_manager_model = LockManagerMachine.TestCase


# ---- the manager, case by case -------------------------------------------------------------------


@pytest.fixture
def manager(tmp_path: Any) -> Any:
    with open_manager(str(tmp_path), promote_after=1e9, default_ttl=3600.0) as m:
        yield m


def test_matrix_cases(manager: Any) -> None:
    m = manager
    assert m.acquire("src/a.py", READ, "A").granted
    assert m.acquire("src/a.py", READ, "B").granted  # read + read
    assert m.acquire("src/a.py", IW, "C").granted  # read + intent_write
    refused = m.acquire("src/a.py", IW, "D")  # intent_write twice on one resource
    assert not refused.granted
    assert [h["agent"] for h in refused.holders] == ["C"]
    assert m.acquire("src/", IW, "D").granted  # ... but fine on a directory above it
    assert not m.acquire("src/a.py", WRITE, "E").granted  # write conflicts with all
    assert m.acquire("src/a.py", WRITE, "F", wait=0).holders  # names the holders
    assert m.acquire("docs/x.md", WRITE, "E").granted


def test_upgrade_waits_only_for_readers(manager: Any) -> None:
    m = manager
    first = m.acquire("src/a.py", IW, "A")
    assert m.acquire("src/a.py", READ, "B").granted
    upgrade = m.acquire("src/a.py", WRITE, "A", keep_queued=True)
    assert not upgrade.granted
    assert [h["agent"] for h in upgrade.holders] == ["B"]  # not its own intent_write
    assert not m.acquire("src/a.py", READ, "C").granted  # a new reader queues behind it
    assert m.release("src/a.py", "B")
    status = m.status()
    assert [(h["agent"], h["mode"]) for h in status["holders"]] == [("A", WRITE)]
    assert status["holders"][0]["token"] > first.token
    assert m.acquire("src/a.py", WRITE, "A").token == status["holders"][0]["token"]


@pytest.mark.parametrize(
    ("outer", "inner"),
    [("src/", "src/db/m.py"), ("src/db/**", "src/db/m.py"), ("src/", "src/db/**")],
)
def test_directories_and_globs_conflict_both_ways(manager: Any, outer: str, inner: str) -> None:
    m = manager
    assert m.acquire(outer, WRITE, "A").granted
    assert not m.acquire(inner, READ, "B").granted
    m.release_all("A")
    assert m.acquire(inner, WRITE, "B").granted
    assert not m.acquire(outer, READ, "A").granted
    assert m.acquire("docs/x.md", WRITE, "A").granted


def test_keep_queued_is_granted_at_the_head_after_a_release(manager: Any) -> None:
    m = manager
    assert m.acquire("src/a.py", WRITE, "A").granted
    assert m.acquire("src/a.py", WRITE, "B", keep_queued=True).position == 1
    assert m.acquire("src/a.py", READ, "C", keep_queued=True, priority="high").position == 1
    assert [w["agent"] for w in m.status()["waiters"]] == ["C", "B"]  # priority first
    m.release("src/a.py", "A")
    holders = m.status()["holders"]
    assert [h["agent"] for h in holders] == ["C"]
    m.release("src/a.py", "C")
    assert [h["agent"] for h in m.status()["holders"]] == ["B"]
    assert m.acquire("src/a.py", WRITE, "B").granted  # asking again: already granted


def test_renew_and_lease_lost(manager: Any) -> None:
    m = manager
    grant = m.acquire("src/a.py", WRITE, "A", ttl=60)
    renewed = m.renew("src/a.py", "A", ttl=600)
    assert renewed.token == grant.token and renewed.expires_at > grant.expires_at
    m.break_lock("src/a.py", by="ops")
    with pytest.raises(LeaseLost, match="broken by ops"):
        m.renew("src/a.py", "A")
    with pytest.raises(LeaseLost, match="broken by ops"):  # a release says so too
        m.release("src/a.py", "A")
    with pytest.raises(NotHeld, match=r"A does not hold src/b\.py"):  # never held: not "lost"
        m.renew("src/b.py", "A")
    assert m.release("src/b.py", "A") is False


# ---- the pure scheduler, with explicit clocks ----------------------------------------------------


def hold(resource: str, agent: str, mode: str, token: int, expires: float = 1e9) -> Holding:
    return Holding(resource, agent, mode, "normal", token, 0.0, expires)


def want(
    id: int, resource: str, agent: str, mode: str, priority: str = "normal", since: float = 0.0
) -> Waiting:
    return Waiting(id, resource, agent, mode, priority, since, 1e9, 60.0)


def test_step_reaps_an_expired_lease_and_grants_its_waiter() -> None:
    holders = [hold("src/a.py", "A", WRITE, 1, expires=10.0), hold("docs/x.md", "C", READ, 2)]
    waiters = [want(1, "src/a.py", "B", WRITE, since=5.0)]
    early = step(holders, waiters, now=9.999, next_token=3, promote_after=30)
    assert early.reaped == [] and early.granted == [] and early.waiting == waiters
    result = step(holders, waiters, now=10.0, next_token=3, promote_after=30)
    assert [h.agent for h in result.reaped] == ["A"]
    assert [(h.agent, h.token, h.since, h.expires) for h in result.granted] == [
        ("B", 3, 10.0, 70.0)
    ]
    assert sorted(h.agent for h in result.holders) == ["B", "C"]
    assert result.next_token == 4 and result.waiting == []


def test_step_drops_lapsed_requests() -> None:
    holders = [hold("src/a.py", "A", WRITE, 1)]
    lapsed = Waiting(1, "src/a.py", "B", WRITE, "normal", 0.0, 5.0, 60.0)
    result = step(holders, [lapsed], now=5.0, next_token=2, promote_after=30)
    assert result.waiting == [] and result.refused == [] and result.granted == []


def test_step_aging_lets_a_low_waiter_overtake_normal_ones() -> None:
    holders = [hold("src/a.py", "H", WRITE, 1)]
    waiters = [
        want(1, "src/a.py", "L", WRITE, "low", since=0.0),
        want(2, "src/a.py", "N1", WRITE, "normal", since=1.0),
        want(3, "src/a.py", "N2", WRITE, "normal", since=2.0),
    ]
    young = step([], waiters, now=9.0, next_token=2, promote_after=10)
    assert [h.agent for h in young.granted] == ["N1"]  # before aging: priority wins
    aged = step([], waiters, now=10.0, next_token=2, promote_after=10)
    assert [h.agent for h in aged.granted] == ["L"]  # now normal, and first in
    # while the holder stays, nobody is granted and the aged request heads the queue
    held = step(holders, waiters, now=10.0, next_token=2, promote_after=10)
    assert [w.agent for w in held.waiting] == ["L", "N1", "N2"]


@pytest.mark.parametrize("arrivals", ["high", "critical"])
def test_step_aging_bounds_the_wait_under_a_stream_of_higher_priorities(arrivals: str) -> None:
    """Every tick the holder lets go and a new `arrivals` request comes; the low request
    must be granted within (classes to climb) × promote_after."""
    promote_after = 10.0
    waiters = [want(1, "src/a.py", "low", WRITE, "low", since=0.0)]
    next_token = 2
    for tick in range(1, 200):
        now = float(tick)
        waiters.append(want(tick + 1, "src/a.py", f"{arrivals}{tick}", WRITE, arrivals, now))
        result = step([], waiters, now=now, next_token=next_token, promote_after=promote_after)
        assert len(result.granted) == 1
        next_token = result.next_token
        waiters = result.waiting
        if result.granted[0].agent == "low":
            break
    else:
        pytest.fail("the low-priority request starved")
    climb = PRIORITIES.index(arrivals) - PRIORITIES.index("low")
    assert now <= climb * promote_after


def test_step_refuses_the_youngest_of_a_waits_for_cycle() -> None:
    holders = [hold("x", "A", WRITE, 1), hold("y", "B", WRITE, 2)]
    waiters = [want(1, "y", "A", WRITE, since=1.0), want(2, "x", "B", WRITE, since=2.0)]
    result = step(holders, waiters, now=3.0, next_token=3, promote_after=30)
    assert [(w.agent, w.resource) for w, _why in result.refused] == [("B", "x")]
    why = result.refused[0][1]
    assert why.startswith("deadlock:")
    assert "A → B → A" in why and "B: write x" in why
    assert [(w.agent, w.resource) for w in result.waiting] == [("A", "y")]
    assert result.granted == []


def test_step_refuses_the_youngest_of_a_three_agent_cycle() -> None:
    holders = [hold("x", "A", READ, 1), hold("y", "B", READ, 2), hold("z", "C", READ, 3)]
    waiters = [
        want(1, "y", "A", WRITE, since=1.0),
        want(2, "z", "B", WRITE, since=3.0),
        want(3, "x", "C", WRITE, since=2.0),
    ]
    result = step(holders, waiters, now=4.0, next_token=4, promote_after=30)
    assert [(w.agent, w.resource) for w, _why in result.refused] == [("B", "z")]
    assert "A → B → C → A" in result.refused[0][1]
    assert len(result.waiting) == 2


def test_step_no_overtaking_and_compatible_waiters_together() -> None:
    holders = [hold("src/a.py", "H", WRITE, 1)]
    waiters = [
        want(1, "src/a.py", "R1", READ, since=1.0),
        want(2, "src/", "W", WRITE, since=2.0),
        want(3, "src/a.py", "R2", READ, since=3.0),
        want(4, "src/b.py", "R3", READ, since=4.0),  # conflicts with W's write on src/
    ]
    blocked = step(holders, waiters, now=5.0, next_token=2, promote_after=30)
    assert blocked.granted == []
    free = step([], waiters, now=5.0, next_token=2, promote_after=30)
    assert [(h.agent, h.token) for h in free.granted] == [("R1", 2)]
    assert [w.agent for w in free.waiting] == ["W", "R2", "R3"]
    others = [w for w in waiters if w.agent != "W"]
    no_writer = step([], others, now=5.0, next_token=2, promote_after=30)
    assert [h.agent for h in no_writer.granted] == ["R1", "R2", "R3"]


# ---- regressions: bugs found at c487564 ---------------------------------------------------------


def test_step_refuses_only_a_request_on_the_cycle_after_aging() -> None:
    """Aging reorders the queue and closes a cycle A ↔ B; A's read of z waits for D only.
    (c487564 refused A's z request, as the youngest of A's and B's, and then B's as well.)"""
    holders = [hold("x", "C", WRITE, 1), hold("y", "A", READ, 2), hold("z", "D", WRITE, 3)]
    waiters = [
        want(1, "x", "B", WRITE, "low", since=0.0),  # ages ahead of A's request at now=10
        want(2, "x", "A", WRITE, "normal", since=1.0),
        want(3, "y", "B", WRITE, "normal", since=2.0),  # waits for A's read of y
        want(4, "z", "A", READ, "normal", since=3.0),  # waits for D only: not on the cycle
    ]
    assert step(holders, waiters, now=5.0, next_token=4, promote_after=10).refused == []
    result = step(holders, waiters, now=10.5, next_token=4, promote_after=10)
    assert [w.id for w, _why in result.refused] == [3]


def test_manager_refuses_only_a_request_on_the_cycle(manager: Any) -> None:
    """A queued request changing mode closes a cycle A ↔ B; A's request on w waits for C only.
    (c487564 refused it along with B's.)"""
    m = manager
    assert m.acquire("q", READ, "B").granted
    assert m.acquire("q", IW, "C").granted
    assert m.acquire("y", READ, "A").granted
    assert m.acquire("w", WRITE, "C").granted
    assert not m.acquire("q", IW, "A", keep_queued=True).granted  # waits for C
    assert not m.acquire("y", WRITE, "B", keep_queued=True).granted  # waits for A
    assert not m.acquire("w", READ, "A", keep_queued=True).granted  # waits for C
    closing = m.acquire("q", WRITE, "A", keep_queued=True)  # now waits for B too: a cycle
    assert not closing.granted
    waiting = {(w["agent"], w["resource"]) for w in m.status()["waiters"]}
    assert ("A", "w") in waiting, "a request off the cycle was refused"
    assert len(waiting) == 2


def test_status_shows_the_settled_table(manager: Any, tmp_path: Any) -> None:
    """(c487564's status() returned the table as loaded, before its own transaction's scheduler
    run: an expired holder and its already-granted waiter, unlike locks.json.)"""
    m = manager
    assert m.acquire("src/a.py", WRITE, "A", ttl=0.2).granted
    assert not m.acquire("src/a.py", WRITE, "B", keep_queued=True).granted
    time.sleep(0.3)
    document = m.status()
    with open(tmp_path / ".flockguard" / "state" / "locks.json", encoding="utf-8") as handle:
        snapshot = json.load(handle)
    assert [h["agent"] for h in snapshot["holders"]] == ["B"]
    assert [h["agent"] for h in document["holders"]] == ["B"]  # shows A, expired


class _RaceAfterHolderLookup:
    """Wraps the waiter's connection: runs ``between`` once, just after peek() looked for the
    agent's holding and before it looks for the agent's queued request."""

    def __init__(self, db: sqlite3.Connection, between: Any) -> None:
        self._db = db
        self._between = between
        self._fired = False

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith("SELECT 1 FROM waiters") and not self._fired:
            self._fired = True
            self._between()
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def test_a_grant_between_peek_reads_is_not_lost(tmp_path: Any) -> None:
    """(c487564's SQLiteBackend.peek() read holders, waiters and refusals in three autocommit
    statements, three snapshots: a grant committed between the first two read as 'request
    lapsed', and acquire() said granted=False while the agent held the lock.)"""
    with (
        open_manager(str(tmp_path)) as waiter,
        open_manager(str(tmp_path)) as holder,
    ):
        assert holder.acquire("src/a.py", WRITE, "B").granted
        waiter.backend.db = _RaceAfterHolderLookup(
            waiter.backend.db, lambda: holder.release("src/a.py", "B")
        )
        grant = waiter.acquire("src/a.py", WRITE, "A", wait=5.0)
        held = [h["agent"] for h in holder.status()["holders"]]
        with contextlib.suppress(Exception):
            waiter.release_all("A")
        assert grant.granted == ("A" in held), (grant, held)


# ---- known bugs (strict xfails: they turn into failures when fixed) ------------------------------


def test_reacquiring_an_expired_lease_queues_behind_earlier_waiters(manager: Any) -> None:
    m = manager
    first = m.acquire("src/a.py", WRITE, "A", ttl=0.2)
    assert first.granted
    assert m.acquire("src/a.py", WRITE, "B", keep_queued=True).position == 1
    time.sleep(0.3)  # A's lease is over; no change has run the scheduler since
    again = m.acquire("src/a.py", WRITE, "A", ttl=0.2)
    holders = [(h["agent"], h["token"]) for h in m.status()["holders"]]
    assert not again.granted, (again, holders)
    assert [agent for agent, _ in holders] == ["B"] and holders[0][1] > first.token
