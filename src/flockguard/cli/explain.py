"""``flockguard explain PATH``: which class and rule apply to a path, and why.

It asks the same engine the hook asks, with a synthetic write or read of the path, so the answer
cannot drift from what an agent would get.
"""

from __future__ import annotations

import json
import os

from flockguard.cli import options

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="the path, absolute or relative to the current directory")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="explain a write only")
    mode.add_argument("--read", action="store_true", help="explain a read only")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    options.add_repo(parser)


def explain(root: str, path: str, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    from flockguard import config as config_module
    from flockguard import model
    from flockguard.audit import finding_record
    from flockguard.engine import evaluate
    from flockguard.paths import resolve

    config = config_module.load(root)
    cwd = os.getcwd()
    target = resolve(path, cwd, root)
    results = []
    for kind in kinds:
        paths = (path,)
        action = model.Action(
            platform="cli",
            event="explain",
            kind=kind,
            cwd=cwd,
            reads=paths if kind == model.READ else (),
            writes=paths if kind == model.WRITE else (),
        )
        decision = evaluate(action, config)
        results.append(
            {
                "kind": kind,
                "path": target.shown,
                "judged_as": list(target.names),
                "inside_repo": target.inside,
                "outcome": decision.outcome,
                "findings": [
                    {"adr": "", **finding_record(f), "doc": f"docs/rules/{f.code}.md"}
                    for f in decision.findings
                ],
            }
        )
    return results


def run(*, path: str, write: bool, read: bool, json: bool, repo: str) -> int:
    from flockguard.model import READ, WRITE

    kinds = (WRITE,) if write else (READ,) if read else (WRITE, READ)
    root = options.repo_root(repo)
    results = explain(root, path, kinds)
    if json:
        print(_dumps(results))
        return 0
    from rich.console import Console

    console = Console(highlight=False)
    colour = {"allow": "green", "warn": "yellow", "ask": "magenta", "deny": "red"}
    for result in results:
        outcome = result["outcome"]
        console.print(
            f"[bold]{result['kind']}[/] {result['path']}: [{colour[outcome]}]{outcome}[/]"
            + ("" if result["inside_repo"] else " (outside the repository)")
        )
        console.print(f"  judged as: {', '.join(result['judged_as']) or '(the root)'}")
        if not result["findings"]:
            console.print("  no path class applies: flockguard does not stop this")
        for finding in result["findings"]:
            console.print(
                f"  {finding['code']} {finding['name']} · stage {finding['stage']} · "
                f"{finding['outcome']} → {finding['effective']}"
            )
            console.print(f"    {finding['message']}", soft_wrap=True)
            console.print(f"    ADR: {finding['adr'] or '—'} · doc: {finding['doc']}")
    return 0


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)
