"""Gemini CLI: BeforeTool / AfterTool / BeforeAgent / SessionStart / SessionEnd.

Payloads and output as in research/hook-protocols.md §3. Gemini reads a JSON object from stdout
*regardless of the exit code* (§3.5), so every answer except an unreadable payload is exit 0 and
one JSON object: ``decision`` ``deny`` (its ``reason`` reaches the model as the tool error) or
``ask`` (forces Gemini's confirmation dialog). Nothing is answered ``allow``: ``{}`` leaves
Gemini's own policy engine and confirmations in charge. An unreadable payload is exit 2 with plain
text on stderr and nothing on stdout, which Gemini turns into a deny with that text as reason.
"""

from __future__ import annotations

import os

from flockguard import model
from flockguard.errors import InputError
from flockguard.model import ALLOW, ASK, DENY, WARN, Action
from flockguard.platforms import agent_id, cut, dumps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from flockguard.model import Decision

NAME = "gemini-cli"
CAN_ASK = True

# tool -> the tool_input key holding the path. `absolute_path` was read_file's key before
# Nov 2025 (google-gemini/gemini-cli#12517): accepted as a fallback.
WRITE_TOOLS = {"write_file": "file_path", "replace": "file_path"}
READ_TOOLS = {"read_file": "file_path"}
SEARCH_TOOLS = frozenset({"grep_search", "search_file_content"})  # the latter: older name
# they return names, not contents (as Claude Code's Glob): recorded, not guarded
LISTING_TOOLS = frozenset({"glob", "list_directory"})
SHELL_TOOLS = frozenset({"run_shell_command"})
EVENTS = {
    "SessionStart": model.SESSION_START,
    "SessionEnd": model.SESSION_END,
    "BeforeAgent": model.PROMPT,
}
TOOL_EVENTS = ("BeforeTool", "AfterTool")
GLOB_CHARS = frozenset("*?[{")
OUTPUT_LIMIT = 9000  # no documented cap; kept like Claude Code's so reasons stay readable


def _text(mapping: Mapping[str, Any], key: str, where: str, kind: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"Gemini CLI {where} payload has no {key!r} string", kind)
    if "\x00" in value:
        raise InputError(f"Gemini CLI {where} payload has a NUL byte in {key!r}", kind)
    return value


def _optional(mapping: Mapping[str, Any], key: str, where: str, kind: str) -> str:
    """``mapping[key]`` when given (then it must be a usable string), else ``""``."""
    if mapping.get(key) in (None, ""):
        return ""
    return _text(mapping, key, where, kind)


def _tool_kind(tool: str) -> str:
    if tool in WRITE_TOOLS:
        return model.WRITE
    if tool in READ_TOOLS or tool == "read_many_files":
        return model.READ
    if tool in SHELL_TOOLS:
        return model.SHELL
    if tool in SEARCH_TOOLS:
        return model.SEARCH
    return model.OTHER  # glob, list_directory, mcp_<server>_<tool>, web tools, memory, ...


def _read_many(
    tool_input: Mapping[str, Any], where: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """read_many_files' ``include``: plain paths are reads; glob patterns search the workspace."""
    include = tool_input.get("include")
    if isinstance(include, str):
        include = [include]
    if not isinstance(include, list) or not include:
        raise InputError(f"Gemini CLI {where} payload has no 'include' list", model.READ)
    reads: list[str] = []
    globs: list[str] = []
    for entry in include:
        if not isinstance(entry, str) or not entry or "\x00" in entry:
            raise InputError(f"Gemini CLI {where} payload has a bad 'include' entry", model.READ)
        (globs if GLOB_CHARS & set(entry) else reads).append(entry)
    if globs:
        reads.append(".")  # the workspace, narrowed to what the patterns select
    return tuple(reads), tuple(globs)


def parse(payload: Mapping[str, Any]) -> Action:
    event = payload.get("hook_event_name")
    if not isinstance(event, str) or not event:
        raise InputError("Gemini CLI payload has no 'hook_event_name'", model.UNKNOWN)
    session = payload.get("session_id")
    session = session if isinstance(session, str) else ""
    cwd = payload.get("cwd")
    cwd = cwd if isinstance(cwd, str) else ""
    common: dict[str, Any] = {
        "platform": NAME,
        "event": event,
        "session": session,
        "agent": agent_id(NAME, session),
        "raw": payload,
    }
    if event not in TOOL_EVENTS:
        kind = EVENTS.get(event, model.OTHER)
        prompt = payload.get("prompt")
        text = prompt if isinstance(prompt, str) else ""
        return Action(kind=kind, cwd=cwd, text=text, **common)
    tool = payload.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise InputError(f"Gemini CLI {event} payload has no 'tool_name'", model.UNKNOWN)
    kind = _tool_kind(tool)
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, dict):
        raise InputError(f"Gemini CLI {event} payload for {tool} has no 'tool_input' object", kind)
    where = f"{event} {tool}"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    globs: tuple[str, ...] = ()
    command = ""
    if kind == model.WRITE:
        writes = (_text(tool_input, WRITE_TOOLS[tool], where, kind),)
    elif tool in READ_TOOLS:
        key = READ_TOOLS[tool] if READ_TOOLS[tool] in tool_input else "absolute_path"
        reads = (_text(tool_input, key, where, kind),)
    elif kind == model.READ:
        reads, globs = _read_many(tool_input, where)
    elif kind == model.SEARCH:
        reads = (_optional(tool_input, "dir_path", where, kind) or ".",)
        include = _optional(tool_input, "include_pattern", where, kind) or _optional(
            tool_input, "include", where, kind
        )
        globs = (include,) if include else ()
    elif kind == model.SHELL:
        command = _text(tool_input, "command", where, kind)
        folder = _optional(tool_input, "dir_path", where, kind)
        if folder:  # the command runs there, not in the session's cwd
            cwd = os.path.join(cwd, folder) if cwd else folder
    if event == "AfterTool":
        kind = model.POST  # already done: recorded, not judged
    return Action(
        kind=kind,
        tool=tool,
        cwd=cwd,
        reads=reads,
        writes=writes,
        globs=globs,
        command=command,
        **common,
    )


def _context(event: str, text: str) -> dict[str, Any]:
    # hookEventName + additionalContext: Gemini's SessionStartOutput / BeforeAgentOutput /
    # AfterToolOutput (packages/core/src/hooks/types.ts); escaped `<`/`>` and given to the model
    return {"hookEventName": event, "additionalContext": text}


def render(decision: Decision) -> tuple[int, str, str]:
    action = decision.action
    outcome = decision.outcome
    shown = "\n".join(f.message for f in decision.findings if f.effective == outcome)
    warnings = "\n".join(f.message for f in decision.findings if f.effective == WARN)
    event = action.event
    if event == "BeforeTool":
        if outcome == DENY:
            # reason -> the model, as "Tool execution blocked: <reason>"; the turn goes on
            return 0, dumps({"decision": DENY, "reason": cut(shown, OUTPUT_LIMIT)}), ""
        if outcome == ASK:
            # ask forces the confirmation dialog even in YOLO / auto-edit. Whether the dialog
            # shows `reason` is UNCONFIRMED, so the person also gets it as systemMessage.
            half = cut(shown, OUTPUT_LIMIT // 2)
            return 0, dumps({"decision": ASK, "reason": half, "systemMessage": half}), ""
        if outcome == WARN:
            # systemMessage -> the person. additionalContext is not in BeforeToolOutput's type;
            # the generic handling appends it for the model (§3.5) - UNCONFIRMED for BeforeTool.
            half = cut(shown, OUTPUT_LIMIT // 2)
            return (
                0,
                dumps({"systemMessage": half, "hookSpecificOutput": _context(event, half)}),
                "",
            )
        return 0, "{}", ""
    if event == "BeforeAgent" and outcome == DENY:
        return 0, dumps({"decision": DENY, "reason": cut(shown, OUTPUT_LIMIT)}), ""
    if outcome in (DENY, ASK) and event not in EVENTS and event != "AfterTool":
        # an event we do not know, refused: deny is honoured wherever Gemini blocks at all
        return 0, dumps({"decision": DENY, "reason": cut(shown, OUTPUT_LIMIT)}), ""
    context = "\n".join(part for part in (decision.context, warnings) if part)
    if context and event in ("SessionStart", "BeforeAgent", "AfterTool"):
        return 0, dumps({"hookSpecificOutput": _context(event, cut(context, OUTPUT_LIMIT))}), ""
    if outcome != ALLOW or warnings:
        return 0, dumps({"systemMessage": cut(shown or warnings, OUTPUT_LIMIT)}), ""
    return 0, "{}", ""


def render_unreadable(message: str, *, deny: bool) -> tuple[int, str, str]:
    """The answer when the payload itself is unusable, so the event is unknown.

    Exit 2 with non-JSON stderr and an empty stdout is a deny with that text as reason on every
    event (hookRunner.ts); stdout JSON would override the exit code, so there is none.
    """
    if deny:
        return 2, "", cut(message, OUTPUT_LIMIT)
    return 0, dumps({"systemMessage": cut(message, OUTPUT_LIMIT)}), ""
