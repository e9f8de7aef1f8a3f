"""``flockguard locks``: every flock held (or waited for) on files under .flockguard/;
``flockguard locks repair``: rebuild a damaged lock table."""

from __future__ import annotations

import json
import os
import time

from flockguard.cli import options

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=("repair",),
        help="repair: rebuild a damaged lock table, keeping what can be read",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options.add_repo(parser)


def held(root: str) -> list[dict[str, Any]]:
    from flockguard.locking.holders import holders, inodes

    table = inodes()
    found = []
    for directory, _dirs, files in os.walk(os.path.join(root, ".flockguard")):
        for name in files:
            path = os.path.join(directory, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            key = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
            if key not in table and not any(k[2] == st.st_ino for k in table):
                continue
            for holder in holders(path):
                found.append(
                    {
                        "file": os.path.relpath(path, root),
                        "pid": holder.pid,
                        "agent": holder.agent,
                        "mode": holder.mode,
                        "state": "waiting" if holder.waiting else "held",
                        "since": holder.since or None,
                        "held_for": round(time.time() - holder.since, 1) if holder.since else None,
                    }
                )
    return found


def run(*, action: str | None, json: bool, repo: str) -> int:
    root = options.repo_root(repo)
    if action == "repair":
        return _repair(root, json)
    rows = held(root)
    if json:
        print(_dumps(rows))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not rows:
        console.print("no flocks held on files under .flockguard/")
        return 0
    table = Table()
    for column in ("file", "pid", "agent", "mode", "state", "held for"):
        table.add_column(column)
    for row in rows:
        held_for = f"{row['held_for']}s" if row["held_for"] is not None else "—"
        table.add_row(
            row["file"], str(row["pid"]), row["agent"], row["mode"], row["state"], held_for
        )
    console.print(table)
    return 0


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2)


def _repair(root: str, as_json: bool) -> int:
    from flockguard.cli.lock import _audit, manager_for
    from flockguard.locking.backends.sqlite import repair
    from flockguard.locking.manager import STATE_DIR

    report = repair(os.path.join(root, STATE_DIR))
    if report["repaired"]:
        with manager_for(root) as manager:
            manager.settle()  # publish the rebuilt table
        _audit(root, {"event": "lock-table-repair", **report})
    if as_json:
        print(_dumps(report))
        return 0
    if not report["repaired"]:
        print("the lock table is sound: nothing to repair")
        return 0
    print(f"rebuilt the lock table; the damaged file is kept as {report['damaged_copy']}")
    print("  found: " + "; ".join(report["problems"][:3]))
    for label, key in (
        ("kept", "kept_holders"),
        ("kept in the queue", "kept_waiters"),
        ("lost (told on renew or release)", "lost"),
    ):
        entries = report[key]
        print(f"  {label}: {len(entries)}" + "".join(f"\n    {e}" for e in entries))
    return 0
