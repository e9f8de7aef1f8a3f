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
from flockguard.locking import coordlog, recovery
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
        recovery.recover(str(log), timeout=0.3)
    assert f"pid {holder.pid}" in info.value.message
    assert log.read_bytes() == b'{"n":0}\n{"tor'
    assert not pathlib.Path(f"{log}.torn").exists()
    proc = run_fg("record", "recover", str(log), "--timeout", "0.3", cwd=log.parent, check=False)
    assert proc.returncode == 75, proc.stderr
    assert f"pid {holder.pid} (agent busy)" in proc.stderr and "Traceback" not in proc.stderr
    assert log.read_bytes() == b'{"n":0}\n{"tor'
    holder.finish()
    assert recovery.recover(str(log), timeout=1).torn == b'{"tor'
    assert log.read_bytes() == b'{"n":0}\n'


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
        lambda: recovery.recover(str(link)),
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
    report = recovery.recover(str(log))
    assert (report.torn, report.glued, report.invalid) == (torn, 0, 0)
    assert (report.moved, report.kept, report.resumed) == (len(torn), 3, False)
    assert pathlib.Path(f"{log}.torn").read_bytes() == torn + b"\n"
    assert os.stat(log).st_ino == inode  # cut in place: holders' locks stay on the same file
    whole = coordlog.read(str(log))
    assert (whole.records, whole.torn, whole.invalid) == (written, b"", [])

    after = coordlog.append(str(log), {"n": 4})
    assert coordlog.read(str(log)).records == [*written, after]

    again = recovery.recover(str(log))  # a second recover finds nothing
    assert again.whole and (again.torn, again.moved, again.kept) == (b"", 0, 4)
    assert pathlib.Path(f"{log}.torn").read_bytes() == torn + b"\n"


def test_recover_on_a_whole_log_changes_nothing(log: pathlib.Path) -> None:
    for n in range(3):
        coordlog.append(str(log), {"n": n})
    before, stat = log.read_bytes(), os.stat(log)
    time.sleep(0.01)
    report = recovery.recover(str(log))
    assert report.whole and (report.torn, report.glued, report.invalid) == (b"", 0, 0)
    assert (report.moved, report.kept) == (0, 3)
    proc = run_fg("record", "recover", str(log), cwd=log.parent)
    assert proc.stdout == f"{log}: whole, nothing to recover\n"
    after = os.stat(log)
    assert log.read_bytes() == before
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        stat.st_ino,
        stat.st_size,
        stat.st_mtime_ns,
    )
    assert sorted(p.name for p in log.parent.iterdir()) == [log.name]  # no .torn, no copy


def test_an_empty_log_is_whole(log: pathlib.Path) -> None:
    log.write_bytes(b"")
    result = coordlog.read(str(log))
    assert (result.records, result.torn, result.invalid) == ([], b"", [])
    assert recovery.recover(str(log)).whole
    missing = coordlog.read(str(log.with_name("missing.jsonl")))
    assert (missing.records, missing.torn, missing.invalid) == ([], b"", [])


def test_a_file_without_any_newline_is_one_torn_line(log: pathlib.Path) -> None:
    log.write_bytes(b'{"complete": "json", "but": "no newline"}')
    result = coordlog.read(str(log))
    assert result.records == []
    assert result.torn == b'{"complete": "json", "but": "no newline"}'
    assert result.invalid == []
    assert recovery.recover(str(log)).torn == b'{"complete": "json", "but": "no newline"}'
    assert log.read_bytes() == b""
    written = coordlog.append(str(log), {"n": 0})
    assert coordlog.read(str(log)).records == [written]


def test_a_torn_tail_larger_than_one_read_chunk_is_found(log: pathlib.Path) -> None:
    first = coordlog.append(str(log), {"n": 0})
    torn = b'{"big":"' + b"y" * 200_000
    with log.open("ab") as handle:
        handle.write(torn)
    assert recovery.recover(str(log)).torn == torn
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
        (4, "blank line"),  # no record either: a line-by-line reader chokes on it
    ]
    proc = run_fg("record", "tail", str(log), cwd=log.parent, check=False)
    assert proc.returncode == 65
    assert [json.loads(line) for line in proc.stdout.splitlines()] == [first, last]
    fix = f"`flockguard record recover {log}` moves it to {log}.torn"
    assert proc.stderr.splitlines() == [
        f"{log}: line 2: not JSON: Expecting value: line 1 column 1 (char 0); {fix}",
        f"{log}: line 3: not a JSON object; {fix}",
        f"{log}: line 4: blank line; {fix}",
    ]


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
    report = recovery.recover(str(log))  # nothing torn at the end, but two fragments glued
    assert (report.torn, report.glued, report.invalid, report.kept) == (b"", 2, 0, 5)
    assert pathlib.Path(f"{log}.torn").read_bytes() == torn + b'\n{"n": 5, "cut\n'
    assert lines(log) == [*written, after, later]


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
    proc = run_fg("record", "tail", str(log), cwd=log.parent, check=False)
    assert proc.returncode == 65
    assert [json.loads(line) for line in proc.stdout.splitlines()] == written
    assert "torn last line" in proc.stderr and f"({len(torn)} bytes)" in proc.stderr
    assert f"flockguard record recover {log}" in proc.stderr

    proc = run_fg("record", "recover", str(log), cwd=log.parent)
    assert proc.stdout == (
        f"sealed {log}: 1 torn tail ({len(torn)} bytes) moved to {log}.torn; 3 records kept\n"
    )
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


# ------------------------------------------------------------------ recover: one record a line

# Recovers argv[1] but is SIGKILLed at argv[2]: half-way through writing its copy aside,
# half-way through rewriting the log in place, before cutting the log, or before removing the copy.
KILLED_RECOVER = r"""
import os, signal, sys
from flockguard.locking import recovery
path, at = sys.argv[1], sys.argv[2]
copy = path + recovery.RECOVERING_SUFFIX
real = {name: getattr(os, name) for name in ("write", "pwrite", "ftruncate", "unlink")}

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def aside(fd):
    try:
        return os.path.samestat(os.fstat(fd), os.stat(copy + ".tmp"))
    except FileNotFoundError:
        return False

def write(fd, data):
    if at == "copying" and aside(fd):
        real["write"](fd, data[: len(data) // 2])
        die()
    return real["write"](fd, data)

def pwrite(fd, data, offset):
    if at == "rewriting":
        real["pwrite"](fd, data[: len(data) // 2], offset)
        die()
    return real["pwrite"](fd, data, offset)

def ftruncate(fd, size):
    if at == "cutting":
        die()
    return real["ftruncate"](fd, size)

def unlink(name, *args, **kwargs):
    if at == "unlinking" and name == copy:
        die()
    return real["unlink"](name, *args, **kwargs)

os.write, os.pwrite, os.ftruncate, os.unlink = write, pwrite, ftruncate, unlink
recovery.recover(path, timeout=30)
"""

# Recovers argv[1], saying "rewriting" and pausing a second before its in-place rewrite.
SLOW_RECOVER = r"""
import os, sys, time
from flockguard.locking import recovery
real = os.pwrite
said = []

def pwrite(fd, data, offset):
    if not said:
        said.append(1)
        sys.stdout.write("rewriting\n")
        sys.stdout.flush()
        time.sleep(1.0)
    return real(fd, data, offset)

os.pwrite = pwrite
report = recovery.recover(sys.argv[1], timeout=30)
print(report.glued, report.kept)
"""


def tear(log: pathlib.Path, fragment: bytes) -> None:
    """Leave ``fragment`` at the end of the log the way a writer killed mid-write does."""
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, fragment)
    finally:
        os.close(fd)


def line_by_line(data: bytes) -> list[dict[str, object]]:
    """What a plain JSONL reader gets: the lines that parse, each on its own."""
    records = []
    for line in data.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def run_writers(spawn: Spawner, log: pathlib.Path, writers: int, count: int) -> None:
    children = [
        spawn(WRITER, str(log), f"w{i}", str(count), "append" if i % 2 else "Appender")
        for i in range(writers)
    ]
    for child in children:
        child.ready(timeout=60)
    for child in children:
        child.send("go\n")
    for child in children:
        child.finish(timeout=120)


def test_recover_seals_fragments_glued_to_real_writers_records(
    log: pathlib.Path, spawn: Spawner
) -> None:
    seed = [coordlog.append(str(log), {"n": n}) for n in range(3)]
    first = b'{"id":"dead1","ts":"2026-01-01T00:00:00.000000Z","note":"cut he'
    tear(log, first)
    run_writers(spawn, log, writers=4, count=50)  # the first of them lands glued to `first`
    second = b'{"id":"dead2","parent":{"id":"p","tags":["{\\"id\\":\\""]},"kids":[{"id":"k"}'
    tear(log, second)  # a fragment holding `{"id":"` of its own, escaped and not
    cli = [
        json.loads(
            run_fg(
                "record", "append", str(log), "--json", json.dumps({"cli": n}), cwd=log.parent
            ).stdout
        )
        for n in range(3)
    ]
    tail = b'{"id":"dead3","n":'
    tear(log, tail)
    before = log.read_bytes()
    total = len(seed) + 4 * 50 + len(cli)
    assert len(line_by_line(before)) == total - 2  # the defect: two records glued, unreadable

    proc = run_fg("record", "tail", str(log), "-n", "0", cwd=log.parent, check=False)
    assert proc.returncode == 65
    assert proc.stdout == ""
    problems = proc.stderr.splitlines()
    assert len(problems) == 3, problems
    assert f"line 4: a torn fragment of {len(first)} bytes before a record" in problems[0]
    assert f"line {4 + 200}: a torn fragment of {len(second)} bytes" in problems[1]
    assert f"torn last line ({len(tail)} bytes)" in problems[2]
    assert all(f"`flockguard record recover {log}`" in problem for problem in problems)

    inode = os.stat(log).st_ino
    proc = run_fg("record", "recover", str(log), cwd=log.parent)
    assert proc.stdout == (
        f"sealed {log}: 1 torn tail ({len(tail)} bytes), 2 glued fragments moved to {log}.torn;"
        f" {total} records kept\n"
    )
    assert pathlib.Path(f"{log}.torn").read_bytes() == b"\n".join([first, second, tail, b""])
    assert os.stat(log).st_ino == inode  # rewritten in place: holders' locks stay valid
    after = log.read_bytes()
    # every record keeps its own bytes and place; only the pieces went
    assert after == before.replace(first, b"").replace(second, b"")[: -len(tail)]
    records = line_by_line(after)
    assert len(after.splitlines()) == len(records) == total  # one record a line, none lost
    assert all(line.startswith(coordlog.RECORD_START) for line in after.splitlines())
    assert len({record["id"] for record in records}) == total
    assert records[:3] == seed and records[-3:] == cli
    for i in range(4):
        assert [r["seq"] for r in records if r.get("writer") == f"w{i}"] == list(range(50))
    assert sorted(p.name for p in log.parent.iterdir()) == [log.name, f"{log.name}.torn"]

    proc = run_fg("record", "tail", str(log), "-n", str(total), cwd=log.parent)
    assert proc.stderr == ""
    assert [json.loads(line) for line in proc.stdout.splitlines()] == records
    proc = run_fg("record", "recover", str(log), cwd=log.parent)
    assert proc.stdout == f"{log}: whole, nothing to recover\n"
    assert log.read_bytes() == after


def test_recover_moves_complete_lines_that_are_no_record(log: pathlib.Path) -> None:
    written = [coordlog.append(str(log), {"n": 0})]
    tear(log, b'garbage\n[1, 2]\n\n"text"\n')
    written.append(coordlog.append(str(log), {"n": 1}))
    tear(log, b'{"id":"x",\n')  # a complete line, but cut: no record after it to glue
    written.append(coordlog.append(str(log), {"n": 2}))
    before = log.read_bytes()
    tail = run_fg("record", "tail", str(log), cwd=log.parent, check=False)
    assert tail.returncode == 65 and len(tail.stderr.splitlines()) == 5

    report = recovery.recover(str(log))
    assert (report.torn, report.glued, report.invalid, report.kept) == (b"", 0, 5, 3)
    assert (
        report.moved
        == len(before) - len(log.read_bytes())
        == len('garbage[1, 2]"text"{"id":"x",') + 5
    )
    assert not report.whole and not report.resumed
    with pytest.raises(AttributeError):
        report.kept = 0
    assert pathlib.Path(f"{log}.torn").read_bytes() == b'garbage\n[1, 2]\n\n"text"\n{"id":"x",\n'
    assert lines(log) == written
    assert not pathlib.Path(f"{log}.recovering").exists()
    assert not pathlib.Path(f"{log}.recovering.tmp").exists()

    log.write_bytes(before)
    proc = run_fg("record", "recover", str(log), cwd=log.parent)
    assert proc.stdout == f"sealed {log}: 5 invalid lines moved to {log}.torn; 3 records kept\n"


@pytest.mark.parametrize("at", ["copying", "rewriting", "cutting", "unlinking"])
def test_a_recover_killed_half_way_is_completed_and_later_appends_kept(
    log: pathlib.Path, spawn: Spawner, at: str
) -> None:
    # longer than a few records: a half-done rewrite then leaves whole records twice
    fragment = b'{"id":"dead","ts":"2026-01-01T00:00:00.000000Z","cut":"' + b"x" * 500
    coordlog.append(str(log), {"n": 0})
    tear(log, fragment)
    for n in range(1, 40):
        coordlog.append(str(log), {"n": n})
    tear(log, b"garbage\n")
    for n in range(40, 60):
        coordlog.append(str(log), {"n": n})
    before = log.read_bytes()
    expected = before.replace(fragment, b"").replace(b"garbage\n", b"")
    copy = pathlib.Path(f"{log}.recovering")

    killed = spawn(KILLED_RECOVER, str(log), at)
    assert killed.proc.wait(30) == -signal.SIGKILL, killed.stderr()
    assert copy.exists() == (at != "copying")
    if at == "copying":
        assert log.read_bytes() == before  # the log is only touched once the copy is whole
    if at == "rewriting":  # half-rewritten: records twice, the very state the copy is for
        ids = [record["id"] for record in coordlog.read(str(log)).records]
        assert len(ids) > len(set(ids))

    run_writers(spawn, log, writers=3, count=20)  # the flock died with the recover: appends go on
    tail = run_fg("record", "tail", str(log), cwd=log.parent, check=False)
    assert tail.returncode == 65
    assert ("a recover was interrupted" in tail.stderr) == (at != "copying")

    proc = run_fg("record", "recover", str(log), cwd=log.parent)
    if at != "copying":
        assert proc.stdout.startswith(f"{log}: completed an interrupted recover ({copy})")
    data = log.read_bytes()
    assert data.startswith(expected)  # what the killed recover meant, byte for byte
    later = line_by_line(data[len(expected) :])
    assert len(data[len(expected) :].splitlines()) == len(later)
    assert sorted((r["writer"], r["seq"]) for r in later) == sorted(
        (f"w{i}", seq) for i in range(3) for seq in range(20)
    )
    assert not copy.exists() and not pathlib.Path(f"{copy}.tmp").exists()
    # nothing lost: a recover killed before its copy was whole seals the same pieces again
    pieces = pathlib.Path(f"{log}.torn").read_bytes().splitlines()
    assert pieces == [fragment, b"garbage"] * (2 if at == "copying" else 1)
    assert run_fg("record", "tail", str(log), cwd=log.parent).stderr == ""


def test_appends_wait_while_recover_rewrites(log: pathlib.Path, spawn: Spawner) -> None:
    seed = [coordlog.append(str(log), {"n": n}) for n in range(20)]
    fragment = b'{"id":"dead","cut'
    tear(log, fragment)
    seed += [coordlog.append(str(log), {"n": n}) for n in range(20, 40)]
    writers = [spawn(WRITER, str(log), f"w{i}", "30", "append") for i in range(3)]
    for writer in writers:
        writer.ready()
    recovering = spawn(SLOW_RECOVER, str(log))
    assert recovering.line() == "rewriting"  # it has read the log, holding its lock
    size = log.stat().st_size
    for writer in writers:
        writer.send("go\n")
    time.sleep(0.3)
    assert log.stat().st_size == size  # no append lands between its read and its rewrite
    for writer in writers:
        writer.finish()
    assert recovering.line() == "1 40"
    recovering.finish()
    records = lines(log)
    assert records[:40] == seed
    assert sorted((r["writer"], r["seq"]) for r in records[40:]) == sorted(
        (f"w{i}", seq) for i in range(3) for seq in range(30)
    )
    assert pathlib.Path(f"{log}.torn").read_bytes() == fragment + b"\n"


def test_a_copy_recover_did_not_write_is_refused(log: pathlib.Path) -> None:
    for n in range(3):
        coordlog.append(str(log), {"n": n})
    before = log.read_bytes()
    copy = pathlib.Path(f"{log}.recovering")
    copy.write_bytes(before[:10])  # a plain copy says nothing of appends made since: no guess
    proc = run_fg("record", "recover", str(log), cwd=log.parent, check=False)
    assert proc.returncode == 1
    assert "recover-copy-invalid" in proc.stderr and "Traceback" not in proc.stderr
    assert log.read_bytes() == before and copy.read_bytes() == before[:10]


# ------------------------------------------------------------------ attacks on the reader


def test_records_and_fragments_full_of_record_starts_are_told_apart(log: pathlib.Path) -> None:
    """The record glued after a fragment is the object the line ends with, matched backwards;
    record starts inside the fragment, nested objects and strings do not mislead it."""
    first = coordlog.append(str(log), {"n": 0})
    fragments = [
        b'{"id":"dead1","kid":{"id":"k"}',  # cut just after a whole nested record-like object
        b'{"id":"dead2","s":"\\\\\\"{\\"id\\":\\"x\\"}\\\\',  # escapes and quoted record starts
        b'{"id":"dead3","a":[{"id":"a"},{"id":"b"',
    ]
    odd = {
        "kids": [{"id": "a"}, {"id": "b", "k": [{"id": "c"}]}],
        "text": 'brackets }]{[ quotes " \\" and a record start {"id":"',
        "ends": "in a backslash \\",
    }
    glued = []
    for fragment in fragments:
        tear(log, fragment)
        glued.append(coordlog.append(str(log), odd))
    result = coordlog.read(str(log))
    assert result.records == [first, *glued]
    assert [problem for _, problem in result.invalid] == [
        f"a torn fragment of {len(fragment)} bytes before a record" for fragment in fragments
    ]
    report = recovery.recover(str(log))
    assert (report.glued, report.kept) == (3, 4)
    assert pathlib.Path(f"{log}.torn").read_bytes() == b"".join(f + b"\n" for f in fragments)
    assert lines(log) == [first, *glued]


def test_a_deeply_nested_line_is_reported_not_raised(log: pathlib.Path) -> None:
    """json raises RecursionError, not ValueError, past its depth: read() let it out, so one
    such line broke every reader of the log (a hook reading approvals included)."""
    first = coordlog.append(str(log), {"n": 0})
    deep = b'{"id":"deep","k":' * 50_000
    tear(log, deep + b"\n" + b"[" * 100_000 + b"]" * 100_000 + b"\n" + deep)
    last = coordlog.append(str(log), {"n": 1})  # glued after a deep fragment: still found
    result = coordlog.read(str(log))
    assert result.records == [first, last]
    assert [problem for _, problem in result.invalid] == [
        "not JSON: nested too deeply",
        "not JSON: nested too deeply",
        f"a torn fragment of {len(deep)} bytes before a record",
    ]
    proc = run_fg("record", "tail", str(log), cwd=log.parent, check=False)
    assert proc.returncode == 65 and "Traceback" not in proc.stderr
    report = recovery.recover(str(log))
    assert (report.invalid, report.glued, report.kept) == (2, 1, 2)
    assert lines(log) == [first, last]


def test_a_long_damaged_line_is_read_in_linear_time(log: pathlib.Path, spawn: Spawner) -> None:
    """Trying every `{"id":"` of a line in turn was quadratic: minutes for this 2 MB line."""
    tear(log, b'{"id":"' * 300_000)
    record = coordlog.append(str(log), {"n": 0})
    tear(log, b'{"id":"' * 300_000 + b"}\n")
    reader = spawn(
        "import sys, json; from flockguard.locking import coordlog; "
        "log = coordlog.read(sys.argv[1]); print(json.dumps([log.records, len(log.invalid)]))",
        str(log),
    )
    assert json.loads(reader.line(timeout=10)) == [[record], 2]
    reader.finish()


def test_recover_never_writes_through_a_symlinked_torn_or_copy(tmp_path: pathlib.Path) -> None:
    log = tmp_path / "coord.jsonl"
    coordlog.append(str(log), {"n": 0})
    tear(log, b'{"id":"dead')
    before = log.read_bytes()
    target = tmp_path / "precious"
    target.write_bytes(b"keep\n")
    for name in (f"{log.name}.torn", f"{log.name}.recovering"):
        link = tmp_path / name
        link.symlink_to(target)
        with pytest.raises(OSError) as info:
            recovery.recover(str(log))
        assert info.value.errno == errno.ELOOP
        proc = run_fg("record", "recover", str(log), cwd=tmp_path, check=False)
        assert proc.returncode == 1 and f"{link}: Too many levels" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert log.read_bytes() == before and target.read_bytes() == b"keep\n"
        link.unlink()
