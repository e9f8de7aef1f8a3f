"""Gemini CLI: hook entries in ``.gemini/settings.json`` (research/hook-protocols.md §3.1-3.2).

Same layout as Claude Code's (event -> groups of ``{matcher, hooks: [handler]}``). Gemini runs a
command through ``bash -c`` (PowerShell on Windows), so, as for Claude Code, our handlers are
recognised by a trailing ``# flockguard:managed`` comment in their command; PowerShell reads
``#`` as a comment too. Project hooks run only in a trusted folder, and Gemini warns once when
they change.
"""

from __future__ import annotations

import os

from flockguard.install import hookfile, jsonfile
from flockguard.install.hookfile import grouped_ours as _ours
from flockguard.install.hookfile import grouped_without_ours as _without_ours

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "gemini-cli"
HANDLER_NAME = "flockguard"  # what `hooksConfig.disabled` would name to switch it off
TIMEOUT_MS = 10_000  # milliseconds; a hook that times out lets the action through
# event -> matcher (None: a lifecycle event, every occurrence). Tool matchers are unanchored
# regular expressions tested against the tool name; `.*` catches every tool (MCP ones too) in
# every build, where `*` relies on a special case.
EVENTS: dict[str, str | None] = {
    "BeforeTool": ".*",
    "AfterTool": "^(write_file|replace|run_shell_command)$",
    "BeforeAgent": None,
    "SessionStart": None,
    "SessionEnd": None,
}


def settings_path(root: str) -> str:
    return os.path.join(root, ".gemini", "settings.json")


def _handler(hook: str) -> dict[str, Any]:
    return {
        "type": "command",
        "name": HANDLER_NAME,
        "command": _command(hook),
        "timeout": TIMEOUT_MS,
        "description": "flockguard: guards and locks between agents",
    }


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
