"""``flockguard record append|tail|recover FILE``: JSONL coordination records under flock."""

from __future__ import annotations

import json
import sys
import time

from flockguard.errors import FlockguardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from flockguard.locking.file_lock import LockTimeout
    from flockguard.locking.recovery import Recovery

EXIT_DATAERR = 65  # sysexits EX_DATAERR: tail skipped what is not a whole record line
EXIT_TEMPFAIL = 75  # sysexits EX_TEMPFAIL: the lock was busy, try again


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="append|tail|recover")
    append = actions.add_parser("append", help="append one record under the file's lock")
    append.add_argument("file")
    append.add_argument("--json", required=True, dest="document", help="the record: a JSON object")
    append.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the lock")
    append.add_argument("--fsync", action="store_true", help="flush to disk before returning")
    tail = actions.add_parser("tail", help="print the last records")
    tail.add_argument("file")
    tail.add_argument("-n", type=int, default=10, dest="count", help="how many (default 10)")
    tail.add_argument("--follow", "-f", action="store_true", help="keep printing new records")
    recover = actions.add_parser(
        "recover", help="leave one record a line; torn and stray bytes go to FILE.torn"
    )
    recover.add_argument("file")
    recover.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the lock")


def run(
    *,
    action: str,
    file: str,
    document: str = "",
    timeout: float = 5.0,
    fsync: bool = False,
    count: int = 10,
    follow: bool = False,
) -> int:
    from flockguard.locking import coordlog, recovery
    from flockguard.locking.file_lock import LockTimeout

    if action == "append":
        try:
            record = json.loads(document)
        except ValueError as exc:
            raise FlockguardError("record-invalid", f"--json is not JSON: {exc}") from exc
        if not isinstance(record, dict):
            raise FlockguardError("record-invalid", "--json must be a JSON object, one record")
        try:
            written = coordlog.append(file, record, timeout=timeout, fsync=fsync)
        except LockTimeout as exc:
            return _busy(exc)
        except OSError as exc:
            raise FlockguardError("record-unwritable", f"{file}: {exc.strerror}") from exc
        print(json.dumps(written))
        return 0
    if action == "recover":
        try:
            report = recovery.recover(file, timeout=timeout)
        except LockTimeout as exc:
            return _busy(exc)
        except FileNotFoundError as exc:
            raise FlockguardError("no-such-file", f"{file}: no such file") from exc
        except OSError as exc:  # named: it may be FILE.torn or FILE.recovering (a symlink)
            where = exc.filename or file
            raise FlockguardError("record-unwritable", f"{where}: {exc.strerror}") from exc
        print(_recovered(file, report))
        return 0
    return _tail(file, count, follow)


def _busy(exc: LockTimeout) -> int:
    sys.stderr.write(f"error: {exc.reference}\n  × {exc.message}\n  hint: {exc.hint}\n")
    return EXIT_TEMPFAIL


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _recovered(file: str, report: Recovery) -> str:
    """One line: what recover moved to FILE.torn and kept, e.g. `sealed FILE: 2 glued ...`."""
    from flockguard.locking.coordlog import TORN_SUFFIX
    from flockguard.locking.recovery import RECOVERING_SUFFIX

    kept = _count(report.kept, "record")
    resumed = f"{file}: completed an interrupted recover ({file}{RECOVERING_SUFFIX})"
    if report.whole:
        return f"{resumed}; {kept} kept" if report.resumed else f"{file}: whole, nothing to recover"
    parts = [f"1 torn tail ({len(report.torn)} bytes)"] if report.torn else []
    if report.glued:
        parts.append(_count(report.glued, "glued fragment"))
    if report.invalid:
        parts.append(_count(report.invalid, "invalid line"))
    sealed = f"sealed {file}: {', '.join(parts)} moved to {file}{TORN_SUFFIX}; {kept} kept"
    return f"{resumed}, then {sealed}" if report.resumed else sealed


def _tail(file: str, count: int, follow: bool) -> int:
    import os

    from flockguard.locking import coordlog, recovery

    if not os.path.exists(file) and not follow:
        raise FlockguardError("no-such-file", f"{file}: no such file")
    log = coordlog.read(file)
    for record in log.records[-count:] if count > 0 else []:
        print(json.dumps(record))
    fix = f"`flockguard record recover {file}`"
    for number, problem in log.invalid:
        sys.stderr.write(
            f"{file}: line {number}: {problem}; {fix} moves it to {file}{coordlog.TORN_SUFFIX}\n"
        )
    if log.torn:
        sys.stderr.write(
            f"{file}: torn last line ({len(log.torn)} bytes): a writer died mid-line; "
            f"{fix} seals it\n"
        )
    # A recover killed mid-rewrite can leave lines twice (they read as whole records).
    interrupted = os.path.lexists(file + recovery.RECOVERING_SUFFIX)
    if interrupted:
        sys.stderr.write(
            f"{file}: a recover was interrupted (or is running): {file}"
            f"{recovery.RECOVERING_SUFFIX} is left and lines may be doubled; {fix} completes it\n"
        )
    seen = len(log.records)
    while follow:
        sys.stdout.flush()
        time.sleep(0.2)
        log = coordlog.read(file)
        for record in log.records[seen:]:
            print(json.dumps(record))
        seen = len(log.records)
    return EXIT_DATAERR if log.invalid or log.torn or interrupted else 0
