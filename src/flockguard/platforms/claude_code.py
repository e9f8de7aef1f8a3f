"""Claude Code: PreToolUse / PostToolUse / SessionStart / SessionEnd / UserPromptSubmit.

Payloads and output as in research/hook-protocols.md §2. A deny's reason reaches the model; an
ask's reason is shown to the person; a warning goes to the model as additionalContext and to the
person as systemMessage. Nothing is ever answered ``allow``: a silent hook leaves Claude's own
permission flow in charge, and an explicit allow would skip its prompts.
"""

from __future__ import annotations

from flockguard import model
from flockguard.errors import InputError
from flockguard.model import ALLOW, ASK, DENY, WARN, Action
from flockguard.platforms import agent_id, cut, dumps, identity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from flockguard.model import Decision

NAME = "claude-code"
CAN_ASK = True

# tool -> the tool_input key holding the path. VS Code runs Claude's hook files with its own
# tool ids and camelCase keys, and reads Claude's answer (research/hook-protocols.md §7.7).
WRITE_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path",
               "NotebookEdit": "notebook_path", "create_file": "filePath",
               "replace_string_in_file": "filePath", "multi_replace_string_in_file": "filePath",
               "editFiles": "filePath", "insert_edit_into_file": "filePath"}  # fmt: skip
READ_TOOLS = {"Read": "file_path", "read_file": "filePath"}
SHELL_TOOLS = frozenset({"Bash", "Monitor", "PowerShell", "run_in_terminal"})
EVENTS = {
    "SessionStart": model.SESSION_START,
    "SessionEnd": model.SESSION_END,
    "UserPromptSubmit": model.PROMPT,
}
OUTPUT_LIMIT = 9000  # Claude caps hook output at 10,000 characters


def _text(mapping: Mapping[str, Any], key: str, where: str, kind: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"Claude Code {where} payload has no {key!r} string", kind)
    if "\x00" in value:
        raise InputError(f"Claude Code {where} payload has a NUL byte in {key!r}", kind)
    return value


def _tool_kind(tool: str) -> str:
    if tool in WRITE_TOOLS:
        return model.WRITE
    if tool in READ_TOOLS:
        return model.READ
    if tool in SHELL_TOOLS:
        return model.SHELL
    return model.SEARCH if tool == "Grep" else model.OTHER


def parse(payload: Mapping[str, Any]) -> Action:
    event = payload.get("hook_event_name", payload.get("hookEventName"))  # VS Code: camelCase
    if not isinstance(event, str) or not event:
        raise InputError("Claude Code payload has no 'hook_event_name'", model.UNKNOWN)
    session = payload.get("session_id") or payload.get("sessionId")  # VS Code: camelCase
    session = session if isinstance(session, str) else ""
    cwd = payload.get("cwd")
    common = identity(NAME, event, session, cwd if isinstance(cwd, str) else "", payload)
    subagent = payload.get("agent_id")
    if isinstance(subagent, str) and subagent:
        # a subagent shares its parent's session yet acts on its own: its own locks, its id
        # made safe as a session id is (whole when short and plain, else hashed)
        common["agent"] += "/" + agent_id(NAME, subagent).partition(":")[2]
    if event not in ("PreToolUse", "PostToolUse"):
        kind = EVENTS.get(event, model.OTHER)
        prompt = payload.get("prompt")
        return Action(kind=kind, text=prompt if isinstance(prompt, str) else "", **common)
    tool = payload.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise InputError(f"Claude Code {event} payload has no 'tool_name'", model.UNKNOWN)
    kind = _tool_kind(tool)
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, dict):
        raise InputError(f"Claude Code {event} payload for {tool} has no 'tool_input' object", kind)
    where = f"{event} {tool}"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    globs: tuple[str, ...] = ()
    command = ""
    if kind == model.WRITE:
        writes = (_text(tool_input, WRITE_TOOLS[tool], where, kind),)
    elif kind == model.READ:
        reads = (_text(tool_input, READ_TOOLS[tool], where, kind),)
    elif kind == model.SEARCH:
        path = tool_input.get("path")
        reads = (_text(tool_input, "path", where, kind) if path else ".",)
        globs = (_text(tool_input, "glob", where, kind),) if tool_input.get("glob") else ()
    elif kind == model.SHELL:
        command = _text(tool_input, "command", where, kind)
    if event == "PostToolUse":
        kind = model.POST  # already done: recorded, not judged
    return Action(
        kind=kind, tool=tool, reads=reads, writes=writes, globs=globs, command=command, **common
    )


def render(decision: Decision) -> tuple[int, str, str]:
    action = decision.action
    outcome = decision.outcome
    shown = "\n".join(f.message for f in decision.findings if f.effective == outcome)
    warnings = "\n".join(f.message for f in decision.findings if f.effective == WARN)
    event = action.event
    if event == "PreToolUse":
        if outcome in (DENY, ASK):
            return (
                0,
                dumps(
                    {
                        "hookSpecificOutput": {
                            "hookEventName": event,
                            "permissionDecision": outcome,
                            "permissionDecisionReason": cut(shown, OUTPUT_LIMIT),
                        }
                    }
                ),
                "",
            )
        if outcome == WARN:
            # said twice (model and person): each half of the output cap
            half = cut(shown, OUTPUT_LIMIT // 2)
            specific = {"hookEventName": event, "additionalContext": half}
            return 0, dumps({"hookSpecificOutput": specific, "systemMessage": half}), ""
        return 0, "{}", ""
    if event == "UserPromptSubmit" and outcome == DENY:
        return 0, dumps({"decision": "block", "reason": cut(shown, OUTPUT_LIMIT)}), ""
    context = "\n".join(part for part in (decision.context, warnings) if part)
    if outcome == DENY and event not in EVENTS and event != "PostToolUse":
        # an event we do not know, refused: exit 2 blocks whatever the event is
        return 2, "", cut(shown, OUTPUT_LIMIT)
    if context and event in ("SessionStart", "UserPromptSubmit", "PostToolUse"):
        return (
            0,
            dumps(
                {
                    "hookSpecificOutput": {
                        "hookEventName": event,
                        "additionalContext": cut(context, OUTPUT_LIMIT),
                    }
                }
            ),
            "",
        )
    if outcome != ALLOW or warnings:
        return 0, dumps({"systemMessage": cut(shown or warnings, OUTPUT_LIMIT)}), ""
    return 0, "{}", ""


def render_unreadable(message: str, *, deny: bool) -> tuple[int, str, str]:
    """The answer when the payload itself is unusable, so the event is unknown.

    Exit 2 blocks the action whatever its event; stderr reaches the model.
    """
    if deny:
        return 2, "", cut(message, OUTPUT_LIMIT)
    return 0, dumps({"systemMessage": cut(message, OUTPUT_LIMIT)}), ""
