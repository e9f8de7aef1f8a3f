"""Kiro CLI 3.0: ``.kiro/hooks/flockguard.json`` (hook-protocols.md §9.3).

The v3 standalone hook file (``{"version": "v1", "hooks": [...]}``) applies to every agent in
the workspace. Kiro CLI 2.x only reads hooks embedded in each agent's config
(``.kiro/agents/<agent>.json``): those are not written here; a 2.x user adds
``flockguard-hook kiro`` to the agent's ``preToolUse`` hooks by hand. Our entries carry a marker
comment at the end of their command; uninstall removes exactly those.
"""

from __future__ import annotations

import contextlib
import os
import shlex

from flockguard.install import jsonfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "kiro"
MARKER = "# flockguard:managed"
TIMEOUT = 10  # seconds
# trigger -> matcher (a regex on the tool name; None: the trigger takes none)
TRIGGERS: dict[str, str | None] = {
    "PreToolUse": ".*",
    "PostToolUse": ".*",
    "UserPromptSubmit": None,
    "SessionStart": None,
}


def settings_path(root: str) -> str:
    return os.path.join(root, ".kiro", "hooks", "flockguard.json")


def command(hook: str) -> str:
    return f"{shlex.quote(hook)} {NAME} {MARKER}"


def is_ours(entry: object) -> bool:
    action = entry.get("action") if isinstance(entry, dict) else None
    return (
        isinstance(action, dict)
        and isinstance(action.get("command"), str)
        and action["command"].rstrip().endswith(MARKER)
    )


def _entry(hook: str, trigger: str, matcher: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": f"flockguard-{trigger}", "trigger": trigger}
    if matcher:
        entry["matcher"] = matcher
    entry["action"] = {"type": "command", "command": command(hook)}
    entry["timeout"] = TIMEOUT
    entry["enabled"] = True
    return entry


def _entries(document: dict[str, Any] | None) -> list[Any]:
    hooks = (document or {}).get("hooks")
    return hooks if isinstance(hooks, list) else []


def wired(document: dict[str, Any], hook: str) -> dict[str, Any]:
    kept = [entry for entry in _entries(document) if not is_ours(entry)]
    ours = [_entry(hook, trigger, matcher) for trigger, matcher in TRIGGERS.items()]
    return {"version": document.get("version", "v1"), **document, "hooks": [*kept, *ours]}


def install(root: str, hook: str) -> bool:
    path = settings_path(root)
    text = jsonfile.read_text(path)
    document = None if text is None else jsonfile.parse(path, text)
    new = wired(document or {}, hook)
    ours = [entry for entry in _entries(document) if is_ours(entry)]
    if document is not None and ours == [e for e in _entries(new) if is_ours(e)]:
        return False
    if not ours:
        jsonfile.keep_pristine(root, NAME, text)
    style = jsonfile.Style.of(text) if text else jsonfile.Style()
    jsonfile.write(path, style.dump(new))
    return True


def uninstall(root: str) -> bool:
    path = settings_path(root)
    document, style = jsonfile.read(path)
    entries = _entries(document)
    if document is None or not any(is_ours(entry) for entry in entries):
        return False
    new = {**document, "hooks": [entry for entry in entries if not is_ours(entry)]}
    known, before = jsonfile.pristine(root, NAME)
    if known and before is not None and jsonfile.parse(path, before) == new:
        jsonfile.write(path, before)  # nothing else changed: the very bytes we found
        return True
    if not new["hooks"] and set(new) <= {"version", "hooks"}:
        os.unlink(path)  # only our entries were in it: leave no empty file behind
        for directory in (os.path.dirname(path), os.path.dirname(os.path.dirname(path))):
            with contextlib.suppress(OSError):  # the directory may hold other files
                os.rmdir(directory)
        return True
    jsonfile.write(path, style.dump(new))
    return True
