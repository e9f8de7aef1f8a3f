"""Options several commands share."""

from __future__ import annotations

import os

from flockguard.errors import FlockguardError
from flockguard.install import INSTALLERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def add_repo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo",
        default=".",
        help="the repository (default: the git work tree around the current directory)",
    )


def add_agents(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--agents",
        default="claude-code",
        help=f"comma-separated agents to wire, or 'all' (known: {', '.join(INSTALLERS)})",
    )


def agents(value: str) -> list[str]:
    names = list(INSTALLERS) if value.strip() == "all" else [a.strip() for a in value.split(",")]
    unknown = [name for name in names if name not in INSTALLERS]
    if unknown or not names:
        raise FlockguardError(
            "unknown-agent",
            f"unknown agent {', '.join(unknown) or '(none)'!s}",
            f"known agents: {', '.join(INSTALLERS)}",
        )
    return names


def repo_root(value: str) -> str:
    from flockguard.config import find_root
    from flockguard.install.repo import find_repo

    if not os.path.isdir(value):
        raise FlockguardError("no-such-directory", f"{value}: not a directory")
    return find_root(value) or find_repo(value)
