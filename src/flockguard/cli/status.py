"""``flockguard status``: every lock holder and every waiter, as a table or locks.json."""

from __future__ import annotations

import json
import time

from flockguard.cli import options

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


WIDTHS = {"agent": 18}  # the column worth the room at 80 characters


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the locks.json document")
    options.add_repo(parser)


def run(*, json: bool, repo: str) -> int:
    from flockguard.cli.lock import manager_for
    from flockguard.errors import FlockguardError

    root = options.repo_root(repo)
    try:
        manager = manager_for(root)
    except FlockguardError as exc:
        if exc.reference not in ("lock-table-unwritable", "lock-table-disk-full"):
            raise
        manager = manager_for(root, readonly=True)  # a read-only table can still be shown
    with manager:
        document = manager.status()
    if json:
        print(_dumps(document))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    now = time.time()
    holders = Table(title="Holders", title_justify="left")
    for column in ("resource", "agent", "mode", "held", "ends in"):  # tokens: in --json
        # whole session ids and paths are long: folded, never cut (a cut id names nobody)
        holders.add_column(column, overflow="fold", min_width=WIDTHS.get(column))
    for h in document["holders"]:
        holders.add_row(
            h["resource"], h["agent"], h["mode"], f"{now - h['since']:.0f}s",
            f"{h['expires'] - now:.0f}s",
        )  # fmt: skip
    waiters = Table(title="Waiters", title_justify="left")
    for column in ("#", "resource", "agent", "mode", "priority", "waiting"):
        waiters.add_column(column, overflow="fold", min_width=WIDTHS.get(column))
    for w in document["waiters"]:
        aged = w["effective_priority"]
        priority = w["priority"] if aged == w["priority"] else f"{w['priority']}→{aged}"
        waiters.add_row(
            str(w["position"]), w["resource"], w["agent"], w["mode"], priority,
            f"{now - w['waiting_since']:.0f}s",
        )  # fmt: skip
    console.print(holders if document["holders"] else "no locks held")
    console.print(waiters if document["waiters"] else "nobody waiting")
    return 0


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2)
