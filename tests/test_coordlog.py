"""L1 JSONL coordination log: many real writer processes, torn tails, and ``flockguard record``.

Writers and holders are real OS processes (``python -c``, see procs.py); every wait has a
deadline and the ``spawn`` fixture kills and reaps every child a test started.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import re
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from conftest import installed, run_fg
from flockguard.locking import coordlog
from flockguard.locking.file_lock import LockTimeout
from procs import Spawner

ID = re.compile(r"[0-9a-f]{16}-[0-9a-f]+-[0-9a-f]+")  # time, pid, per-process counter
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")

# Says "ready", waits for a line on stdin, then appends `count` records as writer `writer`.
WRITER = r"""
import sys
from flockguard.locking import coordlog
path, writer, count, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
records = [{"writer": writer, "seq": seq, "pad": "x" * 120} for seq in range(count)]
sys.stdout.write("ready\n")
sys.stdout.flush()
sys.stdin.readline()
if how == "append":
    for record in records:
        coordlog.append(path, record, timeout=60)
else:
    with coordlog.Appender(path, timeout=60) as log:
        for record in records:
            log.append(record)
"""


@pytest.fixture
def spawn() -> Iterator[Spawner]:
    spawner = Spawner()
    try:
        yield spawner
    finally:
        spawner.close_all()


@pytest.fixture
def log(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "coord.jsonl"


def lines(path: pathlib.Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


# ------------------------------------------------------------------ many writers


@pytest.mark.parametrize(("how", "writers", "count"), [("append", 32, 500), ("Appender", 8, 2000)])
def test_concurrent_writers_lose_tear_and_reorder_nothing(
    log: pathlib.Path, spawn: Spawner, how: str, writers: int, count: int
) -> None:
    children = [spawn(WRITER, str(log), f"w{i:02d}", str(count), how) for i in range(writers)]
    for child in children:
        child.ready(timeout=60)
    for child in children:  # all at once, so that they contend
        child.send("go\n")
    for child in children:
        child.finish(timeout=120)

    data = log.read_bytes()
    assert data.endswith(b"\n")
    assert data.count(b"\n") == writers * count
    result = coordlog.read(str(log))
    assert result.torn == b""
    assert result.invalid == []
    assert len(result.records) == writers * count

    next_seq = {f"w{i:02d}": 0 for i in range(writers)}
    switches = 0
    previous = None
    for record in result.records:
        writer = record["writer"]
        assert record["seq"] == next_seq[writer], (writer, record["seq"])  # once, in order
        next_seq[writer] += 1
        assert ID.fullmatch(record["id"]) and TS.fullmatch(record["ts"])
        switches += writer != previous
        previous = writer
    assert next_seq == {f"w{i:02d}": count for i in range(writers)}
    assert len({record["id"] for record in result.records}) == writers * count  # ids unique
    assert switches > writers  # the writers really did interleave


# ------------------------------------------------------------------ what a record looks like


def test_records_get_id_and_ts_beside_their_own_fields(log: pathlib.Path) -> None:
    before = time.time()
    written = coordlog.append(str(log), {"agent": "a1", "nested": {"k": [1, 2]}, "n": 3})
    assert list(written) == ["id", "ts", "agent", "nested", "n"]
    assert ID.fullmatch(written["id"])
    assert TS.fullmatch(written["ts"])
    stamp = time.mktime(time.strptime(written["ts"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before - 2 <= stamp <= time.time() + 1  # UTC, now
    assert lines(log) == [written]  # one flat object per line, exactly what append returned
    assert log.read_bytes().count(b"\n") == 1


def test_a_records_own_id_and_ts_win(log: pathlib.Path) -> None:
    written = coordlog.append(str(log), {"id": "mine", "ts": "then", "x": 1})
    assert written == {"id": "mine", "ts": "then", "x": 1}
    assert lines(log) == [written]


def test_unserialisable_values_and_lone_surrogates_still_make_one_line(log: pathlib.Path) -> None:
    first = coordlog.append(str(log), {"path": pathlib.Path("/a/b")})
    second = coordlog.append(str(log), {"name": "bad\udcffname", "text": "naïve\nline"})
    data = log.read_bytes()
    assert data.count(b"\n") == 2
    back = coordlog.read(str(log))
    assert back.invalid == [] and back.torn == b""
    assert back.records[0]["path"] == "/a/b" and first["path"] == pathlib.Path("/a/b")
    assert back.records[1]["name"] == "bad\udcffname"
    assert back.records[1]["text"] == "naïve\nline"
    assert second["id"] == back.records[1]["id"]


def test_append_with_fsync_writes_the_record(log: pathlib.Path) -> None:
    written = coordlog.append(str(log), {"durable": True}, fsync=True)
    with coordlog.Appender(str(log), fsync=True) as appender:
        again = appender.append({"durable": "too"})
    assert coordlog.read(str(log)).records == [written, again]


# ------------------------------------------------------------------ the lock it shares


def test_a_lock_holder_on_the_log_holds_off_appends(log: pathlib.Path, spawn: Spawner) -> None:
    coordlog.append(str(log), {"n": 0})
    before = log.read_bytes()
    holder = spawn.hold(str(log), agent="compactor")

    started = time.monotonic()
    with pytest.raises(LockTimeout) as info:
        coordlog.append(str(log), {"n": 1}, timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 0.8
    assert f"pid {holder.pid} (agent compactor)" in info.value.message
    assert str(log) in info.value.message and "exclusive" in info.value.message
    assert [h.pid for h in info.value.holders] == [holder.pid]
    with pytest.raises(LockTimeout), coordlog.Appender(str(log), timeout=0.2) as appender:
        appender.append({"n": 1})
    assert log.read_bytes() == before  # nothing half-written

    holder.finish()
    coordlog.append(str(log), {"n": 1}, timeout=1)
    assert [r["n"] for r in coordlog.read(str(log)).records] == [0, 1]


def test_recover_waits_for_the_lock_too(log: pathlib.Path, spawn: Spawner) -> None:
    log.write_bytes(b'{"n":0}\n{"tor')
    holder = spawn.hold(str(log), agent="busy")
    with pytest.raises(LockTimeout) as info:
        coordlog.recover(str(log), timeout=0.3)
    assert f"pid {holder.pid}" in info.value.message
    assert log.read_bytes() == b'{"n":0}\n{"tor'
    assert not pathlib.Path(f"{log}.torn").exists()
    holder.finish()
    assert coordlog.recover(str(log), timeout=1) == b'{"tor'


def test_cli_append_exits_75_naming_the_holder(log: pathlib.Path, spawn: Spawner) -> None:
    holder = spawn.hold(str(log), env={"FLOCKGUARD_AGENT": "bob"})
    before = log.read_bytes()
    started = time.monotonic()
    proc = run_fg(
        "record",
        "append",
        str(log),
        "--json",
        "{}",
        "--timeout",
        "0.3",
        cwd=log.parent,
        check=False,
    )
    assert time.monotonic() - started < 5
    assert proc.returncode == 75, proc.stderr
    assert "lock-timeout" in proc.stderr
    assert f"pid {holder.pid} (agent bob)" in proc.stderr
    assert str(log) in proc.stderr and "within 0.3s" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert log.read_bytes() == before

    holder.finish()
    proc = run_fg("record", "append", str(log), "--json", '{"k": "v"}', cwd=log.parent)
    assert lines(log) == [json.loads(proc.stdout)]
    assert json.loads(proc.stdout)["k"] == "v"


# ------------------------------------------------------------------ symlinks


def test_the_log_is_never_written_through_a_symlink(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "precious"
    target.write_bytes(b"keep\n")
    link = tmp_path / "coord.jsonl"
    link.symlink_to(target)
    calls = [
        lambda: coordlog.append(str(link), {"a": 1}),
        lambda: coordlog.Appender(str(link)),
        lambda: coordlog.recover(str(link)),
    ]
    for call in calls:
        with pytest.raises(OSError) as info:
            call()
        assert info.value.errno == errno.ELOOP
    proc = run_fg("record", "append", str(link), "--json", "{}", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "record-unwritable" in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_bytes() == b"keep\n"
    assert link.is_symlink()


# ------------------------------------------------------------------ torn tails


def write_with_torn_tail(log: pathlib.Path) -> tuple[list[dict[str, object]], bytes]:
    written = [coordlog.append(str(log), {"n": n}) for n in range(3)]
    torn = b'{"id":"dead","ts":"2026-01-01T00:00:00.000000Z","n":3,"note":"cut he'
    with log.open("ab") as handle:
        handle.write(torn)
    return written, torn


def test_read_returns_whole_records_and_reports_a_torn_tail(log: pathlib.Path) -> None:
    written, torn = write_with_torn_tail(log)
    result = coordlog.read(str(log))
    assert result.records == written
    assert result.torn == torn
    assert result.invalid == []


def test_recover_seals_a_torn_tail_and_appends_go_on(log: pathlib.Path) -> None:
    written, torn = write_with_torn_tail(log)
    inode = os.stat(log).st_ino
    assert coordlog.recover(str(log)) == torn
    assert pathlib.Path(f"{log}.torn").read_bytes() == torn + b"\n"
    assert os.stat(log).st_ino == inode  # cut in place: holders' locks stay on the same file
    whole = coordlog.read(str(log))
    assert (whole.records, whole.torn, whole.invalid) == (written, b"", [])

    after = coordlog.append(str(log), {"n": 4})
    assert coordlog.read(str(log)).records == [*written, after]

    assert coordlog.recover(str(log)) == b""  # a second recover finds nothing
    assert pathlib.Path(f"{log}.torn").read_bytes() == torn + b"\n"


def test_recover_on_a_whole_log_changes_nothing(log: pathlib.Path) -> None:
    for n in range(3):
        coordlog.append(str(log), {"n": n})
    before, stat = log.read_bytes(), os.stat(log)
    time.sleep(0.01)
    assert coordlog.recover(str(log)) == b""
    after = os.stat(log)
    assert log.read_bytes() == before
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        stat.st_ino,
        stat.st_size,
        stat.st_mtime_ns,
    )
    assert not pathlib.Path(f"{log}.torn").exists()


def test_an_empty_log_is_whole(log: pathlib.Path) -> None:
    log.write_bytes(b"")
    result = coordlog.read(str(log))
    assert (result.records, result.torn, result.invalid) == ([], b"", [])
    assert coordlog.recover(str(log)) == b""
    missing = coordlog.read(str(log.with_name("missing.jsonl")))
    assert (missing.records, missing.torn, missing.invalid) == ([], b"", [])


def test_a_file_without_any_newline_is_one_torn_line(log: pathlib.Path) -> None:
    log.write_bytes(b'{"complete": "json", "but": "no newline"}')
    result = coordlog.read(str(log))
    assert result.records == []
    assert result.torn == b'{"complete": "json", "but": "no newline"}'
    assert result.invalid == []
    assert coordlog.recover(str(log)) == b'{"complete": "json", "but": "no newline"}'
    assert log.read_bytes() == b""
    written = coordlog.append(str(log), {"n": 0})
    assert coordlog.read(str(log)).records == [written]


def test_a_torn_tail_larger_than_one_read_chunk_is_found(log: pathlib.Path) -> None:
    first = coordlog.append(str(log), {"n": 0})
    torn = b'{"big":"' + b"y" * 200_000
    with log.open("ab") as handle:
        handle.write(torn)
    assert coordlog.recover(str(log)) == torn
    assert coordlog.read(str(log)).records == [first]


def test_bad_complete_lines_are_reported_with_their_numbers(log: pathlib.Path) -> None:
    first = coordlog.append(str(log), {"n": 0})
    with log.open("ab") as handle:
        handle.write(b"garbage\n[1, 2]\n\n")
    last = coordlog.append(str(log), {"n": 1})
    result = coordlog.read(str(log))
    assert result.records == [first, last]
    assert result.torn == b""
    assert [(number, problem.split(":")[0]) for number, problem in result.invalid] == [
        (2, "not JSON"),
        (3, "not a JSON object"),
    ]
    proc = run_fg("record", "tail", str(log), cwd=log.parent)
    assert [json.loads(line) for line in proc.stdout.splitlines()] == [first, last]
    assert f"{log}: line 2: not JSON" in proc.stderr
    assert f"{log}: line 3: not a JSON object" in proc.stderr


def test_an_append_after_a_torn_tail_is_not_lost(log: pathlib.Path) -> None:
    """Appends do not check the tail (that costs an fstat and a pread under the lock each
    time); a record glued to a dead writer's fragment is still read back, because every record
    starts with `{"id":"`, and the fragment is reported, not silently dropped."""
    written, torn = write_with_torn_tail(log)
    with coordlog.Appender(str(log)) as appender:  # opened before the next tear, too
        after = coordlog.append(str(log), {"n": 4})
        with log.open("ab") as handle:
            handle.write(b'{"n": 5, "cut')
        later = appender.append({"n": 6})
    result = coordlog.read(str(log))
    assert result.records == [*written, after, later]
    assert result.torn == b""
    assert [number for number, problem in result.invalid if "torn fragment" in problem] == [4, 5]
    assert coordlog.recover(str(log)) == b""  # nothing torn at the end any more
    assert torn in log.read_bytes()  # the fragment itself is kept in place, not dropped


def test_a_writer_killed_mid_stream_leaves_only_whole_lines(
    log: pathlib.Path, spawn: Spawner
) -> None:
    writer = spawn(WRITER, str(log), "w", "1000000", "Appender")
    writer.ready()
    writer.send("go\n")
    deadline = time.monotonic() + 10
    while (not log.exists() or log.stat().st_size < 100_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(writer.pid, signal.SIGKILL)
    writer.proc.wait(10)
    result = coordlog.read(str(log))
    assert result.torn == b"" and result.invalid == []
    assert [r["seq"] for r in result.records] == list(range(len(result.records)))
    assert len(result.records) > 100


# ------------------------------------------------------------------ flockguard record tail|recover


def test_cli_tail_reports_a_torn_line_and_recover_seals_it(log: pathlib.Path) -> None:
    written, torn = write_with_torn_tail(log)
    proc = run_fg("record", "tail", str(log), cwd=log.parent)
    assert [json.loads(line) for line in proc.stdout.splitlines()] == written
    assert "torn last line" in proc.stderr and f"({len(torn)} bytes)" in proc.stderr
    assert f"flockguard record recover {log}" in proc.stderr

    proc = run_fg("record", "recover", str(log), cwd=log.parent)
    assert f"{len(torn)} torn bytes moved to {log}.torn" in proc.stdout
    assert pathlib.Path(f"{log}.torn").read_bytes() == torn + b"\n"
    proc = run_fg("record", "tail", str(log), cwd=log.parent)
    assert proc.stderr == ""
    assert [json.loads(line) for line in proc.stdout.splitlines()] == written

    proc = run_fg("record", "recover", str(log), cwd=log.parent)
    assert "whole, nothing to recover" in proc.stdout


def test_cli_recover_of_a_missing_file_says_so(tmp_path: pathlib.Path) -> None:
    proc = run_fg("record", "recover", "nope.jsonl", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "no-such-file" in proc.stderr and "nope.jsonl" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "nope.jsonl").exists()


def test_cli_tail_n_prints_the_last_records(log: pathlib.Path) -> None:
    written = [coordlog.append(str(log), {"n": n}) for n in range(5)]
    proc = run_fg("record", "tail", str(log), "-n", "3", cwd=log.parent)
    assert [json.loads(line) for line in proc.stdout.splitlines()] == written[-3:]
    proc = run_fg("record", "tail", str(log), cwd=log.parent)  # default 10: all five
    assert [json.loads(line) for line in proc.stdout.splitlines()] == written
    assert run_fg("record", "tail", str(log), "-n", "0", cwd=log.parent).stdout == ""


def test_cli_tail_follow_prints_records_appended_after_it_started(
    log: pathlib.Path, spawn: Spawner
) -> None:
    old = [coordlog.append(str(log), {"n": n}) for n in range(3)]
    follower = spawn(  # the installed command, exec'd so that the pid and pipes are its own
        "import os, sys; os.execv(sys.argv[1], sys.argv[1:])",
        installed("flockguard"),
        "record",
        "tail",
        str(log),
        "-n",
        "2",
        "--follow",
    )
    assert [json.loads(follower.line()) for _ in range(2)] == old[-2:]
    new = coordlog.append(str(log), {"n": 3, "late": True})
    assert json.loads(follower.line(timeout=10)) == new
    newer = [coordlog.append(str(log), {"n": n}) for n in (4, 5)]
    assert [json.loads(follower.line(timeout=10)) for _ in newer] == newer
    follower.kill()


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("not json", "--json is not JSON"),
        ('{"a": 1', "--json is not JSON"),
        ("", "--json is not JSON"),
        ("[1, 2]", "--json must be a JSON object"),
        ('"text"', "--json must be a JSON object"),
        ("42", "--json must be a JSON object"),
        ("null", "--json must be a JSON object"),
    ],
)
def test_cli_append_refuses_what_is_not_one_json_object(
    tmp_path: pathlib.Path, document: str, problem: str
) -> None:
    log = tmp_path / "coord.jsonl"
    proc = run_fg("record", "append", str(log), "--json", document, cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "record-invalid" in proc.stderr and problem in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not log.exists()  # nothing appended, not even an empty file created


def test_cli_append_of_an_escaped_lone_surrogate(tmp_path: pathlib.Path) -> None:
    log = tmp_path / "coord.jsonl"
    proc = run_fg(
        "record", "append", str(log), "--json", '{"a": "\\ud800"}', cwd=tmp_path, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.isascii()
    assert json.loads(proc.stdout)["a"] == "\ud800"
    assert coordlog.read(str(log)).records == [json.loads(proc.stdout)]


def test_cli_tail_of_a_record_with_a_lone_surrogate(log: pathlib.Path) -> None:
    written = coordlog.append(str(log), {"name": "bad\udcffname"})
    proc = subprocess.run(
        [installed("flockguard"), "record", "tail", str(log)],
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.isascii()  # escaped: valid UTF-8 whatever the locale
    assert [json.loads(line.decode()) for line in proc.stdout.splitlines()] == [written]
