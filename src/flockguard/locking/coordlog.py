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


def new_id() -> str:
    """A unique, time-ordered record id without importing uuid (~5 ms)."""
    return f"{time.time_ns():x}-{os.urandom(4).hex()}"


def stamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


def append(
    path: str,
    record: Mapping[str, Any],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    fsync: bool = False,
) -> dict[str, Any]:
    """Append ``record`` plus ``id`` and ``ts`` fields as one line; returns what was written."""
    full = {"id": new_id(), "ts": stamp(), **record}
    text = json.dumps(full, ensure_ascii=False, separators=(",", ":"), default=str)
    try:
        line = (text + "\n").encode()
    except UnicodeEncodeError:  # a lone surrogate (from a mis-decoded name): escape it all
        line = (json.dumps(full, separators=(",", ":"), default=str) + "\n").encode()
    fd = os.open(path, APPEND_FLAGS, 0o644)
    try:
        acquire_fd(fd, path, timeout=timeout)
        try:
            view = memoryview(line)
            while view:  # a regular file takes it whole; loop only for short writes
                view = view[os.write(fd, view) :]
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    return full
