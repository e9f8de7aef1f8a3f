"""Who is still alive behind a lock or a request: the kernel's word, never a promise to release.

Every lock and queued request names an *owner*, a handle that says what keeps it alive:

``pid:<boot>:<pidns>:<pid>:<start>``
    a process (an agent's host, found from the hook's ancestors): alive while ``/proc`` shows
    that pid with that start time and it is not a zombie, so a reused pid is not mistaken for it;
``fifo:<boot>:<name>``
    a flockguard process's *presence*, a fifo under ``state/live/`` it keeps open: alive while
    some process has it open for reading, which the kernel ends when the process dies (an
    ``O_NONBLOCK`` open for writing then fails with ``ENXIO``). The same fifo wakes its waiter;
``""``
    nobody: the lease's TTL alone decides.

A handle from another boot or another pid namespace (a container, another machine sharing the
table) cannot be judged here and counts as alive; its TTL still ends it.
"""

from __future__ import annotations

import errno
import os
import select
import time

LIVE_DIR = "live"
# Processes that only pass a command on: the agent's host is the first ancestor not among them.
PASS_THROUGH = frozenset(
    {
        "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "busybox", "env", "nice",
        "nohup", "timeout", "stdbuf", "setsid", "sudo", "doas", "su", "time", "flock",
        "flockguard-hook", "flockguard",
    }
)  # fmt: skip
_CACHE: dict[str, str] = {}
# Ancestors started less than this before the hook were started for it (a wrapper, a subshell);
# hosts start well before their hooks run (clock ticks: 100 a second on Linux)
LAUNCH_TICKS = os.sysconf("SC_CLK_TCK") // 4 if hasattr(os, "sysconf") else 25


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def boot_id() -> str:
    """This boot of this kernel (12 hex digits); "" where /proc does not say."""
    if "boot" not in _CACHE:
        _CACHE["boot"] = _read("/proc/sys/kernel/random/boot_id").strip().replace("-", "")[:12]
    return _CACHE["boot"]


def pid_namespace() -> str:
    """The inode of this process's pid namespace: pids mean the same only within one."""
    if "pidns" not in _CACHE:
        try:
            link = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
        except OSError:
            link = ""
        _CACHE["pidns"] = link[link.find("[") + 1 : -1] if "[" in link else ""
    return _CACHE["pidns"]


def process(pid: int) -> tuple[str, int, int, str] | None:
    """(command name, parent pid, start time in clock ticks, state) of ``pid``, or None."""
    text = _read(f"/proc/{pid}/stat")
    close = text.rfind(")")
    if close < 0:
        return None
    fields = text[close + 2 :].split()
    try:
        return text[text.find("(") + 1 : close], int(fields[1]), int(fields[19]), fields[0]
    except (IndexError, ValueError):
        return None


def host_pid() -> int:
    """The agent's host process: the nearest ancestor that is not a shell or a wrapper.

    Hosts run hooks as ``host → [sh -c] → [a wrapper script] → flockguard-hook`` and shell
    commands as ``host → bash → flockguard``. An ancestor started within a quarter second before
    this process counts as part of its launch, whatever it is called. 0 when there is no such
    ancestor below init (a reaped orphan, no /proc): then nothing ties the locks to a process.
    """
    mine = process(os.getpid())
    launched = mine[2] if mine else 0
    pid = os.getppid()
    for _ in range(32):
        if pid <= 1:
            return 0
        found = process(pid)
        if found is None:
            return 0
        name, parent, start, _state = found
        # a wrapper script or shim started for this one call is no host, whatever its name:
        # it exits with the hook, and locks tied to it would die at once
        if name not in PASS_THROUGH and launched - start > LAUNCH_TICKS:
            return pid
        pid = parent
    return 0


def process_handle(pid: int) -> str:
    found = process(pid) if pid > 1 else None
    if found is None or not boot_id():
        return ""
    return f"pid:{boot_id()}:{pid_namespace()}:{pid}:{found[2]}"


def host_handle() -> str:
    """The owner handle of the agent this process acts for ("" when it cannot be told)."""
    if "host" not in _CACHE:
        _CACHE["host"] = process_handle(host_pid())
    return _CACHE["host"]


def host_label() -> str:
    """A stable name for the host process, for agents whose payload carries no session id."""
    pid = host_pid()
    found = process(pid) if pid else None
    if found is None:
        return f"ppid-{os.getppid()}"
    return f"proc-{boot_id()[:8]}-{pid}-{found[2]}"


def alive(handle: str, state_dir: str) -> bool:
    """Whether the owner ``handle`` names may still be alive (True when it cannot be told)."""
    kind, _, rest = handle.partition(":")
    if kind == "pid":
        boot, pidns, pid, start = rest.split(":")
        if boot != boot_id() or pidns != pid_namespace():
            return True
        found = process(int(pid))
        if found is None:
            return _exists(int(pid))  # /proc may hide other users' processes (hidepid)
        return str(found[2]) == start and found[3] not in "ZX"
    if kind == "fifo":
        boot, _, name = rest.partition(":")
        if boot != boot_id():
            return True
        return _poke(os.path.join(state_dir, LIVE_DIR, name), b"") is not False
    return True


def _exists(pid: int) -> bool:
    """Whether ``pid`` exists, asked of the kernel when /proc will not show it (its start time
    then cannot be checked: a reused pid counts as alive, and the lease's TTL still ends it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wake(handle: str, state_dir: str) -> bool:
    """Wake the presence behind ``handle``; False when nobody holds it open (it died)."""
    kind, _, rest = handle.partition(":")
    if kind != "fifo":
        return True
    boot, _, name = rest.partition(":")
    if boot != boot_id():
        return True
    return _poke(os.path.join(state_dir, LIVE_DIR, name), b"!") is not False


def _poke(path: str, data: bytes) -> bool | None:
    """Open the fifo for writing without blocking: False when nobody has it open for reading
    (its process died), or it is gone and so is the process named in it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            _forget(path)
            return False
        if exc.errno == errno.ENOENT:  # removed by hand: the process may live on
            return _named_alive(os.path.basename(path))
        return None  # cannot tell (permissions, not a fifo): assume alive
    try:
        if data:
            os.write(fd, data)
    except OSError:
        pass  # a full pipe already holds a wake-up
    finally:
        os.close(fd)
    return True


def _named_alive(name: str) -> bool | None:
    """For a presence fifo that is gone: is the process its name records still there? (False
    for a name without a pid namespace; None when the pid is another namespace's.)"""
    parts = name.split("-")
    if len(parts) != 3 or not parts[0].isdigit():
        return False
    if parts[1] != pid_namespace():
        return None
    return _exists(int(parts[0])) or False


def _forget(path: str) -> None:
    """Remove a dead presence's fifo (nobody can open it for reading again)."""
    try:  # noqa: SIM105 (contextlib costs the hook path ~0.5 ms of import)
        os.unlink(path)
    except OSError:
        pass


class Presence:
    """This process's fifo under ``state/live/``: its owner handle while it lives, and the
    channel on which a committer wakes it (one byte per wake-up; no polling)."""

    def __init__(self, state_dir: str) -> None:
        directory = os.path.join(state_dir, LIVE_DIR)
        os.makedirs(directory, exist_ok=True)
        # pid and pid namespace in the name: if the fifo is removed, the process can still be
        # asked after
        name = f"{os.getpid()}-{pid_namespace()}-{time.time_ns():x}.fifo"
        self.path = os.path.join(directory, name)
        # made under a temporary name and opened before it is named: a sweep must never find
        # it without a reader and take it for a dead one
        making = self.path + ".tmp"
        os.mkfifo(making, 0o600)
        # others may open it for writing: to wake it, and to see it is alive (harmless: a byte
        # only wakes it to look at the table); only this process reads it
        os.chmod(making, 0o622)
        # O_RDWR: this process is a reader (so writers' opens succeed) and never sees EOF
        self.fd = os.open(making, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        os.rename(making, self.path)
        self.pid = os.getpid()
        self.handle = f"fifo:{boot_id()}:{name}"

    def wait(self, timeout: float) -> bool:
        """Sleep until woken or ``timeout`` seconds pass; True when woken."""
        if timeout > 0:
            readable, _, _ = select.select([self.fd], [], [], timeout)
        else:
            readable = [self.fd]
        try:
            return bool(readable) and bool(os.read(self.fd, 4096))
        except BlockingIOError:
            return False

    def close(self) -> None:
        if self.fd < 0:
            return
        if self.pid == os.getpid():  # a forked child must not remove its parent's fifo
            _forget(self.path)
        os.close(self.fd)
        self.fd = -1


def sweep(state_dir: str) -> int:
    """Remove the fifos of dead presences (killed processes leave them); returns how many."""
    directory = os.path.join(state_dir, LIVE_DIR)
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    removed = 0
    for name in names:
        path = os.path.join(directory, name)
        if name.endswith(".fifo") and _poke(path, b"") is False:
            removed += 1
        elif name.endswith(".tmp") and _older_than(path, 60.0):  # killed while being made
            _forget(path)
            removed += 1
    return removed


def _older_than(path: str, seconds: float) -> bool:
    try:
        return time.time() - os.lstat(path).st_mtime > seconds
    except OSError:
        return False
