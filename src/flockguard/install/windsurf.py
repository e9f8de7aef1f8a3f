"""Windsurf (Cascade): hook entries in ``.windsurf/hooks.json`` (research/hook-protocols.md §5.1-2).

Layout: ``{"hooks": {event: [{"command": ..., "show_output": ...}]}}``, no matchers and no
timeout key. Our handlers are recognised by a trailing ``# flockguard:managed`` in their command.
Windsurf's docs do not say whether the command goes through a shell (UNCONFIRMED): through one
it is a comment; split into words without one it becomes two extra arguments, which
``flockguard-hook`` ignores (it reads only its first argument). Either way it runs the same.
The Windsurf -> Devin Desktop rename may move this file to ``.devin/hooks.json`` (UNCONFIRMED).
"""

from __future__ import annotations

import os
import shlex

from flockguard.install import jsonfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "windsurf"
MARKER = "# flockguard:managed"
# Windsurf has no matchers: every event we take runs for every action of its kind. There are
# no session events; the trajectory id tells agents apart.
EVENTS = (
    "pre_read_code",
    "pre_write_code",
    "pre_run_command",
    "pre_mcp_tool_use",
    "pre_user_prompt",
    "post_write_code",
    "post_run_command",
)


def settings_path(root: str) -> str:
    return os.path.join(root, ".windsurf", "hooks.json")


def command(hook: str) -> str:
    return f"{shlex.quote(hook)} {NAME} {MARKER}"


def is_ours(handler: object) -> bool:
    return (
        isinstance(handler, dict)
        and isinstance(handler.get("command"), str)
        and handler["command"].rstrip().endswith(MARKER)
    )


def _handler(hook: str) -> dict[str, Any]:
    # show_output: a refusal's or warning's text appears in the Cascade panel (ignored by
    # Windsurf for pre_user_prompt)
    return {"command": command(hook), "show_output": True}


def _without_ours(hooks: dict[str, Any]) -> dict[str, Any]:
    """``hooks`` with our handlers removed, and events we emptied dropped."""
    kept: dict[str, Any] = {}
    for event, handlers in hooks.items():
        if not isinstance(handlers, list):
            kept[event] = handlers
            continue
        remaining = [h for h in handlers if not is_ours(h)]
        if remaining or not handlers:
            kept[event] = remaining
    return kept


def wired(document: dict[str, Any], hook: str) -> dict[str, Any]:
    """``document`` with exactly our entries, for ``hook``, and everything else as it was."""
    hooks = document.get("hooks")
    hooks = _without_ours(hooks) if isinstance(hooks, dict) else {}
    for event in EVENTS:
        existing = hooks.get(event)
        hooks[event] = [*(existing if isinstance(existing, list) else []), _handler(hook)]
    return {**document, "hooks": hooks}


def _ours(document: dict[str, Any] | None) -> dict[str, list[Any]]:
    hooks = (document or {}).get("hooks")
    found: dict[str, list[Any]] = {}
    for event, handlers in (hooks if isinstance(hooks, dict) else {}).items():
        for handler in handlers if isinstance(handlers, list) else []:
            if is_ours(handler):
                found.setdefault(event, []).append(handler)
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
