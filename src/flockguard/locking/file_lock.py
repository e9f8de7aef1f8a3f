"""L1: ``flock`` on dedicated files, with a fail-fast timeout that works from any thread.

Lock files are never deleted, renamed or truncated (a new inode would split the lock), are opened
``O_NOFOLLOW|O_CLOEXEC``, and are locked with ``LOCK_NB`` polled against a monotonic deadline with
capped, jittered backoff: ``signal.alarm`` only works in the main thread and a blocking flock in a
helper thread cannot be cancelled (research/locks.md §1.3). Never ``fcntl.lockf``: closing any
descriptor of the file would drop it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from flockguard.errors import FlockguardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType

# Only these mean "held elsewhere"; some filesystems say EACCES instead of EWOULDBLOCK.
CONTENTION = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES})
FIRST_DELAY = 0.00005
MAX_DELAY = 0.05
DEFAULT_TIMEOUT = 5.0
FLAGS = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW


class LockTimeout(FlockguardError):
    """The lock stayed held past the deadline; the message names who holds it."""

    def __init__(self, path: str, timeout: float) -> None:
        from flockguard.locking.holders import holders

        held = [h for h in holders(path) if not h.waiting]
        who = "; ".join(h.describe() for h in held) or "another process (not visible here)"
        super().__init__(
            "lock-timeout",
            f"{path}: lock not acquired within {timeout:g}s: held by {who}",
            "retry in a few seconds, or work on something else meanwhile",
        )
        self.path = path
        self.holders = held


def acquire_fd(fd: int, path: str, *, shared: bool = False, timeout: float) -> None:
    """Lock the open descriptor ``fd`` of ``path``, polling until ``timeout`` seconds pass."""
    operation = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
    deadline = time.monotonic() + timeout
    delay = FIRST_DELAY
    while True:
        try:
            fcntl.flock(fd, operation)
            return
        except OSError as exc:
            if exc.errno not in CONTENTION:
                raise
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LockTimeout(path, timeout)
        import random  # only under contention: ~1 ms of import the hook path need not pay

        time.sleep(min(remaining, delay * random.uniform(0.5, 1.0)))
        delay = min(MAX_DELAY, delay * 2)


class lock:  # lower-case: used like a function, `with lock(path):`
    """Hold an exclusive (or shared) flock on ``path``; ``with`` gives the descriptor.

    Each ``lock`` opens its own descriptor, so two threads of one process exclude each other
    just as two processes do (flock belongs to the open file description, not the process).
    An exclusive holder leaves a holder record (``<path>.holder``) naming its pid, agent and
    start, for the LockTimeout of whoever waits. A class rather than a ``contextlib`` generator:
    contextlib costs the hook path ~0.5 ms.
    """

    def __init__(
        self,
        path: str,
        *,
        shared: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        agent: str | None = None,
    ) -> None:
        self.path = path
        self.shared = shared
        self.timeout = timeout
        self.agent = agent
        self.fd = -1

    def __enter__(self) -> int:
        fd = os.open(self.path, FLAGS, 0o644)
        try:
            acquire_fd(fd, self.path, shared=self.shared, timeout=self.timeout)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        if not self.shared:
            from flockguard.locking.holders import write_record

            write_record(self.path, mode="exclusive", agent=self.agent)
        return fd

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if not self.shared:
                from flockguard.locking.holders import clear_record

                clear_record(self.path)
            fcntl.flock(self.fd, fcntl.LOCK_UN)  # explicit: a forked child may share it
        finally:
            os.close(self.fd)
            self.fd = -1
