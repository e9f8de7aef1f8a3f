"""``flockguard precommit``: refuse a commit that touches paths another agent holds (FG703).

Run by git as `.git/hooks/pre-commit` (``--install`` writes it) or by the pre-commit framework
(`.pre-commit-hooks.yaml`). The committing agent is ``--agent`` or ``$FLOCKGUARD_AGENT``; its own
locks never stop it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

from flockguard.cli import options
from flockguard.errors import FlockguardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

MARKER = "# flockguard:managed pre-commit"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", help="paths to check (default: what is staged)")
    parser.add_argument("--agent", default=os.environ.get("FLOCKGUARD_AGENT", ""))
    parser.add_argument("--install", action="store_true", help="write .git/hooks/pre-commit")
    options.add_repo(parser)


def staged(root: str) -> list[str]:
    proc = subprocess.run(
        ["git", "-C", root, "diff", "--cached", "--name-only", "-z", "--diff-filter=ACDMRT"],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise FlockguardError("git-failed", proc.stderr.decode(errors="replace").strip())
    return [p for p in proc.stdout.decode(errors="surrogateescape").split("\0") if p]


def install_hook(root: str) -> int:
    hooks = subprocess.run(
        ["git", "-C", root, "rev-parse", "--git-path", "hooks"],
        capture_output=True,
        text=True,
        check=False,
    )
    if hooks.returncode != 0:
        raise FlockguardError("not-a-git-repository", f"{root}: not a git repository")
    directory = os.path.join(root, hooks.stdout.strip())
    path = os.path.join(directory, "pre-commit")
    flockguard = os.path.join(os.path.dirname(sys.executable), "flockguard")
    script = f"#!/bin/sh\n{MARKER}\nexec {flockguard} precommit\n"
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as handle:
            existing = handle.read()
        if MARKER not in existing:
            raise FlockguardError(
                "pre-commit-exists",
                f"{path} exists and is not flockguard's; left unchanged",
                f"add `{flockguard} precommit` to it, or use the pre-commit framework entry",
            )
    os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(script)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    print(f"installed {path}")
    return 0


def run(*, files: list[str], agent: str, install: bool, repo: str) -> int:
    root = options.repo_root(repo)
    if install:
        return install_hook(root)
    from flockguard.locking.resources import INTENT_WRITE, WRITE, overlap
    from flockguard.validators.locks import table

    paths = [os.path.relpath(os.path.abspath(f), root) for f in files] if files else staged(root)
    now = time.time()
    try:
        document = table(root)
    except FlockguardError as exc:  # refused: a commit cannot be checked against locks unseen
        sys.stderr.write(
            f"flockguard: FG904 lock-table-unavailable — this commit is refused: {exc.message}\n"
            f"  {exc.hint}\n"
        )
        return 1
    holders = [
        h for h in document.get("holders", [])
        if h.get("mode") in (WRITE, INTENT_WRITE)
        and h.get("agent") != agent
        and h.get("expires", 0) > now
    ]  # fmt: skip
    blocked = [(p, h) for p in paths for h in holders if overlap(h["resource"], p)]
    if not blocked:
        return 0
    sys.stderr.write("flockguard: FG703 commit-touches-locked-path — this commit is refused:\n")
    for path, holder in blocked:
        sys.stderr.write(
            f"  {path}: {holder['agent']} holds {holder['mode']} on {holder['resource']} "
            f"(lease ends in {holder['expires'] - now:.0f}s)\n"
        )
    sys.stderr.write(
        "Unstage those paths (git restore --staged PATH) or wait until they are released "
        "(`flockguard status`). Rule: docs/rules/FG703.md\n"
    )
    return 1
