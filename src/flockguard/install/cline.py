"""Cline: one executable per event in ``.clinerules/hooks/`` (hook-protocols.md §8.1).

Cline has no hook config file: a hook is an executable named after its event. Ours are small
shell scripts that ``exec`` the hook; a marker line marks them, so uninstall deletes exactly
those and never a person's own script. A person's script already holding one of the names is
never overwritten: install refuses and says so. Windows (``PreToolUse.ps1``) is not wired.
"""

from __future__ import annotations

import contextlib
import os
import shlex

from flockguard.errors import FlockguardError
from flockguard.install import jsonfile

NAME = "cline"
MARKER = "# flockguard:managed"
EVENTS = (
    "PreToolUse", "PostToolUse", "UserPromptSubmit",
    "TaskStart", "TaskResume", "TaskComplete", "TaskCancel",
)  # fmt: skip


def settings_path(root: str) -> str:
    return os.path.join(root, ".clinerules", "hooks")


def script(hook: str) -> str:
    return (
        "#!/bin/sh\n"
        f"{MARKER} (written by `flockguard init`; `flockguard uninstall` removes it)\n"
        f"exec {shlex.quote(hook)} {NAME}\n"
    )


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FlockguardError("config-unreadable", f"{path}: cannot be read: {exc}") from exc


def is_ours(text: str | None) -> bool:
    lines = (text or "").splitlines()
    return len(lines) > 1 and lines[1].startswith(MARKER)


def install(root: str, hook: str) -> bool:
    directory = settings_path(root)
    rules = os.path.dirname(directory)
    if os.path.exists(rules) and not os.path.isdir(rules):
        raise FlockguardError(
            "agent-config-conflict",
            f"{rules} is a rules file, so Cline hooks cannot live in {directory}; left unchanged",
            "turn .clinerules into a folder (move the file to .clinerules/rules.md), then run "
            "the command again",
        )
    wanted = script(hook)
    current = {event: _read(os.path.join(directory, event)) for event in EVENTS}
    foreign = [event for event, text in current.items() if text is not None and not is_ours(text)]
    if foreign:
        names = ", ".join(os.path.join(directory, event) for event in foreign)
        raise FlockguardError(
            "agent-config-conflict",
            f"{names}: a hook script that is not flockguard's; left unchanged",
            f"add `{shlex.quote(hook)} {NAME}` to it by hand (it reads the payload on stdin), "
            "or move it away and run the command again",
        )
    changed = False
    for event, text in current.items():
        if text == wanted and os.access(os.path.join(directory, event), os.X_OK):
            continue
        os.makedirs(directory, exist_ok=True)
        jsonfile.write(os.path.join(directory, event), wanted, mode=0o755)
        changed = True
    return changed


def uninstall(root: str) -> bool:
    directory = settings_path(root)
    changed = False
    for event in EVENTS:
        path = os.path.join(directory, event)
        if is_ours(_read(path)):
            os.unlink(path)
            changed = True
    if changed:
        for folder in (directory, os.path.dirname(directory)):
            with contextlib.suppress(OSError):  # left alone when it holds anything else
                os.rmdir(folder)
    return changed
