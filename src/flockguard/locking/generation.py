"""The lock table's generation record: ``locks.gen`` beside the table, one line rewritten in place.

It says which table this is (a random generation id, also kept inside the table), how many
changes the table has committed (its version) and the next fencing token. Writers take an
exclusive flock on this file for every change — it is the table's mutex — and rewrite the record
*before* they commit, so the record is never behind the table:

* a reader whose published snapshot is older than the record knows the snapshot is stale (a
  change is in flight, or its publication failed) and asks the table instead;
* a table that is deleted or swapped for another file is noticed (its generation differs), and
  fencing tokens continue from the record's high-water mark instead of starting again.

The line always has the same length and is rewritten with ``pwrite`` at offset 0: that needs
no new disk block, so it works on a full disk where nothing else can be written.
"""

from __future__ import annotations

import os

from flockguard.model import Value

FILE = "locks.gen"
FORMAT = "flockguard-locks %016x %016x %016x\n"
SIZE = len(FORMAT % (0, 0, 0))
FLAGS = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW


class Record(Value):
    __slots__ = ("generation", "version", "next_token")
    generation: int
    version: int
    next_token: int

    def __init__(self, generation: int, version: int, next_token: int) -> None:
        self._fill(locals())

    def encode(self) -> bytes:
        return (FORMAT % (self.generation, self.version, self.next_token)).encode()


def parse(data: bytes) -> Record | None:
    """The record in ``data``; None for an empty, short or foreign file."""
    fields = data.split()
    if len(data) != SIZE or len(fields) != 4 or fields[0] != b"flockguard-locks":
        return None
    try:
        return Record(int(fields[1], 16), int(fields[2], 16), int(fields[3], 16))
    except ValueError:
        return None


def read_fd(fd: int) -> Record | None:
    return parse(os.pread(fd, SIZE + 1, 0))


def read(path: str) -> Record | None:
    """The record at ``path``; None when there is none (or it is unreadable)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        return read_fd(fd) if regular(fd) else None
    except OSError:
        return None
    finally:
        os.close(fd)


def regular(fd: int) -> bool:
    """Whether ``fd`` is a regular file (a fifo or a device in its place must not hang us)."""
    import stat

    return stat.S_ISREG(os.fstat(fd).st_mode)


def write_fd(fd: int, record: Record) -> None:
    data = record.encode()
    if os.pwrite(fd, data, 0) != len(data):
        raise OSError(f"short write of the lock table's generation record ({len(data)} bytes)")
