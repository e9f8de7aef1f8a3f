"""Orchestrator locks, enforced when an agent acts (FG701, FG702), and claimed by its edits.

It reads the published table (``.flockguard/state/locks.json``: plain JSON, no SQLite on the
hot path). Claiming (:func:`claim`) runs after the decision, and only for an allowed write: a
write a person has yet to approve must not hold a lease meanwhile.
"""

from __future__ import annotations

import json
import os
import time

from flockguard.engine import describe
from flockguard.model import DENY, WARN, Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from flockguard.config import LockSettings
    from flockguard.engine import Context
    from flockguard.model import Action
    from flockguard.paths import Target

CODES = ("FG701", "FG702")
SNAPSHOT = os.path.join(".flockguard", "state", "locks.json")
GUARDING = ("write", "intent_write")


def snapshot(root: str) -> dict[str, Any]:
    try:
        with open(os.path.join(root, SNAPSHOT), encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError):
        return {"holders": [], "waiters": []}
    return document if isinstance(document, dict) else {"holders": [], "waiters": []}


def _holding(
    document: dict[str, Any], path: str, modes: tuple[str, ...], now: float, me: str
) -> list[dict[str, Any]]:
    """Live locks of other agents in ``modes`` that cover ``path``."""
    candidates = [
        h
        for h in document.get("holders", [])
        if h.get("agent") != me and h.get("mode") in modes and h.get("expires", 0) > now
    ]
    if not candidates:
        return []  # the common case: nobody else holds anything that matters
    from flockguard.locking.resources import overlap

    return [h for h in candidates if overlap(h["resource"], path)]


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
    document = snapshot(root)
    now = time.time()
    me = action.agent
    writing = [t for t in (*ctx.writes, *ctx.deletes) if t.inside and t.names]
    for target in writing:
        path = target.names[-1] if len(target.names) > 1 else target.names[0]
        others = _holding(document, path, GUARDING, now, me)
        if others:
            yield _refusal(target, others[0], now)
    for target in ctx.reads:
        if not (target.inside and target.names):
            continue
        path = target.names[0]
        for holder in _holding(document, path, ("write",), now, me):
            if holder:
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


def claim(root: str, paths: list[str], me: str, settings: LockSettings) -> Iterator[Finding]:
    """Take (or renew when half spent) a write lease on each file an allowed edit touches."""
    paths = [p for p in paths if _claimable(p)]
    if not (paths and me and settings.auto_claim):
        return
    document = snapshot(root)
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
    from flockguard.locking.manager import open_manager

    with open_manager(
        root, promote_after=settings.promote_after, default_ttl=settings.default_ttl
    ) as manager:
        for path in due:
            grant = manager.acquire(path, "write", me, ttl=ttl)
            if not grant.granted and grant.holders:  # taken between our read and our claim
                holder = grant.holders[0]
                yield Finding(
                    "FG701",
                    DENY,
                    f"Write to `{path}` refused: {describe('FG701')} — {holder['agent']} holds "
                    f"{holder['mode']} on `{holder['resource']}`. Work on something else "
                    "meanwhile, or queue for it with `flockguard lock acquire … --keep-queued`. "
                    "Rule: docs/rules/FG701.md.",
                    path=path,
                )
