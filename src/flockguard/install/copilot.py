"""GitHub Copilot CLI / cloud agent: ``.github/hooks/flockguard.json`` (hook-protocols.md §7.1-7.2).

Copilot reads every ``.github/hooks/*.json``; ours is a file of its own, but it is treated like
a shared one: our handlers carry a marker comment at the end of their ``bash`` command, so
uninstall removes exactly those, and a file we created goes away again. camelCase event keys
select Copilot's native payloads. Those carry no event name, so each handler names its event in
``env``. Only ``bash`` is written: the cloud agent honours nothing else, and a quoted path with
arguments is not a PowerShell command (Windows is not wired).
"""

from __future__ import annotations

import os

from flockguard.install import hookfile, jsonfile
from flockguard.install.hookfile import flat_ours as _ours
from flockguard.install.hookfile import flat_without_ours as _without_ours

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "copilot"
TIMEOUT = 10  # seconds; Copilot lets a tool call through when its hook times out
EVENT_ENV = "FLOCKGUARD_COPILOT_EVENT"  # read by flockguard.platforms.copilot
EVENTS = ("preToolUse", "postToolUse", "userPromptSubmitted", "sessionStart", "sessionEnd")


def settings_path(root: str) -> str:
    return os.path.join(root, ".github", "hooks", "flockguard.json")


def _handler(hook: str, event: str) -> dict[str, Any]:
    # no matcher: every tool reaches flockguard, which decides what matters
    return {
        "type": "command",
        "bash": _command(hook),
        "env": {EVENT_ENV: event},
        "timeoutSec": TIMEOUT,
    }


def wired(document: dict[str, Any], hook: str) -> dict[str, Any]:
    """``document`` with exactly our handlers, for ``hook``, and everything else as it was."""
    hooks = document.get("hooks")
    hooks = _without_ours(hooks) if isinstance(hooks, dict) else {}
    for event in EVENTS:
        existing = hooks.get(event)
        hooks[event] = [*(existing if isinstance(existing, list) else []), _handler(hook, event)]
    return {"version": document.get("version", 1), **document, "hooks": hooks}


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
        empty=lambda new: not new.get("hooks") and set(new) <= {"version", "hooks"},
        prune=2,
    )


def _command(hook: str) -> str:
    return hookfile.command(hook, NAME)
