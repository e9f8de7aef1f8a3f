"""One module per agent platform: ``parse(payload) -> Action`` and ``render(decision)``.

Registered by dotted path and imported on first use, so the hook loads only its own platform.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Protocol

    from flockguard.model import Action, Decision

    # (exit code, stdout, stderr) in the platform's dialect
    Response = tuple[int, str, str]

    class Platform(Protocol):
        NAME: str
        CAN_ASK: bool  # False: checkpoint findings become a refusal with an approval id

        def parse(self, payload: Mapping[str, Any]) -> Action: ...

        def render(self, decision: Decision) -> Response: ...

        def render_unreadable(self, message: str, *, deny: bool) -> Response: ...


def identity(
    platform: str, event: str, session: str, cwd: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """The Action fields every adapter fills alike; the agent id is the platform and the first
    8 characters of its session (conversation, trajectory, task) id."""
    return {
        "platform": platform,
        "event": event,
        "session": session,
        "agent": f"{platform}:{session[:8]}",
        "cwd": cwd,
        "raw": payload,
    }


def dumps(document: dict[str, Any]) -> str:
    """A platform answer as JSON; ASCII escapes, so even a lone surrogate can be written."""
    import json

    return json.dumps(document)


def cut(text: str, limit: int) -> str:
    """``text`` within an agent's output cap, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


PLATFORMS: dict[str, str] = {
    "claude-code": "flockguard.platforms.claude_code",
    "gemini-cli": "flockguard.platforms.gemini_cli",
    "windsurf": "flockguard.platforms.windsurf",
    "cursor": "flockguard.platforms.cursor",
    "codex": "flockguard.platforms.codex",
    "copilot": "flockguard.platforms.copilot",
    "cline": "flockguard.platforms.cline",
    "kiro": "flockguard.platforms.kiro",
    "opencode": "flockguard.platforms.opencode",
}


def load(name: str) -> Platform:
    """The platform module for ``name``; raises KeyError for an unknown name."""
    module: Platform = __import__(PLATFORMS[name], fromlist=["parse"])
    return module
