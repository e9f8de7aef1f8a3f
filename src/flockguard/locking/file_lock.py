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


class Mutex:
    """An exclusive flock on ``path`` for short critical sections, waited for without polling.

    ``LOCK_NB`` first; when the lock is busy a helper thread blocks in ``flock()`` on a
    descriptor of its own, so the kernel hands the lock over the moment its holder lets go (a
    poller adds its back-off to every hand-off, and a fleet of pollers convoys), while the
    caller waits for the helper with a timeout. A helper whose caller gave up lets go of the lock
    as soon as it gets it. The lock file is opened like every L1 lock file and never removed.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, FLAGS, 0o644)

    def acquire(self, timeout: float) -> None:
        """Take the lock within ``timeout`` seconds or raise LockTimeout naming its holder."""
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in CONTENTION:
                raise
        import _thread  # builtin: no threading module on the hook path

        fd = os.open(self.path, FLAGS, 0o644)
        done = _thread.allocate_lock()
        done.acquire()
        guard = _thread.allocate_lock()
        outcome: list[object] = []  # [] waiting; ["got"] or [OSError]; ["abandoned"]

        def wait() -> None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                result: object = "got"
            except OSError as exc:
                result = exc
            with guard:
                if outcome:  # the caller gave up: do not keep what nobody will release
                    os.close(fd)
                    return
                outcome.append(result)
            done.release()

        _thread.start_new_thread(wait, ())
        done.acquire(timeout=max(timeout, 0.0))
        with guard:
            if not outcome:
                outcome.append("abandoned")
                raise LockTimeout(self.path, timeout)
        if isinstance(outcome[0], OSError):
            os.close(fd)
            raise outcome[0]
        os.close(self.fd)  # the helper's descriptor holds the lock now: keep that one
        self.fd = fd

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
