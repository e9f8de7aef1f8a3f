"""The repository side of ``flockguard init``: policy file, state directory, .gitignore."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from flockguard.config import CONFIG_FILE, STATE_DIR
from flockguard.defaults import CONFIG_TOML
from flockguard.errors import FlockguardError

GITIGNORE_LINE = ".flockguard/state/"


def find_repo(start: str) -> str:
    """The git work tree containing ``start``, else ``start`` itself."""
    try:
        out = subprocess.run(
            ["git", "-C", start, "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return os.path.abspath(start)
    return out.stdout.strip() if out.returncode == 0 else os.path.abspath(start)


def hook_command() -> str:
    """Absolute path of the ``flockguard-hook`` installed beside this interpreter."""
    beside = os.path.join(os.path.dirname(sys.executable), "flockguard-hook")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("flockguard-hook")
    if found:
        return os.path.abspath(found)
    raise FlockguardError(
        "hook-not-found",
        "flockguard-hook is not installed beside this Python, nor on PATH",
        "install flockguard with pip into the environment agents will run it from",
    )


def write_policy(root: str) -> bool:
    """Write the default policy unless one exists: a person's policy is never overwritten."""
    path = os.path.join(root, CONFIG_FILE)
    if os.path.exists(path):
        return False
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(CONFIG_TOML)
    return True


def make_state(root: str) -> None:
    os.makedirs(os.path.join(root, STATE_DIR), exist_ok=True)


def ignore_state(root: str) -> bool:
    """Add ``.flockguard/state/`` to .gitignore once."""
    path = os.path.join(root, ".gitignore")
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = ""
    lines = {line.strip() for line in text.splitlines()}
    if {GITIGNORE_LINE, "/" + GITIGNORE_LINE, GITIGNORE_LINE.rstrip("/")} & lines:
        return False
    prefix = "" if not text or text.endswith("\n") else "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{prefix}# flockguard's runtime state (audit log, locks)\n{GITIGNORE_LINE}\n")
    return True
