"""``flockguard locks``: every flock held (or waited for) on files under .flockguard/."""

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


def run(*, json: bool, repo: str) -> int:
    root = options.repo_root(repo)
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
