"""L1 ``lock()``/``acquire_fd`` against real contending processes (and threads).

Holders are real OS processes (``python -c``, see procs.py) that say "ready" once they hold the
lock and let go when their stdin closes, or die by SIGKILL. Every wait has a deadline and the
``spawn`` fixture kills and reaps every child a test started, pass or fail.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pathlib
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from conftest import run_fg
from flockguard.locking import holders as holders_mod
from flockguard.locking.file_lock import LockTimeout, acquire_fd, lock
from procs import Spawner


@pytest.fixture
def spawn() -> Iterator[Spawner]:
    spawner = Spawner()
    try:
        yield spawner
    finally:
        spawner.close_all()


@pytest.fixture
def path(tmp_path: pathlib.Path) -> str:
    return str(tmp_path / "x.lock")


def timed_timeout(path: str, timeout: float, *, shared: bool = False) -> tuple[LockTimeout, float]:
    """Try lock(path) expecting a LockTimeout; returns it and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(LockTimeout) as info, lock(path, timeout=timeout, shared=shared):
        pytest.fail("acquired a lock that another holder holds")
    return info.value, time.monotonic() - started


# ------------------------------------------------------------------ timeouts name the holder


@pytest.mark.parametrize("how", ["FLOCKGUARD_AGENT", "agent="])
def test_a_waiter_times_out_on_time_naming_file_pid_agent_and_mode(
    path: str, spawn: Spawner, how: str
) -> None:
    if how == "agent=":
        holder = spawn.hold(path, agent="alice")
    else:
        holder = spawn.hold(path, env={"FLOCKGUARD_AGENT": "alice"})
    exc, elapsed = timed_timeout(path, 0.5)
    assert 0.5 <= elapsed < 1.0, elapsed
    assert exc.reference == "lock-timeout"
    assert path in exc.message
    assert f"pid {holder.pid} (agent alice)" in exc.message
    assert "exclusive" in exc.message
    assert "within 0.5s" in exc.message
    assert [(h.pid, h.agent, h.mode, h.waiting) for h in exc.holders] == [
        (holder.pid, "alice", "exclusive", False)
    ]
    assert 0 < time.time() - exc.holders[0].since < 30
    holder.finish()
    with lock(path, timeout=1):  # and it is free again once the holder lets go
        pass


def test_a_waiter_gets_the_lock_when_the_holder_lets_go_before_the_deadline(
    path: str, spawn: Spawner
) -> None:
    holder = spawn.hold(path)
    timer = threading.Timer(0.3, holder.let_go)
    started = time.monotonic()
    timer.start()
    try:
        with lock(path, timeout=5):
            elapsed = time.monotonic() - started
    finally:
        timer.cancel()
        timer.join(5)
    holder.finish()
    assert 0.25 <= elapsed < 1.5, elapsed


# ------------------------------------------------------------------ a dead holder


def test_a_holder_killed_mid_hold_frees_the_lock_at_once(path: str, spawn: Spawner) -> None:
    holder = spawn.hold(path, agent="doomed")
    record = pathlib.Path(holders_mod.record_path(path))
    assert json.loads(record.read_text())["pid"] == holder.pid
    assert [h.pid for h in holders_mod.holders(path)] == [holder.pid]

    os.kill(holder.pid, signal.SIGKILL)
    assert holder.proc.wait(10) == -signal.SIGKILL

    # The kernel dropped the flock; the holder record could not be cleared and is stale now.
    assert json.loads(record.read_text())["pid"] == holder.pid
    assert holders_mod.holders(path) == []

    # While someone else holds it without a record, the stale record is not believed.
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        found = holders_mod.holders(path)
        assert [h.pid for h in found] == [os.getpid()]
        assert found[0].agent != "doomed"
        assert found[0].since == 0.0
    finally:
        os.close(fd)

    started = time.monotonic()
    with lock(path, timeout=5, agent="next"):
        assert time.monotonic() - started < 0.5
        found = holders_mod.holders(path)
        assert [(h.pid, h.agent) for h in found] == [(os.getpid(), "next")]
    assert not record.exists()  # our own record is cleared on release


# ------------------------------------------------------------------ shared locks


def test_shared_holders_coexist_and_hold_off_an_exclusive_waiter(path: str, spawn: Spawner) -> None:
    first = spawn.hold(path, mode="shared", agent="reader-1")
    second = spawn.hold(path, mode="shared", agent="reader-2")  # acquired while first holds
    found = holders_mod.holders(path)
    assert sorted((h.pid, h.mode) for h in found) == sorted(
        [(first.pid, "shared"), (second.pid, "shared")]
    )
    assert not pathlib.Path(holders_mod.record_path(path)).exists()  # shared: no record

    with lock(path, shared=True, timeout=0.5):  # a third shared holder gets in at once
        pass

    exc, elapsed = timed_timeout(path, 0.3)
    assert 0.3 <= elapsed < 0.8, elapsed
    assert sorted(h.pid for h in exc.holders) == sorted([first.pid, second.pid])
    assert f"pid {first.pid}" in exc.message and f"pid {second.pid}" in exc.message
    assert "shared" in exc.message

    first.finish()
    exc, _ = timed_timeout(path, 0.2)  # one reader is still enough to keep a writer out
    assert [h.pid for h in exc.holders] == [second.pid]

    timer = threading.Timer(0.2, second.let_go)
    started = time.monotonic()
    timer.start()
    try:
        with lock(path, timeout=5):
            elapsed = time.monotonic() - started
    finally:
        timer.cancel()
        timer.join(5)
    second.finish()
    assert 0.15 <= elapsed < 1.5, elapsed


def test_an_exclusive_holder_keeps_out_a_shared_waiter(path: str, spawn: Spawner) -> None:
    holder = spawn.hold(path, agent="writer")
    exc, elapsed = timed_timeout(path, 0.3, shared=True)
    assert 0.3 <= elapsed < 0.8, elapsed
    assert [(h.pid, h.agent, h.mode) for h in exc.holders] == [(holder.pid, "writer", "exclusive")]


# ------------------------------------------------------------------ what counts as contention


def test_a_bad_descriptor_raises_at_once_instead_of_polling(path: str) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.close(fd)
    started = time.monotonic()
    with pytest.raises(OSError) as info:
        acquire_fd(fd, path, timeout=5)
    assert time.monotonic() - started < 0.5
    assert info.value.errno == errno.EBADF
    assert not isinstance(info.value, LockTimeout)


@pytest.mark.parametrize("code", [errno.EAGAIN, errno.EACCES])
def test_eagain_and_eacces_are_contention_polled_to_the_deadline(
    path: str, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    calls: list[int] = []

    def busy(fd: int, operation: int) -> None:
        calls.append(operation)
        raise OSError(code, os.strerror(code))

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        monkeypatch.setattr(fcntl, "flock", busy)
        started = time.monotonic()
        with pytest.raises(LockTimeout):
            acquire_fd(fd, path, timeout=0.3)
        elapsed = time.monotonic() - started
    finally:
        monkeypatch.undo()
        os.close(fd)
    assert 0.3 <= elapsed < 0.8, elapsed
    assert len(calls) > 3
    assert all(op & fcntl.LOCK_NB and op & fcntl.LOCK_EX for op in calls)


@pytest.mark.parametrize("code", [errno.EINVAL, errno.ENOLCK, errno.EIO])
def test_other_errors_are_not_contention(
    path: str, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    calls: list[int] = []

    def broken(fd: int, operation: int) -> None:
        calls.append(operation)
        raise OSError(code, os.strerror(code))

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        monkeypatch.setattr(fcntl, "flock", broken)
        with pytest.raises(OSError) as info:
            acquire_fd(fd, path, timeout=5)
    finally:
        monkeypatch.undo()
        os.close(fd)
    assert info.value.errno == code and not isinstance(info.value, LockTimeout)
    assert len(calls) == 1


# ------------------------------------------------------------------ the lock file itself


@pytest.mark.parametrize("target_exists", [True, False])
def test_a_symlink_at_the_lock_path_is_refused(tmp_path: pathlib.Path, target_exists: bool) -> None:
    target = tmp_path / "elsewhere"
    if target_exists:
        target.write_bytes(b"not yours\n")
    link = tmp_path / "x.lock"
    link.symlink_to(target)
    for shared in (False, True):
        with pytest.raises(OSError) as info, lock(str(link), shared=shared, timeout=1):
            pytest.fail("locked through a symlink")
        assert info.value.errno == errno.ELOOP
    assert link.is_symlink()
    if target_exists:
        assert target.read_bytes() == b"not yours\n"
    else:
        assert not target.exists()
    assert not pathlib.Path(holders_mod.record_path(str(link))).exists()


def test_the_lock_file_is_never_truncated_replaced_or_deleted(path: str, spawn: Spawner) -> None:
    content = b"whatever the lock file holds\n" * 3
    pathlib.Path(path).write_bytes(content)
    inode = os.stat(path).st_ino

    for shared in (False, True):
        with lock(path, shared=shared, timeout=1) as fd:
            assert os.fstat(fd).st_ino == inode
            assert os.read(fd, 1000) == content  # opened read-write, from the start, intact
        assert pathlib.Path(path).read_bytes() == content
        assert os.stat(path).st_ino == inode

    holder = spawn.hold(path)  # and a holder that dies holding it leaves it as it was
    os.kill(holder.pid, signal.SIGKILL)
    holder.proc.wait(10)
    assert pathlib.Path(path).read_bytes() == content
    assert os.stat(path).st_ino == inode


def test_a_missing_lock_file_is_created_and_kept(path: str) -> None:
    with lock(path, timeout=1):
        assert os.path.exists(path)
    assert os.path.exists(path)
    assert os.path.getsize(path) == 0


# ------------------------------------------------------------------ threads


def test_two_threads_of_one_process_exclude_each_other(path: str) -> None:
    """Each ``lock()`` opens its own descriptor, i.e. its own open file description; flock
    belongs to the open file description, not to the process or thread, so two threads of one
    process exclude each other exactly as two processes do. (Were the descriptor shared, the
    second flock would simply succeed.)"""
    inside = threading.Lock()  # taken without blocking inside the flock: fails on overlap
    overlaps: list[str] = []
    done = [0, 0]
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=10)

    def work(index: int) -> None:
        try:
            start.wait()
            for _ in range(150):
                with lock(path, timeout=10):
                    if not inside.acquire(blocking=False):
                        overlaps.append(threading.current_thread().name)
                        continue
                    time.sleep(0.0002)
                    inside.release()
                    done[index] += 1
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,), name=f"worker-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert overlaps == []
    assert done == [150, 150]


def test_a_lock_timeout_works_in_a_non_main_thread(path: str) -> None:
    """No signal.alarm: a worker thread's deadline is kept while the main thread holds."""
    outcome: dict[str, object] = {}

    def wait() -> None:
        outcome["main"] = threading.current_thread() is threading.main_thread()
        started = time.monotonic()
        try:
            with lock(path, timeout=0.4):
                outcome["acquired"] = True
        except LockTimeout as exc:
            outcome["exc"] = exc
        outcome["elapsed"] = time.monotonic() - started

    with lock(path, timeout=1, agent="main-thread"):
        worker = threading.Thread(target=wait)
        worker.start()
        worker.join(10)
        assert not worker.is_alive()
    assert outcome["main"] is False
    assert "acquired" not in outcome
    exc = outcome["exc"]
    assert isinstance(exc, LockTimeout)
    assert 0.4 <= outcome["elapsed"] < 0.9, outcome["elapsed"]  # type: ignore[operator]
    assert [(h.pid, h.agent) for h in exc.holders] == [(os.getpid(), "main-thread")]
    assert f"pid {os.getpid()} (agent main-thread)" in exc.message


# ------------------------------------------------------------------ flockguard locks


def test_flockguard_locks_lists_a_holder_while_it_holds(repo: pathlib.Path, spawn: Spawner) -> None:
    relative = ".flockguard/state/coord/x.jsonl"
    (repo / relative).parent.mkdir(parents=True, exist_ok=True)
    holder = spawn.hold(relative, agent="carol", cwd=repo)

    rows = json.loads(run_fg("locks", "--json", cwd=repo).stdout)
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["file"] == relative
    assert (row["pid"], row["agent"], row["mode"], row["state"]) == (
        holder.pid,
        "carol",
        "exclusive",
        "held",
    )
    assert row["held_for"] is not None and 0 <= row["held_for"] < 30
    assert 0 < time.time() - row["since"] < 30
    assert str(holder.pid) in run_fg("locks", cwd=repo).stdout

    holder.finish()
    assert json.loads(run_fg("locks", "--json", cwd=repo).stdout) == []
    assert "no flocks held" in run_fg("locks", cwd=repo).stdout


def test_flockguard_locks_lists_shared_holders_and_not_a_dead_ones_record(
    repo: pathlib.Path, spawn: Spawner
) -> None:
    relative = ".flockguard/state/coord/y.jsonl"
    (repo / relative).parent.mkdir(parents=True, exist_ok=True)
    dead = spawn.hold(relative, agent="dead", cwd=repo)
    os.kill(dead.pid, signal.SIGKILL)
    dead.proc.wait(10)
    readers = [spawn.hold(relative, mode="shared", agent=f"r{i}", cwd=repo) for i in range(2)]

    rows = json.loads(run_fg("locks", "--json", cwd=repo).stdout)
    assert sorted((r["pid"], r["mode"], r["state"]) for r in rows) == sorted(
        (reader.pid, "shared", "held") for reader in readers
    )
    assert dead.pid not in [r["pid"] for r in rows]
    assert "dead" not in [r["agent"] for r in rows]
