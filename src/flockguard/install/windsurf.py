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

from flockguard.install import hookfile, jsonfile
from flockguard.install.hookfile import flat_ours as _ours
from flockguard.install.hookfile import flat_without_ours as _without_ours

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "windsurf"
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


def _handler(hook: str) -> dict[str, Any]:
    # show_output: a refusal's or warning's text appears in the Cascade panel (ignored by
    # Windsurf for pre_user_prompt)
    return {"command": _command(hook), "show_output": True}


def wired(document: dict[str, Any], hook: str) -> dict[str, Any]:
    """``document`` with exactly our entries, for ``hook``, and everything else as it was."""
    hooks = document.get("hooks")
    hooks = _without_ours(hooks) if isinstance(hooks, dict) else {}
    for event in EVENTS:
        existing = hooks.get(event)
        hooks[event] = [*(existing if isinstance(existing, list) else []), _handler(hook)]
    return {**document, "hooks": hooks}


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
