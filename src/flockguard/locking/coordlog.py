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
