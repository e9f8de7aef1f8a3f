"""The orchestrator's locks between agents: modes, priorities, leases, owners, a visible queue.

``open_manager(repo_root)`` gives a :class:`Manager` over the repository's lock table (SQLite by
default). Every change runs the scheduler (:mod:`flockguard.locking.schedule`) in one backend
transaction; after it commits, the committed table is published as
``.flockguard/state/locks.json`` (:mod:`flockguard.locking.snapshot`).

Locks do not outlive what holds them (:mod:`flockguard.locking.liveness`): each lock and request
has an owner — the calling process by default, an agent's host process for locks taken for an
agent session, nobody for a plain lease — and a lock whose owner died is taken away as soon as
it stands in anyone's way; a grant never goes to a dead waiter. Waiters sleep on their presence
fifo and are woken by the commit that grants (or refuses) them: waiting costs no writes.
"""

from __future__ import annotations

import os
import time

from flockguard.errors import FlockguardError
from flockguard.locking import liveness, resources
from flockguard.locking.schedule import Holding, Step, Waiting, effective, order, step
from flockguard.model import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flockguard.locking.backends.sqlite import SQLiteBackend, State

DEFAULT_TTL = 300.0
PROMOTE_AFTER = 30.0
STATE_DIR = os.path.join(".flockguard", "state")
CHECK_EVERY = 0.5  # a waiter's look at what only time changes: expiry, aging, a dead holder
TXN_TIMEOUT = 10.0  # the longest a change waits for the table's mutex
FOREVER = 365 * 86400.0  # seconds: no lease or wait is longer


class LeaseLost(FlockguardError):
    def __init__(self, resource: str, agent: str, why: str) -> None:
        super().__init__(
            "lease-lost",
            f"lease lost: {agent} no longer holds {resource} ({why})",
            "stop writing to it; acquire it again before going on",
        )


class NotHeld(FlockguardError):
    def __init__(self, resource: str, agent: str) -> None:
        super().__init__(
            "lock-not-held",
            f"{agent} does not hold {resource}",
            "`flockguard status` lists who holds what",
        )


class Grant(Value):
    """The answer to an acquire. When not granted: ``position`` in the queue (0 when the request
    was not kept), the ``holders`` and the earlier ``waiters`` it conflicts with, and a
    ``reason`` when it was refused outright."""

    __slots__ = (
        "granted", "resource", "mode", "agent", "token", "expires_at", "position", "holders",
        "reason", "waiters",
    )  # fmt: skip
    granted: bool
    resource: str
    mode: str
    agent: str
    token: int
    expires_at: float
    position: int
    holders: tuple[dict[str, Any], ...]
    reason: str
    waiters: tuple[dict[str, Any], ...]

    def __init__(
        self,
        granted: bool,
        resource: str,
        mode: str,
        agent: str,
        *,
        token: int = 0,
        expires_at: float = 0.0,
        position: int = 0,
        holders: tuple[dict[str, Any], ...] = (),
        reason: str = "",
        waiters: tuple[dict[str, Any], ...] = (),
    ) -> None:
        self._fill(locals())

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "granted": self.granted,
            "resource": self.resource,
            "mode": self.mode,
            "agent": self.agent,
        }
        if self.granted:
            document.update(token=self.token, expires_at=self.expires_at)
            return document
        document.update(
            position=self.position, holders=list(self.holders), waiters=list(self.waiters)
        )
        if self.reason:
            document["reason"] = self.reason
        return document


def holder_json(holding: Holding, now: float) -> dict[str, Any]:
    return {
        "resource": holding.resource,
        "agent": holding.agent,
        "mode": holding.mode,
        "priority": holding.priority,
        "since": holding.since,
        "expires": holding.expires,
        "expires_in": round(holding.expires - now, 1),
        "token": holding.token,
        "ttl": holding.ttl,
        "owner": holding.owner,
    }


class _TryLock:
    """A flock taken only if free (``LOCK_NB``): who publishes snapshots right now."""

    def __init__(self, path: str) -> None:
        from flockguard.locking.file_lock import FLAGS

        self.fd = os.open(path, FLAGS, 0o644)

    def try_acquire(self) -> bool:
        import fcntl

        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self.fd)


def utf8(what: str, text: str) -> str:
    """``text`` as given; a name with bytes that are no UTF-8 (from a mis-decoded argument)
    cannot be stored and is refused by name."""
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise FlockguardError(
            f"lock-{what}-invalid", f"{what} {text!r} is not valid UTF-8"
        ) from exc
    return text


def _covers(held: str, wanted: str) -> bool:
    """Whether holding ``held`` already gives what ``wanted`` asks for."""
    strength = {resources.READ: 0, resources.INTENT_WRITE: 1, resources.WRITE: 2}
    return strength[held] >= strength[wanted]


def _mine(state: State, resource: str, agent: str, mode: str) -> Holding | None:
    return next(
        (h for h in state.holders
         if h.agent == agent and h.resource == resource and _covers(h.mode, mode)),
        None,
    )  # fmt: skip


class Manager:
    def __init__(
        self,
        backend: SQLiteBackend,
        state_dir: str,
        *,
        promote_after: float = PROMOTE_AFTER,
        default_ttl: float = DEFAULT_TTL,
    ) -> None:
        self.backend = backend
        self.state_dir = state_dir
        self.promote_after = promote_after
        self.default_ttl = default_ttl
        self._presence: liveness.Presence | None = None
        self._publish_lock: _TryLock | None = None
        if backend.reset and not backend.readonly:
            self._change(lambda state: None)  # publish the new table before anyone reads it

    def close(self) -> None:
        if self._presence is not None:
            self._presence.close()
            self._presence = None
        if self._publish_lock is not None:
            self._publish_lock.close()
            self._publish_lock = None
        self.backend.close()

    def _publisher(self) -> _TryLock:
        if self._publish_lock is None:
            self._publish_lock = _TryLock(os.path.join(self.state_dir, "locks.publish"))
        return self._publish_lock

    def _recorded(self, generation_id: int) -> int:
        """The version the generation record claims (committed, or about to be)."""
        record = self.backend.record()
        if record is None or record.generation != generation_id:
            return -1
        return record.version

    def __enter__(self) -> Manager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def presence(self) -> liveness.Presence:
        """This process's presence: owner of its locks and the fifo its waits sleep on."""
        if self._presence is None or self._presence.pid != os.getpid():  # a forked child
            self._presence = liveness.Presence(self.state_dir)
        return self._presence

    # ---- the scheduler, in a transaction ---------------------------------------------------------

    def _run(self, state: State, *, sweep: bool = False) -> Step:
        return step(
            state.holders,
            state.waiters,
            now=state.now,
            next_token=state.next_token,
            promote_after=self.promote_after,
            alive=lambda owner: liveness.alive(owner, self.state_dir),
            sweep=sweep,
        )

    def _settle(self, state: State, *, sweep: bool = False) -> Step:
        """Run the scheduler on ``state`` in place; remember whom to wake."""
        wakes = {(w.resource, w.agent): w.wake for w in state.waiters}
        result = self._run(state, sweep=sweep)
        state.lost.extend((h, "lease expired") for h in result.reaped)
        state.lost.extend(
            (h, "its owner is gone (the process that held it ended)") for h in result.orphaned
        )
        state.refused.extend(result.refused)
        state.granted.extend(result.granted)
        state.holders = result.holders
        state.waiters = result.waiting
        state.next_token = result.next_token
        state.wakes = [
            *((wakes.get((h.resource, h.agent), ""), h) for h in result.granted),
            *((w.wake, None) for w, _ in result.refused),
        ]
        return result

    def _change(
        self,
        change: Callable[[State], Any],
        after: Callable[[State], Any] | None = None,
        *,
        sweep: bool = False,
        timeout: float = TXN_TIMEOUT,
        if_changed: bool = False,
    ) -> Any:
        """Apply ``change``, run the scheduler, commit, publish; then wake whom it granted or
        refused. Returns what ``change`` returned, or what ``after`` says of the settled state
        (``after`` may still edit it: its edits are stored too). ``if_changed``: a scheduler run
        only (``change`` edits nothing) that writes nothing when it finds nothing to do — many
        waiters that look at one expiry should not each commit it."""
        committed: list[State] = []

        def run(state: State) -> Any:
            result = change(state)
            settled = self._settle(state, sweep=sweep)
            state.noop = if_changed and not settled.changed
            return after(state) if after is not None else result

        result = self.backend.transaction(run, timeout=timeout, committed=committed.append)
        if committed:
            self._wake(committed[0])
            self._publish(committed[0])
        return result

    def _wake(self, state: State) -> None:
        mine = self._presence.handle if self._presence is not None else ""
        unclaimed = []
        for handle, holding in state.wakes:
            if not handle or handle == mine:
                continue
            woken = liveness.wake(handle, self.state_dir)
            if not woken and holding is not None and holding.owner == handle:
                unclaimed.append(holding)  # granted to a waiter that died: not picked up
        if unclaimed:

            def drop(state: State) -> None:
                for holding in unclaimed:
                    if holding in state.holders:
                        state.holders.remove(holding)
                        state.lost.append((holding, "granted after its waiter died"))

            self._change(drop)

    def _publish(self, state: State) -> None:
        """Publish the committed table, coalescing a burst of changes into few snapshots.

        Outside the table's mutex (the next change need not wait for a file write), by one
        process at a time (a non-blocking flock): a committer that finds another publishing
        leaves it to that one, which looks again after letting go and publishes what was
        committed meanwhile. Snapshots only move forward; readers compare them with the
        generation record, so a late one is never taken for the truth.
        """
        from flockguard.locking import snapshot

        latest: State | None = state
        while True:
            if not self._publisher().try_acquire():
                return
            try:
                shown = snapshot.version(self.state_dir, state.generation)
                if latest is None or latest.version < self._recorded(state.generation):
                    latest = self.backend.read()  # newer changes committed since ours
                # != rather than >: a snapshot claiming a version the table never reached (forged,
                # or left by a lost table) is replaced, not trusted
                if latest.generation == state.generation and latest.version != shown:
                    document = self._document(latest.holders, latest.waiters, latest.now)
                    document["generation"] = latest.generation
                    document["version"] = latest.version
                    try:
                        snapshot.publish(self.state_dir, document)
                    except OSError:
                        return  # a full disk: readers see from the record that it is behind
                published = latest.version
            finally:
                self._publisher().release()
            # after letting go: a committer that found the lock busy relies on this look
            if self._recorded(state.generation) <= published:
                return
            latest = self.backend.read()
            if latest.version <= published:
                return  # still in flight: its committer publishes it

    # ---- the API ---------------------------------------------------------------------------------

    def acquire(
        self,
        resource: str,
        mode: str,
        agent: str,
        *,
        priority: str = "normal",
        ttl: float | None = None,
        wait: float = 0.0,
        keep_queued: bool = False,
        owner: str | None = None,
        session: bool = False,
    ) -> Grant:
        """Ask for ``mode`` on ``resource``; wait up to ``wait`` seconds for it.

        ``owner``: what keeps the lock alive — None for this process (the lock ends with it), a
        liveness handle (an agent's host process), or "" for the lease's TTL alone. With
        ``session`` the owner is also recorded as the agent's session owner. Not granted in
        time: the request leaves the queue, unless ``keep_queued``, when it stays (for one lease
        ``ttl``, or while its owner lives) and is granted on reaching the head.
        """
        resource, ttl = self._check(resource, mode, agent, priority, ttl)
        if not 0 <= wait < FOREVER:  # also false for nan
            raise FlockguardError(
                "lock-wait-invalid", f"wait {wait:g} must be 0 or more seconds, < 1 year"
            )
        started = time.monotonic()
        try:
            presence = self.presence() if owner is None or wait > 0 else None
        except OSError as exc:  # no room for a fifo (a full disk, no inodes left)
            if wait > 0:
                from flockguard.locking.backends.sqlite import failure

                raise failure(exc, os.path.join(self.state_dir, liveness.LIVE_DIR)) from exc
            presence = None  # asked once: the lock then rests on its lease alone
        if owner is None:
            owner = presence.handle if presence is not None else ""
        wake = presence.handle if presence is not None and wait > 0 else ""
        lapse: list[float] = []

        def enqueue(state: State) -> None:
            self.backend.clear_notes(resource, agent)
            if session and owner:
                self.backend.set_session(agent, owner, state.now)
            # a plain request lapses when its asker stops waiting (one asked without waiting is
            # taken out again in this same transaction), a kept one after a lease's length
            lapse[:] = [state.now + (max(ttl, wait) if keep_queued else wait or 1.0)]
            for index, held in enumerate(state.holders):
                if (
                    held.agent == agent
                    and held.resource == resource
                    and _covers(held.mode, mode)
                    and held.expires > state.now  # an expired lease is gone, not renewable
                ):  # already held as strongly: renew it
                    state.holders[index] = held.replace(
                        expires=state.now + ttl, ttl=ttl, owner=owner or held.owner
                    )
                    return
            mine = [w for w in state.waiters if w.agent == agent and w.resource == resource]
            if mine:  # its place in the queue (priority, arrival) is kept
                index = state.waiters.index(mine[0])
                state.waiters[index] = mine[0].replace(
                    mode=mode, expires=lapse[0], ttl=ttl, owner=owner, wake=wake
                )
                return
            self.backend.enqueue(
                state,
                Waiting(0, resource, agent, mode, priority, state.now, lapse[0], ttl, owner, wake),
            )

        def settled(state: State) -> Holding | None:
            holding = _mine(state, resource, agent, mode)
            if holding is None and wait == 0 and not keep_queued:  # asked once: not kept
                state.waiters = [
                    w for w in state.waiters if not (w.agent == agent and w.resource == resource)
                ]
            return holding

        # a table stuck behind a stopped writer answers within the caller's wait (2 s at least:
        # a fleet's queue for the table's mutex is normal), not after the general bound
        bound = min(TXN_TIMEOUT, max(wait, 2.0))
        holding = self._change(enqueue, after=settled, timeout=bound)
        if holding is not None:
            return self._granted(holding, agent)
        if wait == 0:
            return self._not_granted(
                resource, mode, agent, self.backend.forget(resource, agent)[1], kept=keep_queued
            )
        assert presence is not None
        return self._wait(
            presence, resource, mode, agent, started + wait, lapse[0], keep_queued,
            lambda: self._change(enqueue, after=settled, timeout=bound),
        )  # fmt: skip

    def _wait(
        self,
        presence: liveness.Presence,
        resource: str,
        mode: str,
        agent: str,
        deadline: float,
        lapse: float,
        keep_queued: bool,
        ask_again: Callable[[], Holding | None],
    ) -> Grant:
        """Sleep on the presence fifo until a commit grants or refuses the request, or the
        deadline (monotonic) passes; ``lapse`` is when the request lapses by the table's clock."""
        look = time.monotonic() + CHECK_EVERY
        refused = ""
        while True:
            now = time.monotonic()
            if now >= deadline:
                break
            woken = presence.wait(min(deadline, look) - now)
            holding, queued, refused = self.backend.peek(resource, agent)
            if holding is not None and _covers(holding.mode, mode):
                return self._granted(holding, agent)
            if refused:
                return self._not_granted(resource, mode, agent, refused)
            if not queued and time.monotonic() < deadline:
                # taken out of the queue (a lapse while descheduled, a clock step): ask again,
                # once; a request dropped again at once has an owner the table finds dead
                holding = ask_again()
                if holding is not None:
                    return self._granted(holding, agent)
                holding, queued, refused = self.backend.peek(resource, agent)
                if holding is not None and _covers(holding.mode, mode):
                    return self._granted(holding, agent)
                if not queued:
                    return self._not_granted(
                        resource, mode, agent,
                        refused or "the request was dropped: its owner is not alive",
                    )  # fmt: skip
                continue
            if not woken and time.monotonic() >= look:
                look = self._look()
        # past the deadline a plain request has lapsed (no grant can come after it): a last
        # look once the table's clock agrees; a kept request stays queued, so no wait for it
        while not keep_queued and time.time() <= lapse:
            left = deadline + 0.05 - time.monotonic()
            if left <= 0:
                break
            presence.wait(min(max(lapse - time.time(), 0.0) + 0.0005, left))
        holding, _queued, refused = self.backend.peek(resource, agent)
        if holding is not None and _covers(holding.mode, mode):
            return self._granted(holding, agent)
        if time.time() <= lapse and not keep_queued:  # a clock that went back: withdraw

            def withdraw(state: State) -> Holding | None:
                state.waiters = [
                    w for w in state.waiters if not (w.agent == agent and w.resource == resource)
                ]
                return None

            holding = self._change(
                withdraw, after=lambda state: _mine(state, resource, agent, mode)
            )
            if holding is not None:
                return self._granted(holding, agent)
        return self._not_granted(resource, mode, agent, refused, kept=keep_queued)

    def _look(self) -> float:
        """A waiter's periodic look at what only time changes; returns when to look next.

        A dry run of the scheduler on the committed table, without writing: only when it would
        change something (a lease expired, a holder in the way died, aging lets a request
        through) does this waiter commit a scheduler run.
        """
        state = self.backend.read()
        if self._run(state).changed:
            self._change(lambda state: None, if_changed=True)
            state = self.backend.read()
        upcoming = [h.expires for h in state.holders if h.expires > state.now]
        delay = min([CHECK_EVERY, *(at - state.now for at in upcoming)])
        import random  # waiters that look at one expiry should not all commit at once

        return time.monotonic() + max(delay, 0.001) + random.uniform(0, 0.01)

    def _granted(self, holding: Holding, agent: str) -> Grant:
        return Grant(
            True,
            holding.resource,
            holding.mode,
            agent,
            token=holding.token,
            expires_at=holding.expires,
        )

    def adopt(self, resource: str, agent: str, owner: str) -> bool:
        """Hand a lock this process holds to ``owner`` (the CLI, once it has told its caller:
        a grant nobody was told of dies with the process that got it)."""
        resource = resources.normalize(resource)
        mine = self._presence.handle if self._presence is not None else ""
        if owner == mine:
            return True

        def hand_over(state: State) -> bool:
            for index, held in enumerate(state.holders):
                if held.agent == agent and held.resource == resource and held.owner == mine:
                    state.holders[index] = held.replace(owner=owner)
                    return True
            return False

        return bool(self._change(hand_over))

    def release(self, resource: str, agent: str) -> bool:
        """Give up ``agent``'s lock (and queued request) on ``resource``; False when it had
        neither. Raises LeaseLost when the lease was already gone (expired, broken, its owner
        died, the table was lost): whoever relied on it must know."""
        resource = resources.normalize(resource)

        def drop(state: State) -> bool:
            held = len(state.holders)
            queued = len(state.waiters)
            # an expired lease is not released but lost: the scheduler reaps it and says so
            state.holders = [
                h
                for h in state.holders
                if not (h.agent == agent and h.resource == resource and h.expires > state.now)
            ]
            state.waiters = [
                w for w in state.waiters if not (w.agent == agent and w.resource == resource)
            ]
            return len(state.holders) < held or len(state.waiters) < queued

        if self._change(drop):
            return True
        lost, _refused = self.backend.forget(resource, agent)
        if lost:
            raise LeaseLost(resource, agent, lost)
        return False

    def release_all(self, agent: str, *, end_session: bool = False) -> int:
        """Give up every lock and request of ``agent``; with ``end_session`` also forget its
        session (its host process)."""

        def drop(state: State) -> int:
            held = len(state.holders)
            state.holders = [h for h in state.holders if h.agent != agent]
            state.waiters = [w for w in state.waiters if w.agent != agent]
            if end_session:
                self.backend.end_session(agent)
            return held - len(state.holders)

        return int(self._change(drop))

    def renew(self, resource: str, agent: str, ttl: float | None = None) -> Grant:
        """Extend the lease; raises LeaseLost when it expired, was broken, or was never held."""
        resource = resources.normalize(resource)
        if ttl is not None and not 0 < ttl < FOREVER:
            raise FlockguardError(
                "lock-ttl-invalid", f"ttl {ttl:g} must be a positive number of seconds, < 1 year"
            )

        def extend(state: State) -> Holding | None:
            for index, held in enumerate(state.holders):
                if held.agent == agent and held.resource == resource and held.expires > state.now:
                    length = self.default_ttl if ttl is None else ttl
                    state.holders[index] = held.replace(expires=state.now + length, ttl=length)
                    return state.holders[index]
            return None

        renewed = self._change(extend)
        if renewed is None:
            lost, _refused = self.backend.forget(resource, agent)
            if not lost:
                raise NotHeld(resource, agent)
            raise LeaseLost(resource, agent, lost)
        return self._granted(renewed, agent)

    def renew_all(self, agent: str) -> int:
        """Extend every lease of ``agent`` by its own length (its activity keeps them)."""

        def extend(state: State) -> int:
            count = 0
            for index, held in enumerate(state.holders):
                if held.agent == agent and held.expires > state.now:
                    length = held.ttl or self.default_ttl
                    state.holders[index] = held.replace(expires=state.now + length)
                    count += 1
            return count

        return int(self._change(extend))

    def register_session(self, agent: str, owner: str) -> None:
        """Record what keeps ``agent``'s session alive (its host process)."""
        if owner:
            self._change(lambda state: self.backend.set_session(agent, owner, state.now))

    def session_owner(self, agent: str) -> str:
        """The recorded owner of ``agent``'s session while it lives ("" when none or dead)."""
        owner = self.backend.session_owner(utf8("agent", agent))
        return owner if owner and liveness.alive(owner, self.state_dir) else ""

    def break_lock(self, resource: str, *, by: str = "a person") -> list[dict[str, Any]]:
        """Take every lock on ``resource`` away (its holders are told on renew)."""
        resource = resources.normalize(resource)

        def take(state: State) -> list[dict[str, Any]]:
            broken = [h for h in state.holders if h.resource == resource]
            state.holders = [h for h in state.holders if h.resource != resource]
            state.lost.extend((h, f"broken by {by}") for h in broken)
            return [holder_json(h, state.now) for h in broken]

        return list(self._change(take))

    def settle(self) -> None:
        """Run the scheduler once and publish the table (after a repair, say)."""
        self._change(lambda state: None, sweep=True)

    def reap(self, *, timeout: float = TXN_TIMEOUT) -> int:
        """Take away every lock and request whose owner died or whose time ran out; commits only
        when there is something to take (a dry run decides)."""
        state = self.backend.read()
        if not self._run(state, sweep=True).changed:
            return 0
        counted: list[int] = []

        def count(state: State) -> None:
            counted.append(len(state.lost))

        self._change(lambda state: None, after=count, sweep=True, timeout=timeout, if_changed=True)
        return counted[0] if counted else 0

    def status(self) -> dict[str, Any]:
        """The table with what time and deaths changed applied: expired leases and the locks of
        the dead gone, and whatever that lets through granted. Applied with a write only when
        something changed and the table is writable; read-only, the same view is computed
        without storing it (``status`` works on a read-only table)."""
        state = self.backend.read()
        settled = self._run(state, sweep=True)
        if settled.changed and not self.backend.readonly:
            try:
                self._change(lambda state: None, sweep=True, timeout=1.0, if_changed=True)
            except FlockguardError as exc:
                if exc.reference != "lock-table-busy":
                    raise
                return self._view(state, settled)  # a stuck writer: show what would be
            state = self.backend.read()
            settled = self._run(state, sweep=True)
        return self._view(state, settled)

    def _view(self, state: State, settled: Step) -> dict[str, Any]:
        document = self._document(settled.holders, settled.waiting, state.now)
        document["generation"] = state.generation
        document["version"] = state.version
        return document

    # ---- helpers ---------------------------------------------------------------------------------

    def _check(
        self, resource: str, mode: str, agent: str, priority: str, ttl: float | None
    ) -> tuple[str, float]:
        if mode not in resources.MODES:
            raise FlockguardError(
                "lock-mode-invalid", f"mode {mode!r} is not one of {', '.join(resources.MODES)}"
            )
        if priority not in resources.PRIORITIES:
            raise FlockguardError(
                "lock-priority-invalid",
                f"priority {priority!r} is not one of {', '.join(resources.PRIORITIES)}",
            )
        if not agent:
            raise FlockguardError(
                "lock-agent-missing", "no agent id", "pass --agent or set FLOCKGUARD_AGENT"
            )
        ttl = self.default_ttl if ttl is None else ttl
        if not 0 < ttl < FOREVER:  # also false for nan; inf would never end
            raise FlockguardError(
                "lock-ttl-invalid", f"ttl {ttl:g} must be a positive number of seconds, < 1 year"
            )
        utf8("resource", resource)
        utf8("agent", agent)
        try:
            return resources.normalize(resource), ttl
        except ValueError as exc:
            raise FlockguardError("lock-resource-invalid", str(exc)) from exc

    def _not_granted(
        self, resource: str, mode: str, agent: str, reason: str, *, kept: bool = False
    ) -> Grant:
        document = self.status()
        mine = next(
            (w for w in document["waiters"] if w["agent"] == agent and w["resource"] == resource),
            None,
        )
        holders = tuple(
            h for h in document["holders"]
            if h["agent"] != agent
            and not resources.compatible(h["mode"], h["resource"], mode, resource)
        )  # fmt: skip
        ahead = tuple(
            w for w in document["waiters"]
            if w["agent"] != agent
            and (mine is None or w["position"] < mine["position"])
            and not resources.compatible(w["mode"], w["resource"], mode, resource)
        )  # fmt: skip
        return Grant(
            False,
            resource,
            mode,
            agent,
            position=mine["position"] if mine is not None and kept else 0,
            holders=holders,
            reason=reason,
            waiters=ahead,
        )

    def _document(
        self, holders: list[Holding], waiters: list[Waiting], now: float
    ) -> dict[str, Any]:
        queue = order(waiters, now, self.promote_after)
        return {
            "updated": now,
            "holders": [holder_json(h, now) for h in sorted(holders, key=lambda h: h.since)],
            "waiters": [
                {
                    "resource": w.resource,
                    "agent": w.agent,
                    "mode": w.mode,
                    "priority": w.priority,
                    "effective_priority": resources.PRIORITIES[
                        effective(w, now, self.promote_after)
                    ],
                    "waiting_since": w.since,
                    "waited": round(now - w.since, 1),
                    "position": position,
                    "owner": w.owner,
                }
                for position, w in enumerate(queue, 1)
            ],
        }


def open_manager(
    repo_root: str,
    *,
    readonly: bool = False,
    promote_after: float = PROMOTE_AFTER,
    default_ttl: float = DEFAULT_TTL,
) -> Manager:
    """The lock manager of the repository at ``repo_root`` (SQLite in .flockguard/state/).

    ``readonly``: for reading only (``status``, the hook's view); it never creates or writes
    anything, so it works on a read-only state directory.
    """
    from flockguard.locking.backends.sqlite import open_backend

    state_dir = os.path.join(repo_root, STATE_DIR)
    return Manager(
        open_backend(state_dir, readonly=readonly),
        state_dir,
        promote_after=promote_after,
        default_ttl=default_ttl,
    )
