"""Real child processes for the lock tests: `sys.executable -c CODE`, read against deadlines.

A child talks through its stdout one line at a time (``ready``, then whatever it reports) and is
told to go on or let go by its stdin (a line, or EOF). Every read has a deadline; a watchdog
kills a child that outlives ``LIFETIME`` (so a test blocked on a child's lock is freed even if
the code under test forgot its timeout); the ``spawn`` fixture in the test modules kills and
reaps whatever is still running when a test ends.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import threading
import time

import pytest

LIFETIME = 120.0  # seconds a child may live, whatever happens
HOLD_LIFETIME = 30.0  # ... and a HOLD child, which no test needs for more than a few seconds

# Holds lock(path) until its stdin closes (or it is killed); says "ready" once it holds it.
HOLD = r"""
import sys
from flockguard.locking.file_lock import lock
path, mode, agent = sys.argv[1:4]
with lock(path, shared=mode == "shared", timeout=10, agent=agent or None):
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.read()
"""


class Child:
    """One ``python -c code args...`` process with piped stdin/stdout/stderr."""

    def __init__(
        self,
        code: str,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        lifetime: float = LIFETIME,
    ) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        self.pid = self.proc.pid
        self._buffer = b""
        self._watchdog = threading.Timer(lifetime, self.proc.kill)
        self._watchdog.daemon = True
        self._watchdog.start()

    def line(self, timeout: float = 15.0) -> str:
        """The next line the child prints; fails the test past ``timeout`` or at its exit."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                pytest.fail(f"child {self.pid} said nothing within {timeout}s: {self.stderr()}")
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.kill()
                    pytest.fail(f"child {self.pid} exited {self.proc.returncode}: {self.stderr()}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    def ready(self, timeout: float = 15.0) -> None:
        assert self.line(timeout) == "ready"

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def let_go(self) -> None:
        """Close the child's stdin (a HOLD child then releases its lock and exits)."""
        assert self.proc.stdin is not None
        if not self.proc.stdin.closed:
            self.proc.stdin.close()

    def finish(self, timeout: float = 30.0) -> str:
        """Close stdin, wait for a clean exit; returns what the child wrote to stderr."""
        self.let_go()
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"child {self.pid} still running after {timeout}s")
        err = self.stderr()
        assert code == 0, f"child {self.pid} exited {code}: {err}"
        return err

    def stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None or self.proc.stderr.closed:
            return ""
        return self.proc.stderr.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL (if still running) and reap; safe to call twice."""
        if self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):  # a D-state child: give up
                self.proc.wait(10)

    def close(self) -> None:
        self._watchdog.cancel()
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()


class Spawner:
    """Starts children and remembers them, so the fixture can kill and reap them all."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def __call__(
        self,
        code: str,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        lifetime: float = LIFETIME,
    ) -> Child:
        child = Child(code, *args, env=env, cwd=cwd, lifetime=lifetime)
        self.children.append(child)
        return child

    def hold(
        self,
        path: str,
        *,
        mode: str = "exclusive",
        agent: str = "",
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> Child:
        """A child holding lock(path) (agent="" leaves it to FLOCKGUARD_AGENT); once it holds."""
        child = self(HOLD, path, mode, agent, env=env, cwd=cwd, lifetime=HOLD_LIFETIME)
        child.ready()
        return child

    def close_all(self) -> None:
        for child in self.children:
            child.close()
