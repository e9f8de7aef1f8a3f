"""Codex: hook entries in ``.codex/hooks.json`` (research/hook-protocols.md §6.1-6.2).

The layout is Claude Code's (event -> matcher groups -> handlers), but Codex rejects a file with
root keys other than ``hooks`` (and ``description``), so nothing else is ever added. Codex runs a
handler's command through ``$SHELL -lc``, so our handlers are recognised by a trailing shell
comment, and uninstall removes exactly those. Codex runs project hooks only in a trusted project,
after they are reviewed in its ``/hooks`` view.
"""

from __future__ import annotations

import os

from flockguard.install import hookfile, jsonfile
from flockguard.install.hookfile import grouped_ours as _ours
from flockguard.install.hookfile import grouped_without_ours as _without_ours

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "codex"
TIMEOUT = 10  # seconds; a hook that times out lets the action through, so keep it short
# event -> matcher (None: the event takes no matcher, or we want every occurrence)
# (matchers are regular expressions on tool_name; apply_patch also answers to Edit and Write)
EVENTS: dict[str, str | None] = {
    "PreToolUse": ".*",
    "PostToolUse": "^(Bash|apply_patch)$",
    "SessionStart": None,
    "SessionEnd": None,
    "UserPromptSubmit": None,
}


def settings_path(root: str) -> str:
    return os.path.join(root, ".codex", "hooks.json")


def _handler(hook: str) -> dict[str, Any]:
    # Codex has no fail-closed switch: a crashed or timed-out hook lets the call through
    return {"type": "command", "command": _command(hook), "timeout": TIMEOUT}


def wired(document: dict[str, Any], hook: str) -> dict[str, Any]:
    """``document`` with exactly our entries, for ``hook``, and everything else as it was."""
    return hookfile.grouped_wired(document, EVENTS, lambda event: _handler(hook))


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
