"""Windsurf (Cascade, now also "Devin Desktop"): the ``pre_*`` / ``post_*`` hooks of hooks.json.

Payloads and output as in research/hook-protocols.md §5. Windsurf reads exit codes only: exit 2
blocks a ``pre_*`` action and shows the hook's stderr to the agent (and the person); any other
exit lets it through, and stdout/stderr are shown in the Cascade panel when the entry has
``show_output: true``. There is no ``ask`` (``CAN_ASK = False``: checkpoint findings arrive here
already turned into a refusal with an approval id) and no way to add context for the model.
"""

from __future__ import annotations

from flockguard import model
from flockguard.errors import InputError
from flockguard.model import ALLOW, ASK, DENY, WARN, Action
from flockguard.platforms import agent_id, cut

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from flockguard.model import Decision

NAME = "windsurf"
CAN_ASK = False

# event -> (kind, the tool_info key holding its path or command)
PRE_EVENTS: dict[str, tuple[str, str]] = {
    "pre_read_code": (model.READ, "file_path"),  # file_path may name a directory (§5.4)
    "pre_write_code": (model.WRITE, "file_path"),
    "pre_run_command": (model.SHELL, "command_line"),
    "pre_mcp_tool_use": (model.OTHER, ""),
    "pre_user_prompt": (model.PROMPT, "user_prompt"),
}
POST_EVENTS = frozenset(
    {
        "post_read_code",
        "post_write_code",
        "post_run_command",
        "post_mcp_tool_use",
        "post_cascade_response",
        "post_cascade_response_with_transcript",
    }
)
# event -> the tool name recorded in the audit log
TOOLS = {
    "pre_read_code": "read_code",
    "post_read_code": "read_code",
    "pre_write_code": "write_code",
    "post_write_code": "write_code",
    "pre_run_command": "run_command",
    "post_run_command": "run_command",
}
OUTPUT_LIMIT = 9000  # no documented cap; kept short enough for the Cascade panel


def _text(mapping: Mapping[str, Any], key: str, where: str, kind: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"Windsurf {where} payload has no tool_info {key!r} string", kind)
    if "\x00" in value:
        raise InputError(f"Windsurf {where} payload has a NUL byte in {key!r}", kind)
    return value


def _tool(event: str, info: Mapping[str, Any]) -> str:
    if "mcp_tool" in event:
        server, tool = info.get("mcp_server_name"), info.get("mcp_tool_name")
        if isinstance(server, str) and isinstance(tool, str):
            return f"mcp:{server}/{tool}"
        return "mcp"
    return TOOLS.get(event, "")


def parse(payload: Mapping[str, Any]) -> Action:
    event = payload.get("agent_action_name")
    if not isinstance(event, str) or not event:
        raise InputError("Windsurf payload has no 'agent_action_name'", model.UNKNOWN)
    trajectory = payload.get("trajectory_id")
    trajectory = trajectory if isinstance(trajectory, str) else ""
    info = payload.get("tool_info")
    kind, key = PRE_EVENTS.get(event, (model.POST if event in POST_EVENTS else model.OTHER, ""))
    if not isinstance(info, dict):
        if event in PRE_EVENTS:
            raise InputError(f"Windsurf {event} payload has no 'tool_info' object", kind)
        info = {}
    # only pre/post_run_command carry a cwd; else the hook's own cwd counts, which Windsurf
    # sets to the entry's working_directory or the workspace root (§5.6)
    cwd = info.get("cwd")
    common: dict[str, Any] = {
        "platform": NAME,
        "event": event,
        "kind": kind,
        "tool": _tool(event, info),
        "session": trajectory,
        "agent": agent_id(NAME, trajectory),
        "cwd": cwd if isinstance(cwd, str) else "",
        "raw": payload,
    }
    if kind == model.READ:
        return Action(reads=(_text(info, key, event, kind),), **common)
    if kind == model.WRITE:
        return Action(writes=(_text(info, key, event, kind),), **common)
    if kind == model.SHELL:
        # `command_line` per the docs; some older payloads carried `command` (§5.4)
        key = key if key in info or "command" not in info else "command"
        return Action(command=_text(info, key, event, kind), **common)
    if kind == model.PROMPT:
        prompt = info.get("user_prompt")
        return Action(text=prompt if isinstance(prompt, str) else "", **common)
    return Action(**common)


def render(decision: Decision) -> tuple[int, str, str]:
    action = decision.action
    outcome = decision.outcome
    shown = "\n".join(f.message for f in decision.findings if f.effective == outcome)
    warnings = "\n".join(f.message for f in decision.findings if f.effective == WARN)
    if outcome in (DENY, ASK) and action.kind != model.POST:
        # ask only survives here outside a flockguard repository (no approval ids there):
        # refusing is the safe reading. Exit 2 blocks pre_* events; stderr reaches the agent.
        return 2, "", cut(shown, OUTPUT_LIMIT)
    # exit 0: shown in the Cascade panel when show_output is on (whether the model also reads
    # stdout is UNCONFIRMED). Windsurf has no context channel: a lock-table change rides along.
    text = "\n".join(part for part in (warnings, decision.context) if part)
    if outcome != ALLOW and not text:
        text = shown
    return 0, cut(text, OUTPUT_LIMIT), ""


def render_unreadable(message: str, *, deny: bool) -> tuple[int, str, str]:
    """The answer when the payload itself is unusable: exit 2 blocks whatever the event is."""
    if deny:
        return 2, "", cut(message, OUTPUT_LIMIT)
    return 0, cut(message, OUTPUT_LIMIT), ""
