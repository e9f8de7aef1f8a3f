"""``flockguard record append|tail|recover FILE``: JSONL coordination records under flock."""

from __future__ import annotations

import json
import sys
import time

from flockguard.errors import FlockguardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

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
    recover = actions.add_parser("recover", help="seal a torn last line (kept in FILE.torn)")
    recover.add_argument("file")


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
    from flockguard.locking import coordlog
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
            sys.stderr.write(f"error: {exc.reference}\n  × {exc.message}\n  hint: {exc.hint}\n")
            return EXIT_TEMPFAIL
        except OSError as exc:
            raise FlockguardError("record-unwritable", f"{file}: {exc.strerror}") from exc
        print(json.dumps(written))
        return 0
    if action == "recover":
        try:
            torn = coordlog.recover(file)
        except FileNotFoundError as exc:
            raise FlockguardError("no-such-file", f"{file}: no such file") from exc
        if torn:
            print(f"sealed {file}: {len(torn)} torn bytes moved to {file}{coordlog.TORN_SUFFIX}")
        else:
            print(f"{file}: whole, nothing to recover")
        return 0
    return _tail(file, count, follow)


def _tail(file: str, count: int, follow: bool) -> int:
    import os

    from flockguard.locking import coordlog

    if not os.path.exists(file) and not follow:
        raise FlockguardError("no-such-file", f"{file}: no such file")
    log = coordlog.read(file)
    for record in log.records[-count:] if count > 0 else []:
        print(json.dumps(record))
    for number, problem in log.invalid:
        sys.stderr.write(f"{file}: line {number}: {problem}\n")
    if log.torn:
        sys.stderr.write(
            f"{file}: torn last line ({len(log.torn)} bytes): a writer died mid-line; "
            f"`flockguard record recover {file}` seals it\n"
        )
    seen = len(log.records)
    while follow:
        sys.stdout.flush()
        time.sleep(0.2)
        log = coordlog.read(file)
        for record in log.records[seen:]:
            print(json.dumps(record))
        seen = len(log.records)
    return 0
