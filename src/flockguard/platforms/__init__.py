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


ID_LIMIT = 64  # longer session ids (or odd characters) are hashed, whole
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def agent_id(platform: str, session: str) -> str:
    """``platform:session`` — the whole session (conversation, trajectory, task) id, never a
    prefix: hosts hand out time-ordered ids (UUIDv7, ``ses_…``) whose first characters are
    shared by every session started in the same second. A long id, or one with characters a
    file name or a message should not carry, becomes its first 16 plain characters and a
    BLAKE2 hash of all of it. A host that sends no id is told apart by its process
    (``platform:@proc-…``, a spelling no session id can produce)."""
    if not session:
        from flockguard.locking.liveness import host_label

        # `@` is no plain character: no session id, plain or hashed, can spell this
        return f"{platform}:@{host_label()}"
    if len(session) <= ID_LIMIT and _PLAIN.issuperset(session):
        return f"{platform}:{session}"
    from _blake2 import blake2b  # the builtin module: hashlib would load OpenSSL (~10 ms)

    digest = blake2b(session.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    head = "".join(c for c in session if c in _PLAIN)[:16]
    return f"{platform}:{head}~{digest}"


def identity(
    platform: str, event: str, session: str, cwd: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """The Action fields every adapter fills alike, the agent id among them (:func:`agent_id`)."""
    return {
        "platform": platform,
        "event": event,
        "session": session,
        "agent": agent_id(platform, session),
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
