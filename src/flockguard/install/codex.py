"""Codex: hook entries in ``.codex/hooks.json`` (research/hook-protocols.md §6.1-6.2).

The layout is Claude Code's (event -> matcher groups -> handlers), but Codex rejects a file with
root keys other than ``hooks`` (and ``description``), so nothing else is ever added. Codex runs a
handler's command through ``$SHELL -lc``, so our handlers are recognised by a trailing shell
comment, and uninstall removes exactly those. Codex runs project hooks only in a trusted project,
after they are reviewed in its ``/hooks`` view.
"""

from __future__ import annotations

import os
import shlex

from flockguard.install import jsonfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "codex"
MARKER = "# flockguard:managed"
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


def command(hook: str) -> str:
    return f"{shlex.quote(hook)} {NAME} {MARKER}"


def is_ours(handler: object) -> bool:
    return (
        isinstance(handler, dict)
        and isinstance(handler.get("command"), str)
        and handler["command"].rstrip().endswith(MARKER)
    )


def _handler(hook: str) -> dict[str, Any]:
    # Codex has no fail-closed switch: a crashed or timed-out hook lets the call through
    return {"type": "command", "command": command(hook), "timeout": TIMEOUT}


def _without_ours(hooks: dict[str, Any]) -> dict[str, Any]:
    """``hooks`` with our handlers removed, and groups/events we emptied dropped."""
    kept: dict[str, Any] = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            kept[event] = groups
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
                    matcher = group.get("matcher")
                    found.setdefault(event, []).append((matcher, handler))
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
