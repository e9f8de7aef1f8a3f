"""The lock table in SQLite (``.flockguard/state/locks.db``), for agents on one machine.

Every change is one ``BEGIN IMMEDIATE`` transaction under the table's mutex, an exclusive flock
on the generation record ``locks.gen`` (:mod:`flockguard.locking.generation`): load the table,
run the scheduler, store the difference, rewrite the record, commit, publish ``locks.json``.
The mutex hands the table from writer to writer in the kernel's order, at once; SQLite's own
busy handler sleeps 1-100 ms between tries, and a fleet of 64 writers convoyed behind it.
Readers (a waiter looking whether it was granted, ``status``, the hook) read a WAL snapshot
and take no lock.

Before each change the writer checks that the file it has open is still the table (same inode,
same generation): a table deleted or replaced under running processes is noticed, holders are
told their leases are gone, and fencing tokens continue from the record's high-water mark (or
the clock) instead of starting again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import time

from flockguard.errors import FlockguardError
from flockguard.locking import generation, snapshot
from flockguard.locking.file_lock import LockTimeout, Mutex
from flockguard.locking.schedule import Holding, Waiting

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")

DB = "locks.db"
SCHEMA_VERSION = 2
BUSY_TIMEOUT = 2.0  # only a writer outside flockguard (or WAL recovery) makes SQLite wait
SCHEMA = """
CREATE TABLE IF NOT EXISTS holders (
    resource TEXT NOT NULL, agent TEXT NOT NULL, mode TEXT NOT NULL, priority TEXT NOT NULL,
    token INTEGER NOT NULL, since REAL NOT NULL, expires REAL NOT NULL,
    ttl REAL NOT NULL DEFAULT 300, owner TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (resource, agent));
CREATE TABLE IF NOT EXISTS waiters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, resource TEXT NOT NULL, agent TEXT NOT NULL,
    mode TEXT NOT NULL, priority TEXT NOT NULL, since REAL NOT NULL, expires REAL NOT NULL,
    ttl REAL NOT NULL, owner TEXT NOT NULL DEFAULT '', wake TEXT NOT NULL DEFAULT '',
    UNIQUE (resource, agent));
CREATE TABLE IF NOT EXISTS lost (
    resource TEXT NOT NULL, agent TEXT NOT NULL, token INTEGER NOT NULL, reason TEXT NOT NULL,
    at REAL NOT NULL, PRIMARY KEY (resource, agent));
CREATE TABLE IF NOT EXISTS refused (
    resource TEXT NOT NULL, agent TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (resource, agent));
CREATE TABLE IF NOT EXISTS sessions (
    agent TEXT PRIMARY KEY, owner TEXT NOT NULL, since REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
# columns a version-1 table (flockguard before owners and generations) lacks
MIGRATE_1 = (
    "ALTER TABLE holders ADD COLUMN ttl REAL NOT NULL DEFAULT 300",
    "ALTER TABLE holders ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE waiters ADD COLUMN owner TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE waiters ADD COLUMN wake TEXT NOT NULL DEFAULT ''",
)
HOLDER_COLUMNS = "resource, agent, mode, priority, token, since, expires, ttl, owner"
WAITER_COLUMNS = "id, resource, agent, mode, priority, since, expires, ttl, owner, wake"


class State:
    """The table as loaded in one transaction; the manager edits it, the backend stores it."""

    def __init__(
        self,
        holders: list[Holding],
        waiters: list[Waiting],
        next_token: int,
        now: float,
        version: int = 0,
        generation: int = 0,
    ) -> None:
        self.holders = holders
        self.waiters = waiters
        self.next_token = next_token
        self.now = now
        self.version = version
        self.generation = generation
        self.lost: list[tuple[Holding, str]] = []  # leases taken away, to tell their owners
        self.refused: list[tuple[Waiting, str]] = []
        self.granted: list[Holding] = []
        self.new_waiters: list[Waiting] = []
        self.result: Any = None  # what the change returned
        self.wakes: list[tuple[str, Holding | None]] = []  # presences to wake after the commit
        self.noop = False  # nothing changed: roll back instead of committing


def _full(directory: str) -> bool:
    """Whether the file system holding ``directory`` has no block or no inode left."""
    try:
        room = os.statvfs(directory)
    except OSError:
        return False
    return room.f_bavail == 0 or (room.f_files > 0 and room.f_favail == 0)


def failure(exc: BaseException, path: str) -> FlockguardError:
    """A clear error, with the fix, for what SQLite or the file system said about the table."""
    text = str(exc)
    number = getattr(exc, "errno", None)
    if not isinstance(exc, LockTimeout) and number != errno.ENOSPC and _full(os.path.dirname(path)):
        number = errno.ENOSPC  # SQLite says "unable to open" or "disk I/O error" for a full disk
    if number == errno.EISDIR:
        return FlockguardError(
            "lock-table-unusable",
            f"{path}: a directory stands where the lock table's file belongs",
            f"remove it (rm -r {path}); the next lock command recreates the table",
        )
    if isinstance(exc, LockTimeout):
        return FlockguardError(
            "lock-table-busy",
            f"{path}: the lock table stayed busy: {exc.message}",
            "retry; if it persists, the holder named above is stuck (stop it)",
        )
    if number == errno.ENOSPC or "disk is full" in text or "database or disk is full" in text:
        return FlockguardError(
            "lock-table-disk-full",
            f"{path}: the disk is full, the lock table cannot record the change ({text})",
            f"free space on the file system of {os.path.dirname(path)}; the table did not change",
        )
    if (
        number in (errno.EACCES, errno.EPERM, errno.EROFS)
        or "readonly" in text
        or "read-only" in text
        or "unable to open" in text
    ):
        return FlockguardError(
            "lock-table-unwritable",
            f"{path}: the lock table cannot be written ({text})",
            f"make {os.path.dirname(path)} and its files writable by every agent's user "
            f"(ls -la {os.path.dirname(path)})",
        )
    if "locked" in text or "busy" in text:
        return FlockguardError(
            "lock-table-busy",
            f"{path}: the lock table stayed locked by a program other than flockguard ({text})",
            "retry; close other programs that hold locks.db open for writing",
        )
    if isinstance(exc, sqlite3.DatabaseError):
        return FlockguardError(
            "lock-table-damaged",
            f"{path}: the lock table is damaged ({text})",
            "run `flockguard locks repair`: it keeps what can be read and tells holders what "
            "was lost",
        )
    return FlockguardError("lock-table-unusable", f"{path}: {text}", "run `flockguard doctor`")


def _replaced(record: generation.Record, known: int, meta: dict[str, int]) -> bool:
    """Whether the table is not the one the record describes: another generation, or the same
    one gone back in time (a restored copy). One change of lag is a writer killed between
    writing the record and committing, which changes nothing."""
    return record.generation != known or meta.get("version", 0) + 1 < record.version


class _GoneBack(Exception):
    """The table file was swapped for an older copy of itself (noticed inside a change)."""


def _clock_token() -> int:
    """A fencing token seed above any token handed out before (one per microsecond at most)."""
    return int(time.time() * 1_000_000)


def _new_generation() -> int:
    return int.from_bytes(os.urandom(8), "big") >> 1  # fits SQLite's signed integers


def _connect(uri: str, *, readonly: bool) -> sqlite3.Connection:
    db = sqlite3.connect(uri, timeout=BUSY_TIMEOUT, isolation_level=None, uri=True)
    if readonly:
        db.execute("PRAGMA query_only = 1")
    return db


def _uri(path: str, **params: str) -> str:
    quoted = path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"file:{quoted}" + (f"?{query}" if query else "")


class SQLiteBackend:
    name = "sqlite"

    def __init__(self, state_dir: str, *, readonly: bool = False, timeout: float = 10.0) -> None:
        self.state_dir = state_dir
        self.path = os.path.join(state_dir, DB)
        self.gen_path = os.path.join(state_dir, generation.FILE)
        self.readonly = readonly
        self.generation = 0
        self.identity: tuple[int, int] = (0, 0)
        self.reset = ""  # why the table was found lost or replaced at open ("" when it was not)
        self.recorded = 0  # the record's version, read under the mutex before a change
        self.mutex: Mutex | None = None
        self.db: sqlite3.Connection | None = None
        if readonly:
            self._open_readonly()
        else:
            self._open(timeout)

    # ---- opening -----------------------------------------------------------------------------

    def _open_readonly(self) -> None:
        if not os.path.exists(self.path):
            if generation.read(self.gen_path) is not None:
                raise FlockguardError(
                    "lock-table-missing",
                    f"{self.path}: the lock table was deleted (its generation record remains)",
                    "any `flockguard lock` command recreates it and tells holders their locks "
                    "are gone",
                )
            return  # never created: nobody holds anything
        try:
            self.db = _connect(_uri(self.path, mode="ro"), readonly=True)
            self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:
            if "unable to open" not in str(exc) and "readonly" not in str(exc):
                raise failure(exc, self.path) from exc
            # a read-only directory without the WAL index: the file as it stands is the table
            # only when no WAL holds changes not yet written into it
            try:
                pending = os.path.getsize(self.path + "-wal") > 0
            except OSError:
                pending = False
            if pending:
                raise FlockguardError(
                    "lock-table-unreadable",
                    f"{self.path}: recent changes sit in {DB}-wal, which cannot be read without "
                    f"writing {DB}-shm here ({exc})",
                    f"make {self.state_dir} writable by this user, or run any `flockguard lock` "
                    "command as a user who can write it",
                ) from exc
            self.db = _connect(_uri(self.path, mode="ro", immutable="1"), readonly=True)
        except sqlite3.DatabaseError as exc:
            raise failure(exc, self.path) from exc
        try:
            self.generation = self._meta(self.db).get("generation", 0)
        except sqlite3.DatabaseError as exc:
            raise failure(exc, self.path) from exc

    def _open(self, timeout: float) -> None:
        try:
            os.makedirs(self.state_dir, exist_ok=True)
            self.mutex = Mutex(self.gen_path)
            if not generation.regular(self.mutex.fd):
                self.close()
                raise FlockguardError(
                    "lock-table-unusable",
                    f"{self.gen_path} is not a regular file",
                    f"remove it (rm {self.gen_path}); the next lock command recreates it",
                )
        except OSError as exc:
            self.close()
            raise failure(exc, self.gen_path) from exc
        if self._open_quickly():
            return
        try:
            self.mutex.acquire(timeout)
        except LockTimeout as exc:
            raise failure(exc, self.path) from exc
        deadline = time.monotonic() + timeout
        delay = 0.005
        try:
            while True:
                try:
                    self._adopt()
                    break
                except sqlite3.OperationalError as exc:
                    # a program other than flockguard writing the file (or creating it in
                    # rollback mode: switching to WAL then answers "locked" at once)
                    if "locked" not in str(exc) or time.monotonic() >= deadline:
                        raise
                    if self.db is not None:
                        self.db.close()
                        self.db = None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.1)
        except (sqlite3.Error, OSError) as exc:
            if self.mutex is not None:
                self.mutex.release()
            self.close()
            raise failure(exc, self.path) from exc
        if self.mutex is not None:
            self.mutex.release()

    def _open_quickly(self) -> bool:
        """Open a table that needs nothing done to it without taking the mutex (a fleet's
        processes open it all the time): it exists, is in WAL mode with the current schema, and
        is the table its generation record names. Anything else goes the long way."""
        assert self.mutex is not None
        record = generation.read_fd(self.mutex.fd)
        try:
            before = os.stat(self.path)
        except OSError:
            return False
        if record is None:
            return False
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        except sqlite3.Error:
            return False
        try:
            ready = (
                db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                and db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            )
            meta = self._meta(db) if ready else {}
            known = meta.get("generation")
            if known is None or _replaced(record, known, meta):
                ready = False
            db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error:
            ready = False
        if not ready:
            db.close()
            return False
        st = os.stat(self.path)
        if (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):  # replaced meanwhile
            db.close()
            return False
        self.db, self.generation, self.identity = (
            db,
            int(meta["generation"]),
            (st.st_dev, st.st_ino),
        )
        return True

    def _adopt(self) -> None:
        """Open the table (creating or migrating it) and reconcile it with the generation record;
        runs under the mutex, so no writer changes either meanwhile."""
        assert self.mutex is not None
        record = generation.read_fd(self.mutex.fd)
        existed = os.path.exists(self.path)
        db = self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN IMMEDIATE")
        try:
            had_tables = bool(
                db.execute("SELECT 1 FROM sqlite_master WHERE name = 'holders'").fetchone()
            )
            schema = db.execute("PRAGMA user_version").fetchone()[0]
            if had_tables and schema < 2:
                for statement in MIGRATE_1:
                    db.execute(statement)
            for statement in SCHEMA.split(";"):  # not executescript(): it would commit
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            meta = self._meta(db)
            known = meta.get("generation")
            # tokens above any handed out before, whatever was lost or restored: the clock
            high = max(meta.get("next_token", 1), record.next_token if record else 1)
            high = max(high, _clock_token())
            if known is None and not (existed and had_tables) and record is not None:
                self._lose(db, "the lock table was deleted", include_table=False)
                known = None
            elif known is not None and record is not None and _replaced(record, known, meta):
                self._lose(db, "the lock table was replaced by another file", include_table=True)
                known = None
            elif known is not None and record is None:
                # the record is gone (or was restored away): a new generation, so that no
                # snapshot of the old one counts as current
                known = None
            self.generation = known if known is not None else _new_generation()
            version = meta.get("version", 0) + (1 if self.reset else 0)
            for key, value in (
                ("generation", self.generation), ("next_token", high), ("version", version),
            ):  # fmt: skip
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            generation.write_fd(self.mutex.fd, generation.Record(self.generation, version, high))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        st = os.stat(self.path)
        self.identity = (st.st_dev, st.st_ino)

    def _lose(self, db: sqlite3.Connection, why: str, *, include_table: bool) -> None:
        """Every holder is told its lease is gone: those of the last snapshot (the lost table's
        last known state) and, for a replaced table, those the replacement carries."""
        now = time.time()
        told: dict[tuple[str, str], int] = {}
        document = snapshot.load(self.state_dir) or {}
        for holder in document.get("holders", []):
            if isinstance(holder, dict) and isinstance(holder.get("resource"), str):
                told[(holder["resource"], str(holder.get("agent", "")))] = int(
                    holder.get("token", 0)
                )
        if include_table:
            for resource, agent, token in db.execute("SELECT resource, agent, token FROM holders"):
                told[(resource, agent)] = token
        for (resource, agent), token in told.items():
            db.execute(
                "INSERT OR REPLACE INTO lost VALUES (?, ?, ?, ?, ?)",
                (resource, agent, token, f"{why}; acquire it again", now),
            )
        db.execute("DELETE FROM holders")
        db.execute("DELETE FROM waiters")
        self.reset = f"{why}: {len(told)} lease(s) lost"

    @staticmethod
    def _meta(db: sqlite3.Connection) -> dict[str, int]:
        try:
            return {key: int(value) for key, value in db.execute("SELECT key, value FROM meta")}
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return {}
            raise

    def _same_table(self) -> bool:
        """Whether the files this process has open are still the table (checked under the mutex:
        a table deleted or replaced meanwhile must not take another grant)."""
        assert self.mutex is not None
        try:
            st = os.stat(self.path)
            gen_st = os.stat(self.gen_path)
        except FileNotFoundError:
            return False
        mine = os.fstat(self.mutex.fd)
        if (st.st_dev, st.st_ino) != self.identity or (gen_st.st_dev, gen_st.st_ino) != (
            mine.st_dev,
            mine.st_ino,
        ):
            return False
        record = generation.read_fd(self.mutex.fd)
        if record is None or record.generation != self.generation:
            return False
        self.recorded = record.version
        return True

    def record(self) -> generation.Record | None:
        """The generation record as it stands (read through the open mutex file)."""
        if self.mutex is None:
            return generation.read(self.gen_path)
        try:
            return generation.read_fd(self.mutex.fd)
        except OSError:
            return None

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
        if self.mutex is not None:
            self.mutex.close()
            self.mutex = None

    # ---- changes -----------------------------------------------------------------------------

    def transaction(
        self,
        change: Callable[[State], T],
        *,
        timeout: float = 10.0,
        committed: Callable[[State], None] | None = None,
    ) -> T:
        """Run ``change`` on the loaded table in one transaction under the mutex and store it;
        ``committed`` gets the state once it is committed."""
        if self.readonly:
            raise FlockguardError("lock-table-read-only", f"{self.path}: opened read-only")
        for _attempt in range(3):
            if self.mutex is None or self.db is None:  # an earlier reopen failed: try again
                self._open(timeout)
            mutex = self.mutex
            assert mutex is not None
            try:
                mutex.acquire(timeout)
            except LockTimeout as exc:
                raise failure(exc, self.path) from exc
            except OSError as exc:
                raise failure(exc, self.gen_path) from exc
            try:
                same = self._same_table()
                if same:
                    state = self._commit(change)
                    if committed is not None and not state.noop:
                        committed(state)
                    return state.result  # type: ignore[no-any-return]
            except _GoneBack:
                same = False
            finally:
                mutex.release()
            self.close()  # deleted or replaced under us: open what is there now
            self._open(timeout)
        raise FlockguardError(
            "lock-table-unstable",
            f"{self.path}: the lock table was replaced three times during one change",
            "stop whatever deletes or replaces .flockguard/state/locks.db",
        )

    def _commit(self, change: Callable[[State], Any]) -> State:
        db = self.db
        assert db is not None and self.mutex is not None
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise failure(exc, self.path) from exc
        before = None
        try:
            state = self._load(db)
            if state.version + 1 < self.recorded:  # an older copy of this table, restored
                raise _GoneBack
            # never below the clock (in microseconds): a table restored with its record, or
            # any other loss, cannot hand out a token again
            state.next_token = max(state.next_token, _clock_token())
            before = generation.Record(self.generation, state.version, state.next_token)
            before_holders = {(h.resource, h.agent): h for h in state.holders}
            before_waiters = {w.id: w for w in state.waiters}
            result = change(state)
            if state.noop:
                db.execute("ROLLBACK")
                state.result = result
                return state
            self._store(state, before_holders, before_waiters)
            state.version += 1
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?), ('next_token', ?)",
                (state.version, state.next_token),
            )
            # before the commit: the record is never behind the table
            generation.write_fd(
                self.mutex.fd, generation.Record(self.generation, state.version, state.next_token)
            )
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            if before is not None:
                # when it cannot be put back it stays ahead: readers only ask the table more
                with contextlib.suppress(OSError):
                    generation.write_fd(self.mutex.fd, before)
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise failure(exc, self.path) from exc
            raise
        state.result = result
        return state

    def _load(self, db: sqlite3.Connection) -> State:
        meta = self._meta(db)
        return State(
            [Holding(*row) for row in db.execute(f"SELECT {HOLDER_COLUMNS} FROM holders")],
            [Waiting(*row) for row in db.execute(f"SELECT {WAITER_COLUMNS} FROM waiters")],
            meta.get("next_token", 1),
            time.time(),  # one clock for the whole machine: the backend's
            meta.get("version", 0),
            self.generation,
        )

    def _store(
        self,
        state: State,
        before_holders: dict[tuple[str, str], Holding],
        before_waiters: dict[int, Waiting],
    ) -> None:
        db = self.db
        assert db is not None
        after = {(h.resource, h.agent): h for h in state.holders}
        for key in before_holders.keys() - after.keys():
            db.execute("DELETE FROM holders WHERE resource = ? AND agent = ?", key)
        for key, holding in after.items():
            earlier = before_holders.get(key)
            if earlier is not holding and earlier != holding:  # identity first: most are kept
                db.execute(
                    f"INSERT OR REPLACE INTO holders ({HOLDER_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        holding.resource, holding.agent, holding.mode, holding.priority,
                        holding.token, holding.since, holding.expires, holding.ttl, holding.owner,
                    ),
                )  # fmt: skip
        kept = {w.id for w in state.waiters}
        inserted = {w.id: w for w in state.new_waiters}  # stored at enqueue, maybe granted since
        for waiter_id in (before_waiters.keys() | inserted.keys()) - kept:
            db.execute("DELETE FROM waiters WHERE id = ?", (waiter_id,))
        for waiter in state.waiters:
            was = before_waiters.get(waiter.id) or inserted.get(waiter.id)
            if was is not None and was is not waiter and was != waiter:
                db.execute(
                    "UPDATE waiters SET expires = ?, ttl = ?, mode = ?, priority = ?, owner = ?, "
                    "wake = ? WHERE id = ?",
                    (
                        waiter.expires, waiter.ttl, waiter.mode, waiter.priority, waiter.owner,
                        waiter.wake, waiter.id,
                    ),
                )  # fmt: skip
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
        assert self.db is not None
        cursor = self.db.execute(
            "INSERT INTO waiters (resource, agent, mode, priority, since, expires, ttl, owner, "
            "wake) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                waiter.resource, waiter.agent, waiter.mode, waiter.priority, waiter.since,
                waiter.expires, waiter.ttl, waiter.owner, waiter.wake,
            ),
        )  # fmt: skip
        stored = waiter.replace(id=cursor.lastrowid)
        state.waiters.append(stored)
        state.new_waiters.append(stored)
        return stored

    # ---- notes and sessions (inside a transaction, or a read) -----------------------------

    def _note(self, table: str, resource: str, agent: str) -> str:
        """Why the agent's lease was lost, or its request refused ("" when it was not)."""
        if self.db is None:
            return ""
        row = self.db.execute(
            f"SELECT reason FROM {table} WHERE resource = ? AND agent = ?",  # table: lost/refused
            (resource, agent),
        ).fetchone()
        return str(row[0]) if row else ""

    def forget(self, resource: str, agent: str) -> tuple[str, str]:
        """(lost reason, refused reason) recorded for this agent and resource."""
        try:
            return self._note("lost", resource, agent), self._note("refused", resource, agent)
        except sqlite3.Error as exc:
            raise failure(exc, self.path) from exc

    def lost_of(self, agent: str) -> list[tuple[str, str]]:
        """(resource, reason) of every lease the agent lost and was not yet told of."""
        if self.db is None:
            return []
        try:
            rows = self.db.execute(
                "SELECT resource, reason FROM lost WHERE agent = ? ORDER BY at", (agent,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise failure(exc, self.path) from exc
        return [(str(resource), str(reason)) for resource, reason in rows]

    def clear_notes(self, resource: str, agent: str) -> None:
        assert self.db is not None
        self.db.execute("DELETE FROM lost WHERE resource = ? AND agent = ?", (resource, agent))
        self.db.execute("DELETE FROM refused WHERE resource = ? AND agent = ?", (resource, agent))

    def set_session(self, agent: str, owner: str, now: float) -> None:
        assert self.db is not None
        self.db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?) ON CONFLICT (agent) DO UPDATE SET owner = "
            "excluded.owner WHERE sessions.owner != excluded.owner",
            (agent, owner, now),
        )

    def end_session(self, agent: str) -> None:
        assert self.db is not None
        self.db.execute("DELETE FROM sessions WHERE agent = ?", (agent,))

    def session_owner(self, agent: str) -> str:
        """The owner handle recorded for the agent's session ("" when none is known)."""
        if self.db is None:
            return ""
        try:
            row = self.db.execute("SELECT owner FROM sessions WHERE agent = ?", (agent,)).fetchone()
        except sqlite3.Error as exc:
            raise failure(exc, self.path) from exc
        return str(row[0]) if row else ""

    # ---- reads (no lock, a WAL snapshot) -----------------------------------------------------

    def read(self) -> State:
        """The table as committed now, read without taking the mutex."""
        db = self.db
        if db is None:  # read-only, and never created
            return State([], [], 1, time.time())
        try:
            db.execute("BEGIN")
            try:
                return self._load(db)
            finally:
                db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # being created by its first writer right now
                return State([], [], 1, time.time())
            raise failure(exc, self.path) from exc
        except sqlite3.Error as exc:
            raise failure(exc, self.path) from exc

    def peek(self, resource: str, agent: str) -> tuple[Holding | None, bool, str]:
        """(the agent's holding, still queued?, refusal reason), from one WAL snapshot."""
        db = self.db
        assert db is not None
        try:
            db.execute("BEGIN")
            try:
                row = db.execute(
                    f"SELECT {HOLDER_COLUMNS} FROM holders WHERE resource = ? AND agent = ?",
                    (resource, agent),
                ).fetchone()
                queued = db.execute(
                    "SELECT 1 FROM waiters WHERE resource = ? AND agent = ?", (resource, agent)
                ).fetchone()
                refused = self._note("refused", resource, agent)
            finally:
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise failure(exc, self.path) from exc
        return (Holding(*row) if row else None, bool(queued), refused)

    def check(self) -> list[str]:
        """Problems SQLite finds in the table file (empty when it is sound)."""
        if self.db is None:
            return []
        try:
            rows = self.db.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as exc:
            return [str(exc)]
        problems = [str(row[0]) for row in rows]
        return [] if problems == ["ok"] else problems


def open_backend(state_dir: str, *, readonly: bool = False) -> SQLiteBackend:
    return SQLiteBackend(state_dir, readonly=readonly)


# ---- repair --------------------------------------------------------------------------------------


class Salvage:
    """What could still be read from a damaged table."""

    def __init__(self) -> None:
        self.holders: list[Holding] = []
        self.waiters: list[Waiting] = []
        self.sessions: list[tuple[str, str, float]] = []
        self.next_token = 0
        self.problems: list[str] = []


def _rows(
    db: sqlite3.Connection, table: str, columns: str, salvage: Salvage
) -> list[tuple[Any, ...]]:
    """Every readable row of ``table``: all at once, else one rowid at a time around bad pages."""
    try:
        return list(db.execute(f"SELECT {columns} FROM {table}"))  # table, columns: ours
    except sqlite3.DatabaseError as exc:
        salvage.problems.append(f"{table}: {exc}")
    found = []
    try:
        (top,) = db.execute(f"SELECT max(rowid) FROM {table}").fetchone()
    except sqlite3.DatabaseError:
        top = 10_000  # the b-tree's end cannot be read: look as far as a fleet ever reaches
    for rowid in range(1, (top or 0) + 1):
        try:
            row = db.execute(f"SELECT {columns} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            continue
        if row is not None:
            found.append(row)
    return found


def salvage(path: str) -> Salvage:
    """Read what can be read from the table at ``path`` (never writes to it)."""
    found = Salvage()
    if not os.path.exists(path):
        found.problems.append("the table file does not exist")
        return found
    try:
        db = _connect(_uri(path, mode="ro"), readonly=True)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        found.problems.append(str(exc))
        return found
    try:
        found.holders = [Holding(*row) for row in _rows(db, "holders", HOLDER_COLUMNS, found)]
        found.waiters = [Waiting(*row) for row in _rows(db, "waiters", WAITER_COLUMNS, found)]
        found.sessions = [
            (str(a), str(o), float(s))
            for a, o, s in _rows(db, "sessions", "agent, owner, since", found)
        ]
        meta = dict(_rows(db, "meta", "key, value", found))
        found.next_token = int(meta.get("next_token", 0) or 0)
    finally:
        db.close()
    return found


def problems(state_dir: str) -> list[str]:
    """What is wrong with the table's file (empty when it is sound or was never created)."""
    path = os.path.join(state_dir, DB)
    if not os.path.exists(path):
        return []
    try:
        db = _connect(_uri(path, mode="ro"), readonly=True)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
        for table in ("holders", "waiters", "meta"):
            db.execute(f"SELECT count(*) FROM {table}").fetchone()  # table: ours
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        db.close()
    found = [str(row[0]) for row in rows]
    return [] if found == ["ok"] else found


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def repair(state_dir: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """Rebuild a damaged table: keep what can be read, tell holders of what cannot that their
    leases are gone, and continue fencing tokens above every one handed out. The damaged file
    is kept beside it (``locks.db.damaged-<time>``)."""
    path = os.path.join(state_dir, DB)
    gen_path = os.path.join(state_dir, generation.FILE)
    mutex = Mutex(gen_path)
    try:
        mutex.acquire(timeout)
    except LockTimeout as exc:
        mutex.close()
        raise failure(exc, path) from exc
    try:
        found = problems(state_dir)
        if not found:
            return {"repaired": False, "problems": []}
        saved = salvage(path)
        record = generation.read_fd(mutex.fd)
        aside = f"{path}.damaged-{time.strftime('%Y%m%dT%H%M%S')}"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.replace(path + suffix, aside + suffix)
        now = time.time()
        holders = [h for h in saved.holders if h.expires > now]
        waiters = [w for w in saved.waiters if w.expires > now]
        high = max(
            _clock_token(),
            record.next_token if record else 1,
            saved.next_token,
            1 + max((h.token for h in saved.holders), default=0),
        )
        generation_id = _new_generation()
        version = (record.version if record else 0) + 1
        kept = {(h.resource, h.agent) for h in holders}
        document = snapshot.load(state_dir) or {}
        lost = [
            (str(h.get("resource")), str(h.get("agent")), int(h.get("token", 0)))
            for h in document.get("holders", [])
            if isinstance(h, dict)
            and (h.get("resource"), h.get("agent")) not in kept
            and float(h.get("expires", 0)) > now
        ]
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("BEGIN IMMEDIATE")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.executemany(
                f"INSERT OR REPLACE INTO holders ({HOLDER_COLUMNS}) VALUES ({_marks(9)})",
                [tuple(h.as_dict().values()) for h in holders],
            )
            db.executemany(
                f"INSERT OR REPLACE INTO waiters ({WAITER_COLUMNS}) VALUES ({_marks(10)})",
                [tuple(w.as_dict().values()) for w in waiters],
            )
            db.executemany("INSERT OR REPLACE INTO sessions VALUES (?, ?, ?)", saved.sessions)
            db.executemany(
                "INSERT OR REPLACE INTO lost VALUES (?, ?, ?, ?, ?)",
                [
                    (resource, agent, token,
                     "the lock table was damaged and this lease could not be read back; "
                     "acquire it again", now)
                    for resource, agent, token in lost
                ],
            )  # fmt: skip
            for key, value in (
                ("generation", generation_id), ("next_token", high), ("version", version),
            ):  # fmt: skip
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            generation.write_fd(mutex.fd, generation.Record(generation_id, version, high))
            db.execute("COMMIT")
        finally:
            db.close()
        return {
            "repaired": True,
            "problems": list(dict.fromkeys(found + saved.problems)),
            "damaged_copy": aside,
            "kept_holders": [f"{h.agent}: {h.mode} {h.resource}" for h in holders],
            "kept_waiters": [f"{w.agent}: {w.mode} {w.resource}" for w in waiters],
            "lost": [f"{agent}: {resource} (token {token})" for resource, agent, token in lost],
        }
    except (sqlite3.Error, OSError) as exc:
        raise failure(exc, path) from exc
    finally:
        mutex.release()
        mutex.close()
