"""OpenAI Codex (CLI, IDE extension, app): the hooks of ``.codex/hooks.json``.

Payloads and output as in research/hook-protocols.md §6. Codex validates hook output strictly: a
field it does not know, ``permissionDecision: "allow"`` without ``updatedInput``, or ``"ask"``
marks the hook failed and lets the call through. So a refusal is exactly
``hookSpecificOutput.{hookEventName, permissionDecision: "deny", permissionDecisionReason}``, an
allowed call gets no output at all, and a warning goes to the person as ``systemMessage``. Codex
cannot ask (``CAN_ASK = False``): checkpoint findings come back as a refusal with an approval id.

Codex has no read tool (reads go through ``Bash``); every file change is an ``apply_patch``
whose targets are read from the patch's ``*** Add/Update/Delete File:`` and ``*** Move to:``
headers, relative to ``cwd``.
"""

from __future__ import annotations

import shlex

from flockguard import model
from flockguard.errors import InputError
from flockguard.model import ALLOW, ASK, DENY, WARN, Action
from flockguard.platforms import cut, dumps, identity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from flockguard.model import Decision

NAME = "codex"
CAN_ASK = False

SHELL_TOOLS = frozenset({"Bash", "shell", "local_shell", "exec_command"})
PATCH_TOOLS = frozenset({"apply_patch", "Edit", "Write"})  # Edit/Write: matcher aliases
EVENTS = {
    "SessionStart": model.SESSION_START,
    "SessionEnd": model.SESSION_END,
    "UserPromptSubmit": model.PROMPT,
}
CONTEXT_EVENTS = frozenset({"SessionStart", "UserPromptSubmit"})
OUTPUT_LIMIT = 9000
ADD, UPDATE, DELETE, MOVE = "*** Add File:", "*** Update File:", "*** Delete File:", "*** Move to:"


def _text(mapping: Mapping[str, Any], key: str, where: str, kind: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"Codex {where} payload has no {key!r} string", kind)
    if "\x00" in value:
        raise InputError(f"Codex {where} payload has a NUL byte in {key!r}", kind)
    return value


def patch_targets(patch: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(written, deleted) paths named by an apply_patch text's file headers.

    An updated file that is moved is deleted at its old path and written at its new one.
    """
    writes: list[str] = []
    deletes: list[str] = []
    for raw in patch.splitlines():
        line = raw.rstrip()  # not lstrip: a hunk's context line starts with a space
        for header, into in ((ADD, writes), (UPDATE, writes), (DELETE, deletes), (MOVE, writes)):
            if line.startswith(header):
                path = line[len(header) :].strip()
                if not path:
                    raise InputError(f"apply_patch header {header!r} names no file", model.WRITE)
                if header == MOVE:
                    if not writes:
                        raise InputError(
                            "apply_patch '*** Move to:' follows no update", model.WRITE
                        )
                    deletes.append(writes.pop())  # the file leaves its old path
                into.append(path)
                break
    return tuple(dict.fromkeys(writes)), tuple(dict.fromkeys(deletes))


def _command(tool_input: Mapping[str, Any], where: str, kind: str) -> str:
    """The command string; some builds send an argv array instead."""
    for key in ("command", "cmd"):
        value = tool_input.get(key)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            if len(value) >= 3 and value[1] in ("-c", "-lc") and value[0].endswith("sh"):
                value = value[2]  # ["bash", "-lc", "<script>"]: the script is the command
            else:
                value = shlex.join(value)
            if "\x00" in value:
                raise InputError(f"Codex {where} payload has a NUL byte in {key!r}", kind)
            return value
        if isinstance(value, str) and value:
            return _text(tool_input, key, where, kind)
    raise InputError(f"Codex {where} payload has no 'command' string", kind)


def _tool(payload: Mapping[str, Any], event: str, common: dict[str, Any]) -> Action:
    tool = payload.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise InputError(f"Codex {event} payload has no 'tool_name'", model.UNKNOWN)
    if tool in SHELL_TOOLS:
        kind = model.SHELL
    elif tool in PATCH_TOOLS:
        kind = model.WRITE
    else:
        kind = model.OTHER  # mcp__server__tool and anything newer
    tool_input = payload.get("tool_input")
    if not isinstance(tool_input, dict):
        if kind != model.OTHER:
            raise InputError(f"Codex {event} payload for {tool} has no 'tool_input' object", kind)
        tool_input = {}
    where = f"{event} {tool}"
    fields: dict[str, Any] = {}
    if kind == model.SHELL:
        fields["command"] = _command(tool_input, where, kind)
    elif kind == model.WRITE:
        if isinstance(tool_input.get("file_path"), str) and "command" not in tool_input:
            fields["writes"] = (_text(tool_input, "file_path", where, kind),)
        else:
            writes, deletes = patch_targets(_command(tool_input, where, kind))
            if not writes and not deletes:
                raise InputError(
                    f"Codex {where} patch names no file (no '*** Add/Update/Delete File:' header)",
                    kind,
                )
            fields = {"writes": writes, "deletes": deletes}
            kind = model.WRITE if writes else model.DELETE
    if event == "PostToolUse":
        kind = model.POST  # already done: recorded, not judged
    return Action(kind=kind, tool=tool, **fields, **common)


def parse(payload: Mapping[str, Any]) -> Action:
    event = payload.get("hook_event_name")
    if not isinstance(event, str) or not event:
        raise InputError("Codex payload has no 'hook_event_name'", model.UNKNOWN)
    session = payload.get("session_id")
    session = session if isinstance(session, str) else ""
    cwd = payload.get("cwd")
    common = identity(NAME, event, session, cwd if isinstance(cwd, str) else "", payload)
    if event in ("PreToolUse", "PostToolUse"):
        return _tool(payload, event, common)
    kind = EVENTS.get(event, model.OTHER)
    prompt = payload.get("prompt")
    return Action(kind=kind, text=prompt if isinstance(prompt, str) else "", **common)


def _reason(text: str) -> str:
    # Codex ignores a refusal whose reason is blank: never send one
    return cut(text, OUTPUT_LIMIT) if text.strip() else "flockguard refused this action"


def render(decision: Decision) -> tuple[int, str, str]:
    action = decision.action
    outcome = decision.outcome
    shown = "\n".join(f.message for f in decision.findings if f.effective == outcome)
    warnings = "\n".join(f.message for f in decision.findings if f.effective == WARN)
    event = action.event
    if event == "PreToolUse":
        if outcome in (DENY, ASK):  # ASK only outside a repository, where nobody can approve
            specific = {
                "hookEventName": event,
                "permissionDecision": "deny",
                "permissionDecisionReason": _reason(shown),
            }
            return 0, dumps({"hookSpecificOutput": specific}), ""
        if outcome == WARN:
            return 0, dumps({"systemMessage": cut(shown, OUTPUT_LIMIT)}), ""
        return 0, "", ""
    if event == "UserPromptSubmit" and outcome == DENY:
        return 0, dumps({"decision": "block", "reason": _reason(shown)}), ""
    if outcome == DENY and event not in EVENTS and event != "PostToolUse":
        return 2, "", _reason(shown)  # an event we do not know, refused: exit 2 blocks
    context = "\n".join(part for part in (decision.context, warnings) if part)
    if context and event in CONTEXT_EVENTS:
        specific = {"hookEventName": event, "additionalContext": cut(context, OUTPUT_LIMIT)}
        return 0, dumps({"hookSpecificOutput": specific}), ""
    if outcome != ALLOW or warnings:
        return 0, dumps({"systemMessage": cut(shown or warnings, OUTPUT_LIMIT)}), ""
    return 0, "", ""


def render_unreadable(message: str, *, deny: bool) -> tuple[int, str, str]:
    """The answer when the payload itself is unusable: exit 2 with the reason on stderr.

    Exit 2 with an empty stderr counts as a failed hook (the call proceeds), so it never is.
    """
    if deny:
        return 2, "", _reason(message)
    return 0, dumps({"systemMessage": cut(message, OUTPUT_LIMIT)}), ""
