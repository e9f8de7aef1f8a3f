"""Orchestrator locks, enforced when an agent acts (FG701, FG702, FG704), and claimed by its edits.

The hook decides from the published table (``.flockguard/state/locks.json``: plain JSON, no
SQLite on the hot path) only while it is current: the generation record says how many changes
the table has committed, and a snapshot behind it (a change in flight, a publication that failed
on a full disk) or a missing or unreadable one sends the hook to the table itself. A table that
cannot be read is never taken for "nobody holds anything": that is FG904, by on_internal_error.

Claiming (:func:`claim`) runs after the decision, and only for an allowed write: a write a
person has yet to approve must not hold a lease meanwhile. A claim that is not granted — the file
is held, or another agent is queued for it first — refuses the write.
"""

from __future__ import annotations

import os
import time

from flockguard.engine import describe, internal_finding
from flockguard.errors import FlockguardError
from flockguard.model import DENY, WARN, Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from flockguard.config import LockSettings
    from flockguard.engine import Context
    from flockguard.locking.manager import Manager
    from flockguard.model import Action
    from flockguard.paths import Target

CODES = ("FG701", "FG702", "FG704", "FG904")
STATE_DIR = os.path.join(".flockguard", "state")
GUARDING = ("write", "intent_write")
STALE_TRIES = 4  # looks at a snapshot that is behind before asking the table (changes are ~1 ms)
_TABLES: dict[str, dict[str, Any]] = {}  # this process's view, by repository root


def forget(root: str) -> None:
    """Drop this process's view of the table (after it changed the table itself)."""
    _TABLES.pop(root, None)


def table(root: str) -> dict[str, Any]:
    """The lock table as the hook may decide from it (holders and waiters, as in locks.json).

    Raises FlockguardError when it cannot be read.
    """
    cached = _TABLES.get(root)
    if cached is not None:
        return cached
    from flockguard.locking import generation, snapshot

    state_dir = os.path.join(root, STATE_DIR)
    for attempt in range(STALE_TRIES):
        record = generation.read(os.path.join(state_dir, generation.FILE))
        if record is None:
            if not os.path.exists(os.path.join(state_dir, "locks.db")):
                document: dict[str, Any] = {"holders": [], "waiters": []}  # never created
                _TABLES[root] = document
                return document
            break  # a table without its record: ask the table
        found = snapshot.load(state_dir)
        if (
            found is not None
            and found.get("generation") == record.generation
            and isinstance(found.get("version"), int)
            and found["version"] == record.version  # behind: in flight; ahead: not ours
        ):
            _TABLES[root] = found
            return found
        time.sleep(0.0003 * (attempt + 1))
    document = _from_table(root)
    _TABLES[root] = document
    return document


def _from_table(root: str) -> dict[str, Any]:
    """Read the table itself; a deleted one is recreated first (its holders told they lost)."""
    from flockguard.locking.manager import open_manager

    try:
        with open_manager(root, readonly=True) as manager:
            return manager.status()
    except FlockguardError as exc:
        if exc.reference != "lock-table-missing":
            raise
    with open_manager(root) as manager:
        return manager.status()


def _unavailable(action: Action, ctx: Context, exc: FlockguardError) -> Finding:
    return internal_finding(
        "FG904",
        f"the lock table cannot be read, so other agents' locks cannot be checked: "
        f"{exc.message}; {exc.hint}",
        action.kind,
        ctx.config.on_internal_error,
    )


def _holding(
    root: str, document: dict[str, Any], path: str, modes: tuple[str, ...], now: float, me: str
) -> list[dict[str, Any]]:
    """Live locks of other agents in ``modes`` that cover ``path``.

    A lock whose owner died is not held by anyone: it is left out, and the table is asked to
    take it away (so the CLI and the hook agree at once).
    """
    candidates = [
        h
        for h in document.get("holders", [])
        if h.get("agent") != me and h.get("mode") in modes and h.get("expires", 0) > now
    ]
    if not candidates:
        return []  # the common case: nobody else holds anything that matters
    from flockguard.locking.resources import overlap

    covering = [h for h in candidates if overlap(h["resource"], path)]
    if not covering:
        return []
    from flockguard.locking import liveness

    state_dir = os.path.join(root, STATE_DIR)
    alive = [h for h in covering if liveness.alive(str(h.get("owner", "")), state_dir)]
    if len(alive) < len(covering):
        _reap(root)
    return alive


def _reap(root: str) -> None:
    from flockguard.locking.manager import open_manager

    try:
        with open_manager(root) as manager:
            manager.reap(timeout=1.0)  # a stuck table: the dead holder is left out here anyway
    except FlockguardError:
        pass  # the dead holder is ignored here either way; the next writer reaps it
    forget(root)


def _changing(root: str, settings: LockSettings) -> Manager:
    """The lock manager, to change the table with (this process's view is dropped first)."""
    from flockguard.locking.manager import open_manager

    forget(root)
    return open_manager(
        root, promote_after=settings.promote_after, default_ttl=settings.default_ttl
    )


def _claimable(path: str) -> bool:
    """A plain path the lock table can store (no glob; no lone surrogate from a bad name)."""
    if any(char in path for char in "*?["):
        return False
    try:
        path.encode()
    except UnicodeEncodeError:
        return False
    return True


def _age(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f}s"


def check(action: Action, ctx: Context) -> Iterator[Finding]:
    root = ctx.config.root
    # the repository root has no name (it is every path): it counts, as the directory `./`
    writing = [t for t in (*ctx.writes, *ctx.deletes) if t.inside and (t.names or t.is_dir)]
    reading = [t for t in ctx.reads if t.inside and t.names]
    if not (writing or reading):
        return
    try:
        document = table(root)
    except FlockguardError as exc:
        if writing:
            yield _unavailable(action, ctx, exc)
        return
    now = time.time()
    me = action.agent
    for target in writing:
        path = (
            (target.names[-1] if len(target.names) > 1 else target.names[0])
            if target.names
            else "."
        )
        if target.is_dir:  # removing, moving or reverting a directory touches what is in it
            path = "./" if path in (".", "") else path.rstrip("/") + "/"
        others = _holding(root, document, path, GUARDING, now, me)
        if others:
            yield _refusal(target, others[0], now)
    for target in reading:
        path = target.names[0]
        for holder in _holding(root, document, path, ("write",), now, me):
            yield Finding(
                "FG702",
                WARN,
                f"Read of `{target.shown}` while {holder['agent']} holds it for write "
                f"({describe('FG702')}): it may change under you; read it again after "
                f"they release it (lease ends in {_age(holder['expires'] - now)}). "
                "Rule: docs/rules/FG702.md.",
                path=target.shown,
            )
            break


def _refusal(target: Target, holder: dict[str, Any], now: float) -> Finding:
    return Finding(
        "FG701",
        DENY,
        f"Write to `{target.shown}` refused: {describe('FG701')} — {holder['agent']} holds "
        f"{holder['mode']} on `{holder['resource']}` (for {_age(now - holder['since'])}, lease "
        f"ends in {_age(holder['expires'] - now)}, token {holder['token']}). Work on something "
        "else meanwhile, or queue for it: `flockguard lock acquire "
        f"{holder['resource']} --mode write --keep-queued` and check `flockguard status`. "
        "Rule: docs/rules/FG701.md.",
        path=target.shown,
        hint="work on something else, or queue with flockguard lock acquire --keep-queued",
    )


def claim(
    root: str, paths: list[str], me: str, settings: LockSettings, on_internal_error: str
) -> Iterator[Finding]:
    """Take (or renew when half spent) a write lease on each file an allowed edit touches.

    The lease belongs to the agent's host process: it ends with the session (or the process),
    not only with its TTL.
    """
    paths = [p for p in paths if _claimable(p)]
    if not (paths and me and settings.auto_claim):
        return
    from flockguard.model import WRITE

    try:
        document = table(root)
    except FlockguardError as exc:
        yield internal_finding(
            "FG904", f"no lease could be taken: {exc.message}; {exc.hint}", WRITE, on_internal_error
        )
        return
    now = time.time()
    mine = {
        h["resource"]: h
        for h in document.get("holders", [])
        if h.get("agent") == me and h.get("mode") == "write"
    }
    ttl = settings.claim_ttl
    due = [p for p in paths if p not in mine or mine[p]["expires"] - now < ttl / 2]
    if not due:
        return
    from flockguard.locking import liveness

    try:
        with _changing(root, settings) as manager:
            for path in due:
                grant = manager.acquire(
                    path, "write", me, ttl=ttl, owner=liveness.host_handle(), session=True
                )
                if not grant.granted:
                    yield _not_claimed(path, grant.as_json())
    except FlockguardError as exc:
        yield internal_finding(
            "FG904",
            f"no lease could be taken on {', '.join(due)}: {exc.message}; {exc.hint}",
            WRITE,
            on_internal_error,
        )


def _not_claimed(path: str, answer: dict[str, Any]) -> Finding:
    """The claim was refused: taken between our look and our claim, or queued for by others."""
    if answer["holders"]:
        holder = answer["holders"][0]
        return Finding(
            "FG701",
            DENY,
            f"Write to `{path}` refused: {describe('FG701')} — {holder['agent']} holds "
            f"{holder['mode']} on `{holder['resource']}`. Work on something else meanwhile, or "
            "queue for it with `flockguard lock acquire … --keep-queued`. "
            "Rule: docs/rules/FG701.md.",
            path=path,
        )
    ahead = answer["waiters"]
    who = ", ".join(f"{w['agent']} ({w['mode']})" for w in ahead) or "another agent"
    why = f" ({answer['reason']})" if answer.get("reason") else ""
    return Finding(
        "FG704",
        DENY,
        f"Write to `{path}` refused: {describe('FG704')} — {who} asked for it first and waits "
        f"for it{why}; an edit may not overtake the queue without a lease. Work on something "
        "else meanwhile, or queue too: `flockguard lock acquire "
        f"{path} --mode write --keep-queued`. Rule: docs/rules/FG704.md.",
        path=path,
        hint="work on something else, or queue with flockguard lock acquire --keep-queued",
    )


def keep_alive(root: str, me: str, settings: LockSettings) -> None:
    """The agent is active: renew its leases once they are half spent (one change for all).

    Looks only at a view this process already has (the check above loaded it), so an action
    that touches no file costs nothing here.
    """
    document = _TABLES.get(root)
    if document is None or not me:
        return
    now = time.time()
    due = [
        h
        for h in document.get("holders", [])
        if h.get("agent") == me
        and h.get("expires", 0) > now
        and h.get("expires", 0) - now < float(h.get("ttl") or settings.default_ttl) / 2
    ]
    if not due:
        return
    try:
        with _changing(root, settings) as manager:
            manager.renew_all(me)
    except FlockguardError:
        pass  # a lease not renewed now is renewed by the next action, or lapses
