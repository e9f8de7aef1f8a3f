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
        # a dead writer's fragment, and recover() seals the fragment.
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
    """What :func:`read` found: the records, a torn last line, and unparsable lines."""

    __slots__ = ("invalid", "records", "torn")

    def __init__(
        self, records: list[dict[str, Any]], torn: bytes, invalid: list[tuple[int, str]]
    ) -> None:
        self.records = records
        self.torn = torn  # bytes after the last newline: a writer died mid-line
        self.invalid = invalid  # (line number, problem) for complete lines that are not records


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
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError as exc:
            glued = _resynchronise(raw)
            if glued is None:
                invalid.append((number, f"not JSON: {exc}"))
                continue
            fragment, record = glued
            invalid.append((number, f"a torn fragment of {len(fragment)} bytes before a record"))
        if isinstance(record, dict):
            records.append(record)
        else:
            invalid.append((number, "not a JSON object"))
    return Log(records, torn, invalid)


def _last_line_end(fd: int, size: int, chunk: int = 1 << 16) -> int:
    """Offset just past the last newline (0 when there is none), reading backwards."""
    end = size
    while end > 0:
        start = max(0, end - chunk)
        os.lseek(fd, start, os.SEEK_SET)
        data = os.read(fd, end - start)
        found = data.rfind(b"\n")
        if found != -1:
            return start + found + 1
        end = start
    return 0


def _resynchronise(raw: bytes) -> tuple[bytes, Any] | None:
    """A record appended after a dead writer's fragment: (the fragment, the record)."""
    start = raw.rfind(RECORD_START, 1)
    while start > 0:
        try:
            return raw[:start], json.loads(raw[start:])
        except ValueError:
            start = raw.rfind(RECORD_START, 1, start)
    return None


def recover(path: str, *, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Seal a torn last line: move its bytes to ``<path>.torn`` and cut them from the log.

    Done under the log's own lock, so no append lands in between. Returns the bytes moved
    (empty when the log was whole). The log keeps its inode: holders' locks stay valid.
    """
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        acquire_fd(fd, path, timeout=timeout)
        try:
            size = os.fstat(fd).st_size
            cut = _last_line_end(fd, size)
            os.lseek(fd, cut, os.SEEK_SET)
            torn = os.read(fd, size - cut)
            if not torn:
                return b""
            keep = os.open(
                path + TORN_SUFFIX,
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                0o644,
            )
            try:  # nothing is lost
                os.write(keep, torn + b"\n")
                os.fsync(keep)
            finally:
                os.close(keep)
            os.ftruncate(fd, cut)
            os.fsync(fd)
            return torn
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
