"""``flockguard approve ID``: let an agent that cannot ask retry one checkpoint action."""

from __future__ import annotations

import json
import os

from flockguard.cli import options

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("approval", nargs="?", help="the id from the refusal message")
    parser.add_argument("--list", action="store_true", dest="listing", help="show pending ids")
    options.add_repo(parser)


def run(*, approval: str | None, listing: bool, repo: str) -> int:
    from flockguard import approvals

    root = options.repo_root(repo)
    if listing or not approval:
        pending = [r for r in approvals.states(root).values() if r.get("state") == "pending"]
        for record in pending:
            print(
                f"{record['approval']}  {record.get('platform', '')}  {record.get('agent', '')}  "
                f"{record.get('summary', '')}"
            )
        if not pending:
            print("no pending approvals")
        return 0
    written = approvals.approve(root, approval, os.environ.get("USER", "a person"))
    print(json.dumps({"approved": written["approval"]}))
    return 0
