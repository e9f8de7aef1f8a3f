"""Tracebacks go to a file, never onto an agent's or a person's screen."""

from __future__ import annotations

import os
import sys
import time

from flockguard._version import __version__


def write(directory: str, name: str, error: BaseException) -> str:
    """Append ``error``'s traceback to ``directory/name``; returns the path (or why not)."""
    import traceback

    path = os.path.join(directory, name)
    try:
        os.makedirs(directory, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(
                f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} pid {os.getpid()} "
                f"flockguard {__version__} Python {sys.version.split()[0]}\n"
            )
            handle.write("".join(traceback.format_exception(error)))
    except OSError as exc:
        return f"(no crash log: {path}: {exc.strerror})"
    return path


def user_state_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "flockguard")
