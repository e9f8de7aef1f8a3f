"""Cursor: hook entries in ``.cursor/hooks.json`` (research/hook-protocols.md §4.1-4.2).

The file is ``{"version": 1, "hooks": {event: [handler, ...]}}`` with flat handlers (no matcher
groups). Ours are recognised by a marker comment at the end of their command; Cursor runs the
command through a shell, and were it ever split into argv instead, ``flockguard-hook`` reads only
its first argument, so the marker stays harmless either way.

Layers: a shell command fires both ``preToolUse`` (``Shell``) and ``beforeShellExecution``, so
``preToolUse`` is matched only to the tools without a granular event of ours (``Write``, ``Read``,
``Grep``, ``Delete``) and shell and MCP calls are judged once, on their granular events.
"""

from __future__ import annotations

import os

from flockguard.install import hookfile, jsonfile
from flockguard.install.hookfile import flat_ours as _ours
from flockguard.install.hookfile import flat_without_ours as _without_ours

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "cursor"
TIMEOUT = 10  # seconds
# event -> (matcher or None, failClosed): gates fail closed, so a crashed hook blocks
EVENTS: dict[str, tuple[str | None, bool]] = {
    "preToolUse": ("Write|Read|Grep|Delete", True),
    "beforeShellExecution": (None, True),
    "beforeMCPExecution": (None, True),
    "afterFileEdit": (None, False),
    "beforeSubmitPrompt": (None, False),
    "sessionStart": (None, False),
    "sessionEnd": (None, False),
}


def settings_path(root: str) -> str:
    return os.path.join(root, ".cursor", "hooks.json")


def _handler(hook: str, event: str) -> dict[str, Any]:
    matcher, fail_closed = EVENTS[event]
    handler: dict[str, Any] = {"command": _command(hook), "type": "command", "timeout": TIMEOUT}
    if matcher:
        handler["matcher"] = matcher
    if fail_closed:
        handler["failClosed"] = True
    return handler


def wired(document: dict[str, Any], hook: str) -> dict[str, Any]:
    """``document`` with exactly our entries, for ``hook``, and everything else as it was."""
    hooks = document.get("hooks")
    hooks = _without_ours(hooks) if isinstance(hooks, dict) else {}
    for event in EVENTS:
        existing = hooks.get(event)
        hooks[event] = [*(existing if isinstance(existing, list) else []), _handler(hook, event)]
    new = {**document, "hooks": hooks}
    if "version" not in new:
        new = {"version": 1, **new}
    return new


def install(root: str, hook: str) -> bool:
    return jsonfile.install_hooks(
        root, NAME, settings_path(root), lambda document: wired(document, hook), _ours
    )


def uninstall(root: str) -> bool:
    return jsonfile.uninstall_hooks(
        root,
        NAME,
        settings_path(root),
        lambda document: {**document, "hooks": _without_ours(document["hooks"])},
        empty=_only_ours_left,
    )


def _only_ours_left(document: dict[str, Any]) -> bool:
    """Nothing but the skeleton we wrote: ``{"version": 1, "hooks": {}}``."""
    rest = {k: v for k, v in document.items() if k not in ("version", "hooks")}
    return not rest and not document.get("hooks") and document.get("version", 1) == 1


def _command(hook: str) -> str:
    return hookfile.command(hook, NAME)
