"""What ``flockguard doctor`` checks beside each agent's wiring: the policy, the state directory
(writable, room left) and the lock table (sound, the table its record names, published)."""

from __future__ import annotations

import os

from flockguard.errors import FlockguardError
from flockguard.model import Value

STATE_DIR = os.path.join(".flockguard", "state")
MIN_FREE = 16 << 20  # bytes: a lock change, a snapshot and audit lines need a little room
MIN_INODES = 64  # each change publishes a new snapshot file


class Check(Value):
    __slots__ = ("name", "ok", "detail", "fix")
    name: str
    ok: bool
    detail: str
    fix: str

    def __init__(self, name: str, ok: bool, detail: str, fix: str = "") -> None:
        self._fill(locals())


def policy(root: str) -> Check:
    from flockguard.config import CONFIG_FILE, load

    if not os.path.exists(os.path.join(root, CONFIG_FILE)):
        return Check("policy", False, f"{CONFIG_FILE} does not exist", "run `flockguard init`")
    try:
        load(root)
    except FlockguardError as exc:
        return Check(
            "policy",
            False,
            f"{exc.message}: the hook refuses every file action (FG901)",
            exc.hint or f"fix {CONFIG_FILE}; `flockguard explain PATH` shows it works again",
        )
    return Check("policy", True, f"{CONFIG_FILE} is valid")


def state(root: str) -> list[Check]:
    """The state directory: there, writable by this user, with room for changes."""
    directory = os.path.join(root, STATE_DIR)
    if not os.path.isdir(directory):
        return [
            Check("state directory", False, f"{STATE_DIR} does not exist", "run `flockguard init`")
        ]
    checks = []
    probe = os.path.join(directory, f".doctor-{os.getpid()}")
    try:
        with open(probe, "w", encoding="utf-8") as handle:
            handle.write("probe")
        os.unlink(probe)
    except OSError as exc:
        checks.append(
            Check(
                "state directory",
                False,
                f"{STATE_DIR} cannot be written ({exc.strerror}): locks, approvals and the audit "
                "log cannot be recorded",
                f"make {STATE_DIR} writable by every agent's user (ls -la {STATE_DIR})",
            )
        )
    else:
        checks.append(Check("state directory", True, f"{STATE_DIR} is writable"))
    unwritable = [
        name
        for name in ("locks.db", "locks.db-wal", "locks.db-shm", "locks.gen", "audit.jsonl")
        if os.path.exists(os.path.join(directory, name))
        and not os.access(os.path.join(directory, name), os.R_OK | os.W_OK)
    ]
    if unwritable:
        checks.append(
            Check(
                "state files",
                False,
                f"not readable and writable by this user: {', '.join(unwritable)}",
                f"chown or chmod them in {STATE_DIR} so every agent's user can write them",
            )
        )
    room = os.statvfs(directory)
    free = room.f_bavail * room.f_frsize
    inodes = room.f_favail if room.f_files else MIN_INODES  # some file systems count no inodes
    if free < MIN_FREE or inodes < MIN_INODES:
        checks.append(
            Check(
                "free space",
                False,
                f"{free >> 20} MiB and {inodes} inodes free where {STATE_DIR} lives: lock "
                "changes fail (FG904) and the lock table may fall behind",
                "free space on that file system",
            )
        )
    else:
        checks.append(Check("free space", True, f"{free >> 20} MiB free"))
    return checks


def lock_table(root: str) -> list[Check]:
    """The table's file is sound, is the table its generation record names, and is published."""
    from flockguard.locking import generation, liveness, snapshot
    from flockguard.locking.backends.sqlite import DB, SQLiteBackend, problems

    directory = os.path.join(root, STATE_DIR)
    odd = _odd_files(directory)
    notes = []
    if "locks.json" in " ".join(odd):
        odd = [o for o in odd if not o.startswith("locks.json")]
        notes.append(
            Check(
                "lock snapshot",
                True,
                "locks.json is not a link to one of its snapshot files: the hook reads the table "
                "itself (slower) until the next lock change publishes it again",
            )
        )
    if odd:
        return [
            *notes,
            Check(
                "lock table",
                False,
                "; ".join(odd),
                f"remove what is named (in {STATE_DIR}); the next lock command recreates it",
            ),
        ]
    record = generation.read(os.path.join(directory, generation.FILE))
    if not os.path.exists(os.path.join(directory, DB)):
        if record is None:
            return [Check("lock table", True, "not created yet (nobody has taken a lock)")]
        return [
            Check(
                "lock table",
                False,
                f"{DB} was deleted; its generation record remains",
                "any `flockguard lock` command recreates it and tells holders their locks are "
                "gone; find what deleted it",
            )
        ]
    found = problems(directory)
    if found:
        return [
            Check(
                "lock table",
                False,
                f"{DB} is damaged: {'; '.join(found[:3])}",
                "run `flockguard locks repair`: it keeps what can be read and tells holders "
                "what was lost",
            )
        ]
    checks = [*notes, Check("lock table", True, f"{DB} passes SQLite's integrity check")]
    try:
        backend = SQLiteBackend(directory, readonly=True)
    except FlockguardError as exc:
        return [*checks, Check("lock table", False, exc.message, exc.hint)]
    try:
        table = backend.read()
    finally:
        backend.close()
    if record is not None and record.generation != table.generation:
        checks.append(
            Check(
                "lock generation",
                False,
                f"{DB} is not the table its record names (it was replaced)",
                "any `flockguard lock` command adopts it and tells the old holders their locks "
                "are gone; find what replaced it",
            )
        )
    shown = snapshot.version(directory, table.generation)
    if shown < table.version:
        checks.append(
            Check(
                "lock snapshot",
                True,
                f"locks.json shows version {shown}, the table is at {table.version}: the hook "
                "reads the table itself until the next change publishes it",
            )
        )
    dead = liveness.sweep(directory)
    if dead:
        checks.append(Check("presences", True, f"removed {dead} fifo(s) left by killed processes"))
    return checks


def _odd_files(directory: str) -> list[str]:
    """State files that are not what they should be (each would stop or mislead the locks)."""
    import stat

    found = []
    for name in ("locks.gen", "locks.db"):
        try:
            mode = os.lstat(os.path.join(directory, name)).st_mode
        except OSError:
            continue
        if not stat.S_ISREG(mode):
            found.append(f"{name} is not a regular file")
    link = os.path.join(directory, "locks.json")
    if os.path.lexists(link):
        try:
            target = os.readlink(link)
        except OSError:
            target = ""
        where = os.path.join(directory, target)
        if (
            "/" in target
            or not target.startswith(".locks.json.")
            or not (os.path.isfile(where) and not os.path.islink(where))
        ):
            found.append("locks.json is not a link to one of its snapshot files")
    return found


def checks(root: str) -> list[Check]:
    return [policy(root), *state(root), *lock_table(root)]
