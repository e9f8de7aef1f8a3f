"""Append throughput of flockguard's JSONL coordination log against raw flock loops.

Two patterns, each with 1, 2, 8 and 32 writer processes appending ~250-byte JSON records to one
file (no fsync), library and raw baseline measured in the same run, interleaved:

* ``append``   — ``coordlog.append(path, record)`` (opens the file per record) vs. a raw loop doing
  the same by hand: ``json.dumps`` + ``os.open(O_WRONLY|O_APPEND|O_CREAT)`` + ``flock(LOCK_EX)``
  + ``os.write`` + ``flock(LOCK_UN)`` + ``os.close``.
* ``Appender`` — ``coordlog.Appender(path).append(record)`` (one descriptor) vs. a raw
  persistent-descriptor loop: ``json.dumps`` + ``flock(LOCK_EX)`` + ``os.write`` +
  ``flock(LOCK_UN)``.

The raw loops write lines of the same length as the library's: the same record plus constant
``id``/``ts`` fields, so the ratio includes what the library does beyond the write (generating
``id``/``ts``, ``LOCK_NB`` polling with backoff instead of a blocking flock). Writers are
forked, wait at a start gate, and the clock runs from the gate opening to the last writer's
last append. After every run the file is checked: every line whole JSON, every (writer, seq)
exactly once and in order per writer; any failure exits non-zero. Prints the median of
``--runs`` runs per cell and the ratio of throughputs library/raw (1.0 = as fast as raw).

    python bench/coordlog.py [--runs 5] [--records 40000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

from flockguard.locking import coordlog

PROCESSES = (1, 2, 8, 32)
RAW_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
CONSTANT = {"id": coordlog.new_id(), "ts": coordlog.stamp()}  # same length as generated ones


def record(writer: int, seq: int) -> dict[str, Any]:
    """A coordination record of ~250 bytes once ``id`` and ``ts`` are added."""
    return {
        "writer": writer,
        "seq": seq,
        "agent": f"claude-code-{writer:02d}",
        "session": "6f1c2d4e-8a9b",
        "event": "lease-granted",
        "resource": f"src/flockguard/locking/module_{seq % 97:03d}.py",
        "mode": "intent_write",
        "token": 100_000 + seq,
    }


def raw_line(writer: int, seq: int) -> bytes:
    full = {**CONSTANT, **record(writer, seq)}
    return (json.dumps(full, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# ---------------------------------------------------------------- the four writer loops


def lib_append(path: str, writer: int, count: int) -> None:
    append = coordlog.append
    for seq in range(count):
        append(path, record(writer, seq))


def raw_append(path: str, writer: int, count: int) -> None:
    for seq in range(count):
        line = raw_line(writer, seq)
        fd = os.open(path, RAW_FLAGS, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def lib_appender(path: str, writer: int, count: int) -> None:
    with coordlog.Appender(path) as log:
        for seq in range(count):
            log.append(record(writer, seq))


def raw_appender(path: str, writer: int, count: int) -> None:
    fd = os.open(path, RAW_FLAGS, 0o644)
    try:
        for seq in range(count):
            line = raw_line(writer, seq)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


PATTERNS = {
    "append (open per record)": (lib_append, raw_append),
    "Appender (one descriptor)": (lib_appender, raw_appender),
}


# ---------------------------------------------------------------- one timed run


def _writer(loop: Any, path: str, writer: int, count: int, ready: Any, go: Any, done: Any) -> None:
    ready.put(writer)
    go.wait()
    loop(path, writer, count)
    done.put((writer, time.perf_counter()))


def run_once(context: Any, loop: Any, path: str, processes: int, total: int) -> float:
    """Records per second for ``processes`` writers appending ``total`` records to a new file."""
    if os.path.exists(path):
        os.unlink(path)
    count = total // processes
    ready, done, go = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(target=_writer, args=(loop, path, w, count, ready, go, done))
        for w in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            ready.get(timeout=60)
        started = time.perf_counter()
        go.set()
        finished = [done.get(timeout=120)[1] for _ in workers]
        for worker in workers:
            worker.join(30)
            if worker.exitcode != 0:
                sys.exit(f"FAIL: writer exited {worker.exitcode} ({loop.__name__})")
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
                worker.join(5)
    elapsed = max(finished) - started
    verify(path, processes, count, loop.__name__)
    return processes * count / elapsed


def verify(path: str, processes: int, count: int, name: str) -> None:
    """Every line whole JSON; every (writer, seq) exactly once and in order per writer."""
    with open(path, "rb") as handle:
        data = handle.read()
    problems = []
    if data and not data.endswith(b"\n"):
        problems.append("torn last line")
    next_seq = [0] * processes
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            item = json.loads(raw)
            writer, seq = item["writer"], item["seq"]
        except (ValueError, KeyError, TypeError):
            problems.append(f"line {number} is not a whole record: {raw[:80]!r}")
            continue
        if seq != next_seq[writer]:
            expected = next_seq[writer]
            problems.append(f"line {number}: writer {writer} seq {seq}, expected {expected}")
        next_seq[writer] = seq + 1
    missing = sum(count - n for n in next_seq)
    if missing:
        problems.append(f"{missing} records missing")
    if problems:
        sys.exit(f"FAIL {name}, {processes} processes: " + "; ".join(problems[:5]))


# ---------------------------------------------------------------- the table


def costs(line: int) -> None:
    """Where the library's extra time per record goes, measured in this process."""
    sample = record(3, 5)
    bare = {**CONSTANT, **sample}

    def raw() -> bytes:
        return (json.dumps(bare, ensure_ascii=False, separators=(",", ":")) + "\n").encode()

    timings = {
        "coordlog.new_id()": coordlog.new_id,
        "coordlog.stamp()": coordlog.stamp,
        "coordlog.encode(record) (id, ts, dumps, encode)": lambda: coordlog.encode(sample),
        "raw: dumps + encode of the same fields": raw,
    }
    print(f"per-record CPU, single process, median of 5 x 20,000 calls ({line}-byte lines):")
    for label, call in timings.items():
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(20_000):
                call()
            runs.append((time.perf_counter() - started) / 20_000 * 1e6)
        print(f"  {label:<48} {statistics.median(runs):6.2f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per cell (median shown)")
    parser.add_argument("--records", type=int, default=40_000, help="records per run")
    parser.add_argument("--dir", help="where to write (default: a new temporary directory)")
    options = parser.parse_args()
    context = multiprocessing.get_context("fork")
    base = tempfile.mkdtemp(prefix="fg-coordlog-bench-", dir=options.dir)
    path = os.path.join(base, "coord.jsonl")
    line = len(coordlog.encode(record(0, 0))[1])
    print(
        f"flockguard coordlog bench: {options.records} records of {line} bytes per run, "
        f"median of {options.runs} runs, no fsync, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}, {base}"
    )
    began = time.perf_counter()
    rows = []
    try:
        for name, (library, raw) in PATTERNS.items():
            for processes in PROCESSES:
                samples: dict[str, list[float]] = {"library": [], "raw": []}
                run_once(context, library, path, processes, options.records // 4)  # warm up
                for run in range(options.runs):  # interleaved, alternating who goes first
                    order = [("library", library), ("raw", raw)]
                    for side, loop in order if run % 2 == 0 else order[::-1]:
                        samples[side].append(
                            run_once(context, loop, path, processes, options.records)
                        )
                lib, base_rate = (statistics.median(samples[k]) for k in ("library", "raw"))
                rows.append((name, processes, lib, base_rate, lib / base_rate))
                print(
                    f"  {name:<26} {processes:>2} processes: library {lib:>9,.0f}/s  "
                    f"raw {base_rate:>9,.0f}/s  (runs: "
                    + ", ".join(f"{x / 1000:.0f}k" for x in samples["library"])
                    + " / "
                    + ", ".join(f"{x / 1000:.0f}k" for x in samples["raw"])
                    + ")",
                    flush=True,
                )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print()
    print(f"{'pattern':<26} {'procs':>5} {'library rec/s':>14} {'raw rec/s':>12} {'lib/raw':>8}")
    for name, processes, lib, base_rate, ratio in rows:
        print(f"{name:<26} {processes:>5} {lib:>14,.0f} {base_rate:>12,.0f} {ratio:>8.2f}")
    print()
    below = [row for row in rows if row[4] < 0.67]
    print(
        "target library within 1.5x of raw (ratio >= 0.67): "
        + (
            f"met in every cell (lowest {min(row[4] for row in rows):.2f})"
            if not below
            else "NOT met in " + ", ".join(f"{r[0]} x{r[1]} ({r[4]:.2f})" for r in below)
        )
    )
    slow = [row for row in rows if row[1] > 1 and row[2] < 100_000]
    print(
        "target multi-process >= 100,000 records/s (library): "
        + (
            "met in every multi-process cell"
            if not slow
            else "NOT met in " + ", ".join(f"{r[0]} x{r[1]} ({r[2]:,.0f}/s)" for r in slow)
        )
    )
    costs(line)
    print(f"all {len(rows) * (2 * options.runs + 1)} runs verified: 0 lost, 0 duplicated, 0 torn")
    print(f"total {time.perf_counter() - began:.0f}s")


if __name__ == "__main__":
    main()
