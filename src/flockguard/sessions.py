"""What a session's start, prompts and end mean for the lock table.

Start: the agent learns its id and the current locks, and its shell gets FLOCKGUARD_AGENT (where
the platform lets a hook set the environment: Claude Code's CLAUDE_ENV_FILE). A prompt: the
table again, when it changed since the agent last saw it. End: the agent's locks are released.
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flockguard.config import Config
    from flockguard.model import Action

SEEN_DIR = os.path.join(".flockguard", "state", "seen")
TABLE_LIMIT = 20


def lock_table(document: dict[str, Any], me: str) -> str:
    now = time.time()
    lines = []
    for h in document.get("holders", [])[:TABLE_LIMIT]:
        if h.get("expires", 0) <= now:
            continue
        who = "you" if h["agent"] == me else h["agent"]
        lines.append(
            f"- {h['resource']}: {h['mode']} by {who}, lease ends in {h['expires'] - now:.0f}s"
        )
    for w in document.get("waiters", [])[:TABLE_LIMIT]:
        who = "you" if w["agent"] == me else w["agent"]
        lines.append(f"- {w['resource']}: {who} waits for {w['mode']} (#{w['position']})")
    if document.get("problem"):
        lines.insert(0, f"- the lock table cannot be read: {document['problem']}")
    return "\n".join(lines) if lines else "- no locks held, nobody waiting"


def _snapshot(root: str) -> dict[str, Any]:
    """The lock table as the hook sees it; an unreadable table shows as a note, not as empty."""
    from flockguard.errors import FlockguardError
    from flockguard.validators.locks import table

    try:
        return table(root)
    except FlockguardError as exc:
        return {"holders": [], "waiters": [], "problem": f"{exc.message} ({exc.hint})"}


def _mark_seen(root: str, agent: str, document: dict[str, Any]) -> None:
    directory = os.path.join(root, SEEN_DIR)
    try:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, _safe(agent)), "w", encoding="utf-8") as handle:
            handle.write(str(document.get("updated", 0)))
    except OSError:
        pass


def _safe(agent: str) -> str:
    """A file name for ``agent``; the checksum keeps `a/b` and `a_b` apart."""
    import zlib

    plain = "".join(c if c.isalnum() or c in "-_." else "_" for c in agent)
    return f"{plain[:80]}-{zlib.crc32(agent.encode('utf-8', 'surrogatepass')):08x}"


def _register(action: Action, config: Config) -> None:
    """Record the session's host process: its locks end with it, not only with their TTL."""
    from flockguard.errors import FlockguardError
    from flockguard.locking import liveness
    from flockguard.locking.manager import open_manager

    owner = liveness.host_handle()
    if not (owner and action.agent):
        return
    try:
        with open_manager(config.root) as manager:
            manager.register_session(action.agent, owner)
    except FlockguardError:
        pass  # the table's trouble is reported where locks are checked (FG904)


def start(action: Action, config: Config) -> str:
    from flockguard.briefing import briefing

    _register(action, config)
    document = _snapshot(config.root)
    _mark_seen(config.root, action.agent, document)
    env_file = os.environ.get("CLAUDE_ENV_FILE", "")
    if env_file and action.agent:
        try:
            with open(env_file, "a", encoding="utf-8") as handle:
                handle.write(f"export FLOCKGUARD_AGENT={json.dumps(action.agent)}\n")
        except OSError:
            pass
    return (
        briefing(config, action.agent)
        + "\nLocks between agents: your edits take a short write lease on each file; a file "
        "another agent holds is refused (FG701). For longer work run `flockguard lock acquire "
        "PATH --mode write --ttl 600`, renew it, and always `flockguard lock release PATH`. "
        "Current locks:\n" + lock_table(document, action.agent)
    )


def prompt(action: Action, config: Config) -> str:
    """The lock table, when it changed since this agent last saw it."""
    document = _snapshot(config.root)
    try:
        with open(
            os.path.join(config.root, SEEN_DIR, _safe(action.agent)), encoding="utf-8"
        ) as handle:
            seen = handle.read().strip()
    except OSError:
        seen = ""
    if seen == str(document.get("updated", 0)):
        return ""
    _mark_seen(config.root, action.agent, document)
    return "flockguard: the locks between agents changed:\n" + lock_table(document, action.agent)


def end(action: Action, config: Config) -> int:
    """Release everything the agent held or queued for, and forget its session."""
    if not action.agent:
        return 0
    from flockguard.locking.manager import open_manager

    with open_manager(config.root) as manager:
        return manager.release_all(action.agent, end_session=True)
