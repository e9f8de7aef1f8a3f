"""Claude Code: hook entries in ``.claude/settings.json`` (research/hook-protocols.md §2.1-2.2).

Our handlers are recognised by a marker comment at the end of their shell command, so uninstall
removes exactly those and never a person's own hooks.
"""

from __future__ import annotations

import os

from flockguard.install import hookfile, jsonfile
from flockguard.install.hookfile import grouped_ours as _ours
from flockguard.install.hookfile import grouped_without_ours as _without_ours

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "claude-code"
TIMEOUT = 10  # seconds; a hook that times out lets the action through, so keep it short
# event -> matcher (None: the event takes no matcher, or we want every occurrence)
EVENTS: dict[str, str | None] = {
    "PreToolUse": "*",
    "PostToolUse": "Write|Edit|MultiEdit|NotebookEdit|Bash",
    "SessionStart": None,
    "SessionEnd": None,
    "UserPromptSubmit": None,
}


def settings_path(root: str) -> str:
    return os.path.join(root, ".claude", "settings.json")


def _handler(hook: str, event: str) -> dict[str, Any]:
    handler: dict[str, Any] = {"type": "command", "command": _command(hook), "timeout": TIMEOUT}
    if event == "PreToolUse":
        handler["onFailure"] = "block"  # Claude Code >= 2.1.295: a crashed hook blocks
    return handler


def wired(document: dict[str, Any], hook: str) -> dict[str, Any]:
    """``document`` with exactly our entries, for ``hook``, and everything else as it was."""
    return hookfile.grouped_wired(document, EVENTS, lambda event: _handler(hook, event))


def install(root: str, hook: str) -> bool:
    return jsonfile.install_hooks(
        root, NAME, settings_path(root), lambda document: wired(document, hook), _ours
    )


def uninstall(root: str) -> bool:
    return jsonfile.uninstall_hooks(
        root,
        NAME,
        settings_path(root),
        lambda document: jsonfile.hooks_without(document, _without_ours(document["hooks"])),
    )


def _command(hook: str) -> str:
    return hookfile.command(hook, NAME)
