"""Our entries in an agent's JSON hook config, in the two layouts agents use.

*Grouped* (Claude Code, Codex, Gemini CLI): ``hooks[event] = [{matcher, hooks: [handler]}]``.
*Flat* (Cursor, Windsurf, Copilot): ``hooks[event] = [handler]``. A handler is ours when its
command ends with :data:`MARKER`, a shell comment, so removing exactly ours needs no state.
"""

from __future__ import annotations

import shlex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

MARKER = "# flockguard:managed"


def command(hook: str, platform: str) -> str:
    """How the agent runs our hook: the absolute executable, the platform, the marker."""
    return f"{shlex.quote(hook)} {platform} {MARKER}"


def is_ours(handler: object) -> bool:
    """Ours: its command (Copilot: its `bash`) ends with the marker."""
    if not isinstance(handler, dict):
        return False
    return any(
        isinstance(handler.get(key), str) and handler[key].rstrip().endswith(MARKER)
        for key in ("command", "bash")
    )


def grouped_without_ours(hooks: dict[str, Any]) -> dict[str, Any]:
    """``hooks`` with our handlers removed, and groups/events we emptied dropped."""
    kept: dict[str, Any] = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            kept[event] = groups  # e.g. an old `enabled` flag: not ours to touch
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


def grouped_ours(document: dict[str, Any] | None) -> dict[str, list[Any]]:
    """Our handlers by event, each with its group's matcher."""
    hooks = (document or {}).get("hooks")
    found: dict[str, list[Any]] = {}
    for event, groups in (hooks if isinstance(hooks, dict) else {}).items():
        for group in groups if isinstance(groups, list) else []:
            inner = group.get("hooks") if isinstance(group, dict) else None
            for handler in inner if isinstance(inner, list) else []:
                if is_ours(handler):
                    found.setdefault(event, []).append((group.get("matcher"), handler))
    return found


def flat_without_ours(hooks: dict[str, Any]) -> dict[str, Any]:
    """``hooks`` with our handlers removed, and events we emptied dropped."""
    kept: dict[str, Any] = {}
    for event, handlers in hooks.items():
        if not isinstance(handlers, list) or not any(is_ours(h) for h in handlers):
            kept[event] = handlers
            continue
        remaining = [h for h in handlers if not is_ours(h)]
        if remaining:
            kept[event] = remaining
    return kept


def flat_ours(document: dict[str, Any] | None) -> dict[str, list[Any]]:
    """Our handlers by event."""
    hooks = (document or {}).get("hooks")
    found: dict[str, list[Any]] = {}
    for event, handlers in (hooks if isinstance(hooks, dict) else {}).items():
        for handler in handlers if isinstance(handlers, list) else []:
            if is_ours(handler):
                found.setdefault(event, []).append(handler)
    return found


def grouped_wired(
    document: dict[str, Any],
    events: Mapping[str, str | None],
    handler: Callable[[str], dict[str, Any]],
) -> dict[str, Any]:
    """``document`` with exactly our groups (event -> matcher, ``handler(event)``), appended
    after everyone else's, and everything else as it was."""
    hooks = document.get("hooks")
    hooks = grouped_without_ours(hooks) if isinstance(hooks, dict) else {}
    for event, matcher in events.items():
        group: dict[str, Any] = {"matcher": matcher} if matcher else {}
        group["hooks"] = [handler(event)]
        existing = hooks.get(event)
        hooks[event] = [*(existing if isinstance(existing, list) else []), group]
    return {**document, "hooks": hooks}
