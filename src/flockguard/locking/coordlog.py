"""L1 append-only JSONL: one whole line per ``os.write`` under the file's own flock.

The lock is the one :func:`flockguard.locking.file_lock.lock` takes on the same path, so a holder
of ``lock(path)`` holds off appends. ``O_APPEND`` puts every line at the end; the flock keeps two
writers' lines from interleaving even past a short write; ``fsync`` (when asked) runs after the
unlock so that concurrent appenders share one disk flush (research/locks.md §2.2).
"""

from __future__ import annotations

import fcntl
import json
import os
import time

from flockguard.errors import FlockguardError
from flockguard.locking.file_lock import DEFAULT_TIMEOUT, acquire_fd

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
TORN_SUFFIX = ".torn"


RECORD_START = b'{"id":"'  # every line begins so: a reader can resynchronise on it
_COUNTER = [0]
_SECOND: list[object] = [-1, ""]  # the last whole second formatted, and its text


def new_id() -> str:
    """A unique, time-ordered record id: time, pid and a per-process counter (no uuid: ~5 ms
    of import; no urandom: a syscall per record)."""
    _COUNTER[0] += 1
    return f"{time.time_ns():x}-{os.getpid():x}-{_COUNTER[0]:x}"


def stamp() -> str:
    """ISO 8601 UTC with microseconds; strftime only once per second."""
    now = time.time()
    second = int(now)
    if _SECOND[0] != second:
        _SECOND[0] = second
        _SECOND[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{_SECOND[1]}.{int((now - second) * 1e6):06d}Z"


def encode(record: Mapping[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The record with ``id`` and ``ts`` added (its own fields win), as one JSON line."""
    full = {"id": new_id(), "ts": stamp(), **record}
    text = json.dumps(full, ensure_ascii=False, separators=(",", ":"), default=str)
    try:
        return full, (text + "\n").encode()
    except UnicodeEncodeError:  # a lone surrogate (from a mis-decoded name): escape it all
        return full, (json.dumps(full, separators=(",", ":"), default=str) + "\n").encode()


def _write_locked(fd: int, path: str, line: bytes, timeout: float) -> None:
    acquire_fd(fd, path, timeout=timeout)
    try:
        # No check for a torn tail here (it would cost an fstat and a pread under the lock on
        # every append): every record starts with `{"id":"`, so read() finds a record glued to
        # a dead writer's fragment, and recover() moves the fragment to `<path>.torn`.
        view = memoryview(line)
        while view:  # a regular file takes it whole; loop only for short writes
            view = view[os.write(fd, view) :]
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def append(
    path: str,
    record: Mapping[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    fsync: bool = False,
) -> dict[str, Any]:
    """Append ``record`` plus ``id`` and ``ts`` fields as one line; returns what was written.

    Raises LockTimeout (naming the holder) when the file stays locked past ``timeout``.
    """
    full, line = encode(record)
    fd = os.open(path, APPEND_FLAGS, 0o644)
    try:
        _write_locked(fd, path, line, timeout)
        if fsync:  # after the unlock: concurrent appenders share one journal commit
            os.fsync(fd)
    finally:
        os.close(fd)
    return full


class Appender:
    """Many appends to one file through one descriptor (a writer's loop, a daemon).

    ``with Appender(path) as log: log.append({...})`` — each append still takes the flock.
    """

    def __init__(self, path: str, *, timeout: float = DEFAULT_TIMEOUT, fsync: bool = False) -> None:
        self.path = path
        self.timeout = timeout
        self.fsync = fsync
        self.fd = os.open(path, APPEND_FLAGS, 0o644)

    def append(self, record: Mapping[str, Any]) -> dict[str, Any]:
        full, line = encode(record)
        _write_locked(self.fd, self.path, line, self.timeout)
        if self.fsync:
            os.fsync(self.fd)
        return full

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Log:
    """What :func:`read` found: the records, a torn last line, and lines that are not records."""

    __slots__ = ("invalid", "records", "torn")

    def __init__(
        self, records: list[dict[str, Any]], torn: bytes, invalid: list[tuple[int, str]]
    ) -> None:
        self.records = records
        self.torn = torn  # bytes after the last newline: a writer died mid-line
        # (line number, problem): a fragment glued before a record (the record is in `records`),
        # or a complete line that is no record at all (not JSON, not an object, blank)
        self.invalid = invalid


def read(path: str) -> Log:
    """Every record in ``path``; a torn last line and bad lines are reported, not returned."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return Log([], b"", [])
    body, _, torn = data.rpartition(b"\n")  # no newline at all: body is b"", all of it torn
    records: list[dict[str, Any]] = []
    invalid: list[tuple[int, str]] = []
    for number, raw in enumerate(body.split(b"\n") if body else [], 1):
        _, record, problem = _parse(raw)
        if problem:
            invalid.append((number, problem))
        if record is not None:
            records.append(record)
    return Log(records, torn, invalid)


def _parse(raw: bytes) -> tuple[int, dict[str, Any] | None, str]:
    """One complete line: (where its record starts, the record, the problem).

    ``(0, record, "")`` for a whole record line; ``(start, record, problem)`` for a record glued
    after a dead writer's fragment ``raw[:start]``; ``(-1, None, problem)`` when it holds none.
    """
    if not raw.strip():
        return -1, None, "blank line"
    try:
        record = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past the parser's depth
        start = _glued_start(raw)
        if start > 0 and raw.startswith(RECORD_START, start):
            try:
                glued: dict[str, Any] = json.loads(raw[start:])
            except (ValueError, RecursionError):
                pass
            else:
                return start, glued, f"a torn fragment of {start} bytes before a record"
        why = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        return -1, None, f"not JSON: {why}"
    if not isinstance(record, dict):
        return -1, None, "not a JSON object"
    return 0, record, ""


def _glued_start(raw: bytes) -> int:
    """Where the JSON object that ends ``raw`` begins, or -1: its brackets matched backwards.

    Linear: trying each ``{"id":"`` of a long line in turn was quadratic, minutes for a
    megabyte. In valid JSON a quote is escaped exactly when an odd run of backslashes precedes
    it, so strings are skipped reading backwards; the caller parses what this finds.
    """
    import re  # only for a damaged line

    end = len(raw.rstrip())
    if not end or raw[end - 1] != 0x7D:  # }
        return -1
    backwards = raw[end - 1 :: -1]
    depth = 0
    inside = False
    for match in re.finditer(rb'["\[\]{}]', backwards):
        at = match.start()
        char = backwards[at]
        if char == 0x22:  # "
            run = at + 1
            while run < end and backwards[run] == 0x5C:  # \
                run += 1
            if (run - at) % 2:  # an even run of backslashes before it: a real quote
                inside = not inside
        elif inside:
            continue
        elif char in b"}]":
            depth += 1
        else:
            depth -= 1
            if not depth:
                return end - 1 - at
    return -1


# ------------------------------------------------------------------ recover

RECOVERING_SUFFIX = ".recovering"  # the log's intended content while recover rewrites it
_COPY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW
_READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW


class Recovery:
    """What :func:`recover` did; immutable.

    ``torn``: the torn last line sealed (bytes); ``glued``: fragments cut from before a record;
    ``invalid``: complete lines that were no record; ``moved``: bytes taken out of the log (all
    of them now in ``<path>.torn``); ``kept``: records left, one a line; ``resumed``: a killed
    recover's ``<path>.recovering`` was completed first.
    """

    __slots__ = ("glued", "invalid", "kept", "moved", "resumed", "torn")
    torn: bytes
    glued: int
    invalid: int
    moved: int
    kept: int
    resumed: bool

    def __init__(
        self,
        *,
        torn: bytes = b"",
        glued: int = 0,
        invalid: int = 0,
        moved: int = 0,
        kept: int = 0,
        resumed: bool = False,
    ) -> None:
        for name, value in (
            ("torn", torn),
            ("glued", glued),
            ("invalid", invalid),
            ("moved", moved),
            ("kept", kept),
            ("resumed", resumed),
        ):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Recovery is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Recovery is immutable: cannot delete {name!r}")

    @property
    def whole(self) -> bool:
        """The log was whole: nothing moved (it may still have been resumed)."""
        return not self.moved

    def __repr__(self) -> str:
        return (
            f"Recovery(torn={self.torn!r}, glued={self.glued}, invalid={self.invalid}, "
            f"moved={self.moved}, kept={self.kept}, resumed={self.resumed})"
        )


def recover(path: str, *, timeout: float = DEFAULT_TIMEOUT) -> Recovery:
    """Leave ``path`` exactly one record a line; everything else goes to ``<path>.torn``.

    Sealed: a torn last line, fragments a dead writer left glued before a record, complete lines
    that are no record. Each piece is appended to ``<path>.torn`` on its own line and fsync'd
    before the log changes; records keep their bytes and order. Done under the log's own lock
    (appends wait), in place (the inode, and so holders' locks, stay). A rewrite that is more
    than a cut goes through ``<path>.recovering`` first, so a recover killed half-way is
    completed by the next one, appends made since included. A whole log is not written at all.
    Raises FileNotFoundError for a missing log, LockTimeout when it stays locked.
    """
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        acquire_fd(fd, path, timeout=timeout)
        try:
            resumed = _resume(fd, path)
            return _seal(fd, path, resumed)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _seal(fd: int, path: str, resumed: bool) -> Recovery:
    data = _read_all(fd)
    cut = data.rfind(b"\n") + 1
    kept: list[bytes] = []
    pieces: list[bytes] = []  # for .torn, in log order
    glued = invalid = 0
    for raw in data[:cut].split(b"\n")[:-1]:
        start, _, _ = _parse(raw)
        if start < 0:
            invalid += 1
            pieces.append(raw)
            continue
        if start:
            glued += 1
            pieces.append(raw[:start])
        kept.append(raw[start:] if start else raw)
    torn = data[cut:]
    if torn:
        pieces.append(torn)
    if not pieces:
        return Recovery(kept=len(kept), resumed=resumed)
    new = b"".join(line + b"\n" for line in kept)
    _keep(path + TORN_SUFFIX, b"".join(piece + b"\n" for piece in pieces))  # nothing is lost
    if data.startswith(new):  # only the end goes: a cut is all it takes, and it cannot tear
        os.ftruncate(fd, len(new))
        os.fsync(fd)
    else:
        _rewrite(fd, path, data, new)
    return Recovery(
        torn=torn,
        glued=glued,
        invalid=invalid,
        moved=len(data) - len(new),
        kept=len(kept),
        resumed=resumed,
    )


def _rewrite(fd: int, path: str, old: bytes, new: bytes) -> None:
    """Make the log (now ``old``) ``new``, in place, through ``<path>.recovering``.

    The copy's first line says how to finish from any point: appends made after a kill land
    past ``old`` (the flock dies with its holder, appenders do not look at the copy), and
    ``stale`` tells a finished rewrite with such appends from one that was not yet cut.
    """
    import zlib

    copy = path + RECOVERING_SUFFIX
    header = json.dumps(
        {
            "recovering": path,
            "old": len(old),
            "new": len(new),
            "crc32": zlib.crc32(new),
            "stale": zlib.crc32(old[len(new) :]),
        },
        separators=(",", ":"),
    )
    # Written aside and renamed: a copy is whole or absent, never half-written.
    aside = copy + ".tmp"
    out = os.open(aside, _COPY_FLAGS, 0o644)
    try:
        _write_all(out, header.encode() + b"\n" + new)
        os.fsync(out)
    finally:
        os.close(out)
    os.rename(aside, copy)
    _sync_dir(path)  # the copy (and .torn) are on disk before the log changes
    view = memoryview(new)
    offset = 0
    while offset < len(new):
        offset += os.pwrite(fd, view[offset:], offset)
    os.ftruncate(fd, len(new))
    os.fsync(fd)
    os.unlink(copy)
    _sync_dir(path)


def _resume(fd: int, path: str) -> bool:
    """Finish a killed recover's rewrite from ``<path>.recovering``; False when there is none."""
    import zlib

    copy = path + RECOVERING_SUFFIX
    # A copy left aside (killed while writing it): the log was not touched yet.
    try:  # noqa: SIM105 (contextlib costs the hook path, which imports this module, ~0.5 ms)
        os.unlink(copy + ".tmp")
    except FileNotFoundError:
        pass
    try:
        source = os.open(copy, _READ_FLAGS)
    except FileNotFoundError:
        return False
    try:
        blob = _read_all(source)
    finally:
        os.close(source)
    head, _, new = blob.partition(b"\n")
    try:
        plan = json.loads(head)
        old_size, size, crc, stale = plan["old"], plan["new"], plan["crc32"], plan["stale"]
        whole = len(new) == size and zlib.crc32(new) == crc
    except (ValueError, TypeError, KeyError):
        whole = False
    if not whole:  # not one of ours (ours are renamed into place whole): do not guess
        raise FlockguardError(
            "recover-copy-invalid",
            f"{copy} is not a copy recover wrote, or it is damaged; {path} was left alone",
            f"compare the two, then move {copy} away and run recover again",
        )
    log = _read_all(fd)
    done = log.startswith(new) and not (
        len(log) >= old_size and zlib.crc32(log[size:old_size]) == stale
    )
    if done:  # cut already: whatever follows was appended after the kill
        os.unlink(copy)
        _sync_dir(path)
    else:  # the bytes past `old` were appended after the kill: they stay
        _rewrite(fd, path, log, new + log[old_size:])
    return True


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, max(1 << 16, os.fstat(fd).st_size - offset), offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _keep(path: str, data: bytes) -> None:
    """Append ``data`` to ``path`` and flush it to disk."""
    fd = os.open(path, APPEND_FLAGS, 0o644)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(path: str) -> None:
    fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
