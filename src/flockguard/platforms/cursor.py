"""Cursor (IDE agent and CLI): the hooks of ``.cursor/hooks.json``.

Payloads and output as in research/hook-protocols.md §4. Output is flat snake_case JSON on exit 0.
On a refusal the model sees ``user_message`` (``agent_message`` was never observed reaching it, so
it carries the same text). Cursor's ``ask`` behaved like deny in live tests: ``CAN_ASK`` is False
and checkpoint findings come back as a refusal carrying an approval id. Our handlers run with
``failClosed``, under which an empty answer blocks, so every gate gets an explicit ``permission``.

One shell command fires both ``preToolUse`` (tool ``Shell``) and ``beforeShellExecution``. The
installer keeps our ``preToolUse`` off ``Shell`` with its matcher, so as installed a command is
judged once, on the granular event. A ``preToolUse`` ``Shell`` that arrives anyway is judged too:
Cursor also runs Claude Code's hook files (research §1.2), mapped onto ``preToolUse`` alone, and
``flockguard.hook`` hands those payloads to this module, so skipping it would let shell through.
MCP calls carry nothing flockguard judges; ``beforeMCPExecution`` records them.
"""

from __future__ import annotations

from flockguard import model
from flockguard.errors import InputError
from flockguard.model import ALLOW, ASK, DENY, WARN, Action
from flockguard.platforms import cut, dumps, identity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from flockguard.model import Decision

NAME = "cursor"
CAN_ASK = False

# preToolUse tool -> the tool_input keys that may hold its path, most likely first
PATH_KEYS = ("file_path", "path", "target_file")
WRITE_TOOLS = frozenset({"Write", "Edit", "MultiEdit"})
DELETE_TOOLS = frozenset({"Delete"})
READ_TOOLS = frozenset({"Read"})
SEARCH_TOOLS = frozenset({"Grep"})
SHELL_TOOLS = frozenset({"Shell", "Bash"})  # Bash: a Claude Code name, should one come through
# Claude Code's event names, should Cursor pass them on when it runs Claude Code's hook files
CLAUDE_EVENTS = {"PreToolUse": "preToolUse", "PostToolUse": "postToolUse",
                 "UserPromptSubmit": "beforeSubmitPrompt", "SessionStart": "sessionStart",
                 "SessionEnd": "sessionEnd"}  # fmt: skip
# events whose answer is a permission
GATES = frozenset({"preToolUse", "beforeShellExecution", "beforeMCPExecution", "beforeReadFile"})
POST_EVENTS = frozenset({"postToolUse", "afterFileEdit", "afterShellExecution"})
EVENTS = {
    "sessionStart": model.SESSION_START,
    "sessionEnd": model.SESSION_END,
    "beforeSubmitPrompt": model.PROMPT,
}
OUTPUT_LIMIT = 9000  # Cursor documents no cap; keep answers to a readable size


def _text(mapping: Mapping[str, Any], key: str, where: str, kind: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"Cursor {where} payload has no {key!r} string", kind)
    if "\x00" in value:
        raise InputError(f"Cursor {where} payload has a NUL byte in {key!r}", kind)
    return value


def _path(tool_input: Mapping[str, Any], where: str, kind: str) -> str:
    for key in PATH_KEYS:
        if tool_input.get(key):
            return _text(tool_input, key, where, kind)
    raise InputError(f"Cursor {where} payload has no {PATH_KEYS[0]!r} string", kind)


def _cwd(payload: Mapping[str, Any], tool_input: Mapping[str, Any] | None = None) -> str:
    """The payload's cwd; Cursor often sends it empty, so fall back to the first workspace root."""
    for value in (payload.get("cwd"), (tool_input or {}).get("cwd")):
        if isinstance(value, str) and value:
            return value
    roots = payload.get("workspace_roots")
    if isinstance(roots, list) and roots and isinstance(roots[0], str):
        return roots[0]
    return ""


def _tool(payload: Mapping[str, Any], event: str, common: dict[str, Any]) -> Action:
    tool = payload.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise InputError(f"Cursor {event} payload has no 'tool_name'", model.UNKNOWN)
    if tool in WRITE_TOOLS:
        kind = model.WRITE
    elif tool in DELETE_TOOLS:
        kind = model.DELETE
    elif tool in READ_TOOLS:
        kind = model.READ
    elif tool in SEARCH_TOOLS:
        kind = model.SEARCH
    elif tool in SHELL_TOOLS:
        kind = model.SHELL
    else:
        kind = model.OTHER  # Task, MCP:<tool>, ...
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, dict):
        if kind != model.OTHER:
            raise InputError(f"Cursor {event} payload for {tool} has no 'tool_input' object", kind)
        tool_input = {}
    common["cwd"] = _cwd(payload, tool_input)
    where = f"{event} {tool}"
    fields: dict[str, Any] = {}
    if kind == model.WRITE:
        fields["writes"] = (_path(tool_input, where, kind),)
    elif kind == model.DELETE:
        fields["deletes"] = (_path(tool_input, where, kind),)
    elif kind == model.READ:
        fields["reads"] = (_path(tool_input, where, kind),)
    elif kind == model.SEARCH:
        scope = next((tool_input[k] for k in PATH_KEYS if tool_input.get(k)), None)
        fields["reads"] = (_path(tool_input, where, kind) if scope else ".",)
        if tool_input.get("glob"):
            fields["globs"] = (_text(tool_input, "glob", where, kind),)
    elif kind == model.SHELL:
        fields["command"] = _text(tool_input, "command", where, kind)
    if event != "preToolUse":
        kind = model.POST  # already done: recorded, not judged
    return Action(kind=kind, tool=tool, **fields, **common)


def parse(payload: Mapping[str, Any]) -> Action:
    event = payload.get("hook_event_name")
    if not isinstance(event, str) or not event:
        raise InputError("Cursor payload has no 'hook_event_name'", model.UNKNOWN)
    event = CLAUDE_EVENTS.get(event, event)
    session = payload.get("conversation_id") or payload.get("session_id")
    session = session if isinstance(session, str) else ""
    common = identity(NAME, event, session, _cwd(payload), payload)
    if event in ("preToolUse", "postToolUse"):
        return _tool(payload, event, common)
    if event == "beforeShellExecution":
        command = _text(payload, "command", event, model.SHELL)
        return Action(kind=model.SHELL, tool="Shell", command=command, **common)
    if event == "beforeReadFile":
        path = _text(payload, "file_path", event, model.READ)
        return Action(kind=model.READ, tool="Read", reads=(path,), **common)
    if event == "afterFileEdit":
        path = _text(payload, "file_path", event, model.POST)
        return Action(kind=model.POST, tool="Write", writes=(path,), **common)
    if event == "afterShellExecution":
        ran = payload.get("command")
        ran = ran if isinstance(ran, str) else ""
        return Action(kind=model.POST, tool="Shell", command=ran, **common)
    if event == "beforeMCPExecution":
        name = payload.get("tool_name")
        return Action(kind=model.OTHER, tool=name if isinstance(name, str) else "MCP", **common)
    kind = EVENTS.get(event, model.OTHER)
    prompt = payload.get("prompt")
    return Action(kind=kind, text=prompt if isinstance(prompt, str) else "", **common)


def _deny(reason: str) -> dict[str, Any]:
    # the model reads user_message; agent_message is what the docs promise it, so say it twice
    return {"permission": "deny", "user_message": reason, "agent_message": reason}


def _blocking(message: str) -> tuple[int, str, str]:
    """Block whatever the event: exit 2. Cursor shows exit 2's stdout verbatim as the reason."""
    text = cut(message, OUTPUT_LIMIT)
    return 2, text, text


def render(decision: Decision) -> tuple[int, str, str]:
    action = decision.action
    outcome = decision.outcome
    shown = "\n".join(f.message for f in decision.findings if f.effective == outcome)
    warnings = "\n".join(f.message for f in decision.findings if f.effective == WARN)
    event = action.event
    if event in GATES:
        if outcome in (DENY, ASK):  # ASK only outside a repository, where nobody can approve
            return 0, dumps(_deny(cut(shown, OUTPUT_LIMIT))), ""
        if outcome == WARN:
            half = cut(shown, OUTPUT_LIMIT // 2)
            return (
                0,
                dumps({"permission": "allow", "user_message": half, "agent_message": half}),
                "",
            )
        return 0, dumps({"permission": "allow"}), ""
    if event == "beforeSubmitPrompt":
        if outcome == DENY:
            return 0, dumps({"continue": False, "user_message": cut(shown, OUTPUT_LIMIT)}), ""
        return 0, dumps({"continue": True}), ""
    if outcome == DENY and event not in EVENTS and event not in POST_EVENTS:
        return _blocking(shown)  # an event we do not know, refused
    context = "\n".join(part for part in (decision.context, warnings) if part)
    if context and event in ("sessionStart", "postToolUse"):
        return 0, dumps({"additional_context": cut(context, OUTPUT_LIMIT)}), ""
    if outcome != ALLOW and event not in EVENTS and event not in POST_EVENTS:
        return (
            0,
            dumps({"permission": "allow", "user_message": cut(shown or warnings, OUTPUT_LIMIT)}),
            "",
        )
    return 0, "{}", ""


def render_unreadable(message: str, *, deny: bool) -> tuple[int, str, str]:
    """The answer when the payload itself is unusable, so the event is unknown.

    Exit 2 blocks whatever the event (and is decisive under ``failClosed``).
    """
    if deny:
        return _blocking(message)
    text = cut(message, OUTPUT_LIMIT)
    return 0, dumps({"permission": "allow", "user_message": text, "agent_message": text}), ""
