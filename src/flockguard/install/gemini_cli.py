"""Gemini CLI: hook entries in ``.gemini/settings.json`` (research/hook-protocols.md §3.1-3.2).

Same layout as Claude Code's (event -> groups of ``{matcher, hooks: [handler]}``). Gemini runs a
command through ``bash -c`` (PowerShell on Windows), so, as for Claude Code, our handlers are
recognised by a trailing ``# flockguard:managed`` comment in their command; PowerShell reads
``#`` as a comment too. Project hooks run only in a trusted folder, and Gemini warns once when
they change.
"""

from __future__ import annotations

import os
import shlex

from flockguard.install import jsonfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "gemini-cli"
MARKER = "# flockguard:managed"
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


def command(hook: str) -> str:
    return f"{shlex.quote(hook)} {NAME} {MARKER}"


def is_ours(handler: object) -> bool:
    return (
        isinstance(handler, dict)
        and isinstance(handler.get("command"), str)
        and handler["command"].rstrip().endswith(MARKER)
    )


def _handler(hook: str) -> dict[str, Any]:
    return {
        "type": "command",
        "name": HANDLER_NAME,
        "command": command(hook),
        "timeout": TIMEOUT_MS,
        "description": "flockguard: guards and locks between agents",
    }


def _without_ours(hooks: dict[str, Any]) -> dict[str, Any]:
    """``hooks`` with our handlers removed, and groups/events we emptied dropped."""
    kept: dict[str, Any] = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            kept[event] = groups  # e.g. an old `hooks.enabled` flag: not ours to touch
            continue
        new_groups = []
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(inner, list) or not any(is_ours(h) for h in inner):
                new_groups.append(group)
                continue
            remaining = [h for h in inner if not is_ours(h)]
            if remaining:
                new_groups.append({**group, "hooks": remaining})
        if new_groups or not groups:
            kept[event] = new_groups
    return kept


def wired(document: dict[str, Any], hook: str) -> dict[str, Any]:
    """``document`` with exactly our entries, for ``hook``, and everything else as it was."""
    hooks = document.get("hooks")
    hooks = _without_ours(hooks) if isinstance(hooks, dict) else {}
    for event, matcher in EVENTS.items():
        group: dict[str, Any] = {"matcher": matcher} if matcher else {}
        group["hooks"] = [_handler(hook)]
        existing = hooks.get(event)
        hooks[event] = [*(existing if isinstance(existing, list) else []), group]
    return {**document, "hooks": hooks}


def _ours(document: dict[str, Any] | None) -> dict[str, list[Any]]:
    hooks = (document or {}).get("hooks")
    found: dict[str, list[Any]] = {}
    for event, groups in (hooks if isinstance(hooks, dict) else {}).items():
        for group in groups if isinstance(groups, list) else []:
            inner = group.get("hooks") if isinstance(group, dict) else None
            for handler in inner if isinstance(inner, list) else []:
                if is_ours(handler):
                    found.setdefault(event, []).append((group.get("matcher"), handler))
    return found


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
