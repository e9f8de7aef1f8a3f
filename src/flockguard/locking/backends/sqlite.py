"""The lock table in SQLite (``.flockguard/state/locks.db``), for agents on one machine.

Every state change is one ``BEGIN IMMEDIATE`` transaction: load the table, run the scheduler,
store the difference. WAL lets waiters check their request without taking the write lock.
"""

from __future__ import annotations

import sqlite3
import time

from flockguard.locking.schedule import Holding, Waiting

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS holders (
    resource TEXT NOT NULL, agent TEXT NOT NULL, mode TEXT NOT NULL, priority TEXT NOT NULL,
    token INTEGER NOT NULL, since REAL NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (resource, agent));
CREATE TABLE IF NOT EXISTS waiters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, resource TEXT NOT NULL, agent TEXT NOT NULL,
    mode TEXT NOT NULL, priority TEXT NOT NULL, since REAL NOT NULL, expires REAL NOT NULL,
    ttl REAL NOT NULL, UNIQUE (resource, agent));
CREATE TABLE IF NOT EXISTS lost (
    resource TEXT NOT NULL, agent TEXT NOT NULL, token INTEGER NOT NULL, reason TEXT NOT NULL,
    at REAL NOT NULL, PRIMARY KEY (resource, agent));
CREATE TABLE IF NOT EXISTS refused (
    resource TEXT NOT NULL, agent TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (resource, agent));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('next_token', 1);
"""


class State:
    """The table as loaded in one transaction; the manager edits it, the backend stores it."""

    def __init__(
        self,
        holders: list[Holding],
        waiters: list[Waiting],
        next_token: int,
        now: float,
    ) -> None:
        self.holders = holders
        self.waiters = waiters
        self.next_token = next_token
        self.now = now
        self.lost: list[tuple[Holding, str]] = []  # leases taken away, to tell their owners
        self.refused: list[tuple[Waiting, str]] = []
        self.new_waiters: list[Waiting] = []


class SQLiteBackend:
    name = "sqlite"

    def __init__(self, path: str, *, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        deadline = time.monotonic() + busy_timeout
        delay = 0.005
        while True:
            try:
                # switching a new file to WAL answers "locked" at once, busy timeout or not,
                # while another connection writes it: retry until the deadline
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def close(self) -> None:
        self.db.close()

    def transaction(self, change: Callable[[State], T]) -> T:
        """Run ``change`` on the loaded state in one BEGIN IMMEDIATE transaction and store it."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            state = State(
                [
                    Holding(*row)
                    for row in db.execute(
                        "SELECT resource, agent, mode, priority, token, since, expires FROM holders"
                    )
                ],
                [
                    Waiting(*row)
                    for row in db.execute(
                        "SELECT id, resource, agent, mode, priority, since, expires, ttl "
                        "FROM waiters"
                    )
                ],
                db.execute("SELECT value FROM meta WHERE key = 'next_token'").fetchone()[0],
                time.time(),  # one clock for the whole machine: the backend's
            )
            before_holders = {(h.resource, h.agent): h for h in state.holders}
            before_waiters = {w.id: w for w in state.waiters}
            result = change(state)
            self._store(state, before_holders, before_waiters)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return result

    def _store(
        self,
        state: State,
        before_holders: dict[tuple[str, str], Holding],
        before_waiters: dict[int, Waiting],
    ) -> None:
        db = self.db
        after = {(h.resource, h.agent): h for h in state.holders}
        for key in before_holders.keys() - after.keys():
            db.execute("DELETE FROM holders WHERE resource = ? AND agent = ?", key)
        for key, holding in after.items():
            if before_holders.get(key) != holding:
                db.execute(
                    "INSERT OR REPLACE INTO holders VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        holding.resource,
                        holding.agent,
                        holding.mode,
                        holding.priority,
                        holding.token,
                        holding.since,
                        holding.expires,
                    ),
                )
        kept = {w.id for w in state.waiters}
        inserted = {w.id for w in state.new_waiters}  # stored at enqueue, maybe granted since
        for waiter_id in (before_waiters.keys() | inserted) - kept:
            db.execute("DELETE FROM waiters WHERE id = ?", (waiter_id,))
        for waiter in state.waiters:
            if (waiter.id in before_waiters and before_waiters[waiter.id] != waiter) or (
                waiter.id in inserted and waiter not in state.new_waiters
            ):
                db.execute(
                    "UPDATE waiters SET expires = ?, ttl = ?, mode = ?, priority = ? WHERE id = ?",
                    (waiter.expires, waiter.ttl, waiter.mode, waiter.priority, waiter.id),
                )
        db.execute("UPDATE meta SET value = ? WHERE key = 'next_token'", (state.next_token,))
        for holding, reason in state.lost:
            db.execute(
                "INSERT OR REPLACE INTO lost VALUES (?, ?, ?, ?, ?)",
                (holding.resource, holding.agent, holding.token, reason, state.now),
            )
        for waiter, reason in state.refused:
            db.execute(
                "INSERT OR REPLACE INTO refused VALUES (?, ?, ?, ?)",
                (waiter.resource, waiter.agent, reason, state.now),
            )

    def enqueue(self, state: State, waiter: Waiting) -> Waiting:
        """Insert a new request (inside a transaction) and give it its row id."""
        cursor = self.db.execute(
            "INSERT INTO waiters (resource, agent, mode, priority, since, expires, ttl) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                waiter.resource,
                waiter.agent,
                waiter.mode,
                waiter.priority,
                waiter.since,
                waiter.expires,
                waiter.ttl,
            ),
        )
        stored = waiter.replace(id=cursor.lastrowid)
        state.waiters.append(stored)
        state.new_waiters.append(stored)
        return stored

    def _note(self, table: str, resource: str, agent: str) -> str:
        """Why the agent's lease was lost, or its request refused ("" when it was not)."""
        row = self.db.execute(
            f"SELECT reason FROM {table} WHERE resource = ? AND agent = ?",  # table: lost/refused
            (resource, agent),
        ).fetchone()
        return str(row[0]) if row else ""

    def forget(self, resource: str, agent: str) -> tuple[str, str]:
        """(lost reason, refused reason) recorded for this agent and resource."""
        return self._note("lost", resource, agent), self._note("refused", resource, agent)

    def clear_notes(self, resource: str, agent: str) -> None:
        self.db.execute("DELETE FROM lost WHERE resource = ? AND agent = ?", (resource, agent))
        self.db.execute("DELETE FROM refused WHERE resource = ? AND agent = ?", (resource, agent))

    def peek(self, resource: str, agent: str) -> tuple[Holding | None, bool, str]:
        """(the agent's holding, still queued?, refusal reason), read from one snapshot without
        taking the write lock (a deferred transaction: WAL gives it a consistent view)."""
        db = self.db
        db.execute("BEGIN")
        try:
            return self._peek(resource, agent)
        finally:
            db.execute("COMMIT")

    def _peek(self, resource: str, agent: str) -> tuple[Holding | None, bool, str]:
        db = self.db
        row = db.execute(
            "SELECT resource, agent, mode, priority, token, since, expires FROM holders "
            "WHERE resource = ? AND agent = ?",
            (resource, agent),
        ).fetchone()
        queued = db.execute(
            "SELECT 1 FROM waiters WHERE resource = ? AND agent = ?", (resource, agent)
        ).fetchone()
        return (
            Holding(*row) if row else None,
            bool(queued),
            self._note("refused", resource, agent),
        )


def open_backend(state_dir: str) -> SQLiteBackend:
    import os

    os.makedirs(state_dir, exist_ok=True)
    return SQLiteBackend(os.path.join(state_dir, "locks.db"))
