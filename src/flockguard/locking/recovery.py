"""Sealing a JSONL coordination log (:mod:`flockguard.locking.coordlog`) that dead writers tore.

Kept apart from the log itself: the hook appends to the audit log on every action and should not
load what only ``flockguard record recover`` runs.
"""

from __future__ import annotations

import fcntl
import json
import os

from flockguard.errors import FlockguardError
from flockguard.locking.coordlog import APPEND_FLAGS, TORN_SUFFIX, _parse
from flockguard.locking.file_lock import DEFAULT_TIMEOUT, acquire_fd

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
