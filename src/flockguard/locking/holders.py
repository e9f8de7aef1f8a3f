"""Who holds a flock: the kernel's /proc/locks, plus the holder record a lock() writes.

flock itself cannot say who holds a lock; /proc/locks can (pid, mode, inode), and the holder
record ``<lock file>.holder`` adds the agent and since when. A record is believed only while
/proc/locks shows its pid holding the lock, so a crashed holder's record is never reported.
"""

from __future__ import annotations

import json
import os
import time

from flockguard.model import Value

PROC_LOCKS = "/proc/locks"
HOLDER_SUFFIX = ".holder"


class Holder(Value):
    __slots__ = ("pid", "mode", "agent", "since", "waiting")
    pid: int
    mode: str  # "exclusive" | "shared"
    agent: str
    since: float  # epoch seconds, 0 when unknown
    waiting: bool  # blocked in flock() rather than holding

    def __init__(self, pid: int, mode: str, agent: str, since: float, *, waiting: bool) -> None:
        self._fill(locals())

    def describe(self) -> str:
        who = f"pid {self.pid}" + (f" (agent {self.agent})" if self.agent else "")
        if _stopped(self.pid):
            who += ", stopped (SIGSTOP or a debugger): it keeps the lock until it is continued,"
        if self.since:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.since))
            who += f" since {stamp} ({time.time() - self.since:.1f}s ago)"
        return f"{who}, {self.mode}"


def _stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped (state T or t in /proc): it will not let go by itself."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return False
    end = text.rfind(")")
    return text[end + 2 : end + 3] in ("T", "t")


def _entries() -> list[tuple[int, str, int, int, int, bool]]:
    """(pid, mode, major, minor, inode, waiting) for every FLOCK in /proc/locks."""
    try:
        with open(PROC_LOCKS, encoding="ascii", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []  # not Linux, or /proc not mounted: nobody can be named
    found = []
    for line in lines:
        fields = line.split()
        waiting = len(fields) > 1 and fields[1] == "->"
        if waiting:
            fields = [fields[0], *fields[2:]]
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        try:
            major, minor, inode = fields[5].split(":")
            found.append(
                (
                    int(fields[4]),
                    "exclusive" if fields[3] == "WRITE" else "shared",
                    int(major, 16),
                    int(minor, 16),
                    int(inode),
                    waiting,
                )
            )
        except ValueError:
            continue
    return found


def agent_of(pid: int) -> str:
    """FLOCKGUARD_AGENT from the process's environment, else its command name."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            for item in handle.read().split(b"\0"):
                if item.startswith(b"FLOCKGUARD_AGENT="):
                    return item.split(b"=", 1)[1].decode("utf-8", "replace")
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def record_path(path: str) -> str:
    return path + HOLDER_SUFFIX


def write_record(path: str, *, mode: str, agent: str | None) -> None:
    """Say who holds ``path`` (written by the holder, after it has the lock)."""
    record = {
        "pid": os.getpid(),
        "mode": mode,
        "agent": agent or os.environ.get("FLOCKGUARD_AGENT", ""),
        "since": time.time(),
    }
    target = record_path(path)
    tmp = f"{target}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(tmp, flags, 0o644)  # never through a planted symlink
        try:
            os.write(fd, json.dumps(record).encode())
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError:
        pass  # the record is a courtesy; the lock itself is held either way


def clear_record(path: str) -> None:
    target = record_path(path)
    try:
        with open(target, encoding="utf-8") as handle:
            if json.load(handle).get("pid") != os.getpid():
                return  # someone else's by now
        os.unlink(target)
    except (OSError, ValueError):
        pass


def _read_record(path: str) -> dict[str, object]:
    try:
        with open(record_path(path), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def holders(path: str) -> list[Holder]:
    """Every process holding (or waiting in flock() for) a flock on ``path``."""
    try:
        st = os.stat(path)
    except OSError:
        return []
    major, minor = os.major(st.st_dev), os.minor(st.st_dev)
    entries = [e for e in _entries() if e[4] == st.st_ino]
    exact = [e for e in entries if (e[2], e[3]) == (major, minor)]
    record = _read_record(path)
    found = []
    for pid, mode, _major, _minor, _inode, waiting in exact or entries:
        mine = record.get("pid") == pid and not waiting
        agent = str(record.get("agent") or "") if mine else ""
        since = record.get("since") if mine else 0
        found.append(
            Holder(
                pid,
                mode,
                agent or agent_of(pid),
                float(since) if isinstance(since, (int, float)) else 0.0,
                waiting=waiting,
            )
        )
    return found


def inodes() -> dict[tuple[int, int, int], list[Holder]]:
    """All flock holders on the machine, by (major, minor, inode)."""
    table: dict[tuple[int, int, int], list[Holder]] = {}
    for pid, mode, major, minor, inode, waiting in _entries():
        table.setdefault((major, minor, inode), []).append(
            Holder(pid, mode, "", 0.0, waiting=waiting)
        )
    return table
