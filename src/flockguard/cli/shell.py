"""``flockguard shell``: what a shell command may read, write or delete, as the guards see it."""

from __future__ import annotations

import json
import os
import sys

from flockguard.errors import FlockguardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("command", nargs="?", help="the command (one shell string)")
    parser.add_argument("--cwd", default=".", help="the directory the command starts in")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--batch",
        action="store_true",
        help='read JSON lines {"cmd": …, "cwd": …} on stdin, write one JSON analysis per line',
    )


def report(command: str, cwd: str) -> dict[str, Any]:
    """The analysis with paths relative to the repository around ``cwd`` (absolute outside)."""
    from flockguard.config import find_root
    from flockguard.install.repo import find_repo
    from flockguard.paths import resolve
    from flockguard.shell import analyze

    cwd = os.path.abspath(cwd)
    root = find_root(cwd) or find_repo(cwd)
    real_root = os.path.realpath(root)
    analysis = analyze(command)

    def shown(paths: tuple[str, ...]) -> list[str]:
        return [resolve(path, cwd, root, real_root).shown or "." for path in paths]

    return {
        "reads": shown(analysis.reads),
        "writes": shown(analysis.writes),
        "deletes": shown(analysis.deletes),
        "dynamic": bool(analysis.dynamic),
        "parse_error": bool(analysis.parse_error),
        "details": {
            "dynamic": [
                {"kind": kind, "could_be": shown((glob,))[0]} for kind, glob in analysis.dynamic
            ],
            "into": [{"directory": d, "name": n} for d, n in analysis.into],
            "notes": list(analysis.notes),
            "parse_error": analysis.parse_error,
        },
    }


def _batch() -> int:
    """One output line per input line, in order; a bad line gets an `error` line, not a stop."""
    failures = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
                raise ValueError('expected an object with a "cmd" string')
            cwd = request.get("cwd", ".")
            if not isinstance(cwd, str) or not os.path.isdir(cwd):
                raise ValueError(f"cwd {cwd!r} is not a directory")
            result = report(request["cmd"], cwd)
            del result["details"]
        except ValueError as exc:
            failures += 1
            result = {"error": f"line {number}: {exc}"}
        sys.stdout.write(json.dumps(result) + "\n")
    return 1 if failures else 0


def run(*, command: str | None, cwd: str, json: bool, batch: bool) -> int:
    if batch:
        if command is not None:
            raise FlockguardError("usage", "--batch reads commands from stdin; give no COMMAND")
        return _batch()
    if command is None:
        raise FlockguardError("usage", "no command given", "flockguard shell 'cat .env'")
    if not os.path.isdir(cwd):
        raise FlockguardError("no-such-directory", f"--cwd {cwd}: not a directory")
    result = report(command, cwd)
    if json:
        print(_dumps(result))
        return 0
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False)
    for key, colour in (("reads", "cyan"), ("writes", "yellow"), ("deletes", "red")):
        paths = ", ".join(escape(p) for p in result[key]) or "—"
        console.print(f"[{colour}]{key:<8}[/] {paths}")
    for item in result["details"]["dynamic"]:
        console.print(f"[magenta]dynamic [/] {item['kind']} of {escape(item['could_be'])}")
    for note in result["details"]["notes"]:
        console.print(f"[dim]note     {escape(note)}[/]")
    if result["parse_error"]:
        console.print(f"[red]parse error[/] {escape(result['details']['parse_error'])}")
    return 0


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2)
