"""Cline (VS Code extension, Cline CLI / SDK): hook executables named after the event.

Payloads and output as in research/hook-protocols.md §8. Two dialects are read: the legacy
extension's (``hookName`` = the file name, tool in ``preToolUse.toolName``/``parameters`` whose
values are strings, structured ones JSON-encoded) and the SDK's (``hookName`` = ``tool_call`` etc.,
tool in ``tool_call.name``/``input``, preferred when present). The project root is
``workspaceRoots[0]``; tool paths are usually relative to it.

Cline cannot ask a person and has no per-tool refusal: ``{"cancel": true, "errorMessage": R}``
stops the whole task, with R as the reason. That is the answer to a refusal. A warning or
context goes to the model as ``contextModification``; anything else is ``{"cancel": false}``.
Cline ignores exit codes (the SDK entirely), so every answer exits 0 with JSON.
"""

from __future__ import annotations

import json

from flockguard import model
from flockguard.errors import InputError
from flockguard.model import ALLOW, ASK, DENY, WARN, Action
from flockguard.platforms import cut, dumps, identity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from flockguard.model import Decision

NAME = "cline"
CAN_ASK = False

PRE, POST, PROMPT = "PreToolUse", "PostToolUse", "UserPromptSubmit"
# hookName (legacy file name, or SDK event) -> canonical file name
EVENT_NAMES = {
    "PreToolUse": PRE, "tool_call": PRE,
    "PostToolUse": POST, "tool_result": POST,
    "UserPromptSubmit": PROMPT, "prompt_submit": PROMPT,
    "TaskStart": "TaskStart", "agent_start": "TaskStart",
    "TaskResume": "TaskResume", "agent_resume": "TaskResume",
    "TaskComplete": "TaskComplete", "agent_end": "TaskComplete",
    "TaskCancel": "TaskCancel", "agent_abort": "TaskCancel",
    "TaskError": "TaskError", "agent_error": "TaskError",
    "SessionShutdown": "SessionShutdown", "session_shutdown": "SessionShutdown",
    "PreCompact": "PreCompact",
}  # fmt: skip
EVENTS = {
    "TaskStart": model.SESSION_START,
    "TaskResume": model.SESSION_START,
    "TaskComplete": model.SESSION_END,
    "TaskCancel": model.SESSION_END,
    "TaskError": model.SESSION_END,
    "SessionShutdown": model.SESSION_END,
    PROMPT: model.PROMPT,
}
SHELL_TOOLS = frozenset({"run_commands", "execute_command"})
READ_TOOLS = frozenset({"read_files", "read_file"})
WRITE_TOOLS = frozenset({"editor", "write_to_file", "replace_in_file", "new_rule"})
PATCH_TOOLS = frozenset({"apply_patch"})
SEARCH_TOOLS = frozenset({"search_files", "list_code_definition_names"})
PATH_KEYS = ("path", "absolutePath", "file_path")
STRUCTURED = ("commands", "files", "paths")  # legacy parameters JSON-encode these
OUTPUT_LIMIT = 50_000  # contextModification is capped at 50 KB


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _text(args: Mapping[str, Any], keys: tuple[str, ...], where: str, kind: str) -> str:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str) and value:
            if "\x00" in value:
                raise InputError(f"Cline {where} payload has a NUL byte in {key!r}", kind)
            return value
    raise InputError(f"Cline {where} payload has no {keys[0]!r} string", kind)


def _tool(payload: Mapping[str, Any], event: str) -> tuple[str, dict[str, Any]]:
    """(tool name, tool input) from the SDK's ``tool_call`` or the legacy event object."""
    call = payload.get("tool_call")
    if isinstance(call, dict) and isinstance(call.get("name"), str):
        args = call.get("input")
        return call["name"], args if isinstance(args, dict) else {}
    legacy = payload.get(_camel(event))
    if not isinstance(legacy, dict):
        raise InputError(f"Cline {event} payload has no {_camel(event)!r} object", model.UNKNOWN)
    tool = legacy.get("toolName")
    if not isinstance(tool, str) or not tool:
        raise InputError(f"Cline {event} payload has no 'toolName'", model.UNKNOWN)
    params = legacy.get("parameters")
    args = dict(params) if isinstance(params, dict) else {}
    for key in STRUCTURED:
        value = args.get(key)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            try:  # noqa: SIM105 (contextlib costs the hook path import time)
                args[key] = json.loads(value)
            except (ValueError, RecursionError):
                pass  # a plain string after all: read as one command / path
    return tool, args


def _commands(args: Mapping[str, Any], where: str) -> str:
    commands = args.get("commands")
    if isinstance(commands, str):
        commands = [commands]
    if isinstance(commands, list) and commands:
        texts = [c if isinstance(c, str) else c.get("command") for c in commands if c]
        if all(isinstance(t, str) and t for t in texts):
            return _text({"command": "\n".join(texts)}, ("command",), where, model.SHELL)
    return _text(args, ("command",), where, model.SHELL)


def _files(args: Mapping[str, Any], where: str) -> tuple[str, ...]:
    files = args.get("files", args.get("paths"))
    if files is None:
        return (_text(args, PATH_KEYS, where, model.READ),)
    found: list[str] = []
    for entry in files if isinstance(files, list) else [files]:
        item = {"path": entry} if isinstance(entry, str) else entry
        if not isinstance(item, dict):
            raise InputError(f"Cline {where} payload has a non-file entry in 'files'", model.READ)
        found.append(_text(item, PATH_KEYS, where, model.READ))
    if not found:
        raise InputError(f"Cline {where} payload has an empty 'files' list", model.READ)
    return tuple(found)


def _tool_kind(tool: str) -> str:
    if tool in SHELL_TOOLS:
        return model.SHELL
    if tool in READ_TOOLS:
        return model.READ
    if tool in WRITE_TOOLS or tool in PATCH_TOOLS:
        return model.WRITE
    return model.SEARCH if tool in SEARCH_TOOLS else model.OTHER


def parse(payload: Mapping[str, Any]) -> Action:
    name = payload.get("hookName")
    if not isinstance(name, str) or not name:
        raise InputError("Cline payload has no 'hookName'", model.UNKNOWN)
    event = EVENT_NAMES.get(name, name)
    task = payload.get("taskId")
    task = task if isinstance(task, str) else ""
    roots = payload.get("workspaceRoots")
    cwd = roots[0] if isinstance(roots, list) and roots and isinstance(roots[0], str) else ""
    common = identity(NAME, event, task, cwd, payload)
    if event not in (PRE, POST):
        kind = EVENTS.get(event, model.OTHER)
        text = ""
        for holder in (payload.get("userPromptSubmit"), payload.get("prompt_submit"), payload):
            prompt = holder.get("prompt") if isinstance(holder, dict) else None
            if isinstance(prompt, str):
                text = prompt
                break
        return Action(kind=kind, text=text, **common)
    tool, args = _tool(payload, event)
    kind = _tool_kind(tool)
    where = f"{event} {tool}"
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    deletes: tuple[str, ...] = ()
    globs: tuple[str, ...] = ()
    command = ""
    if kind == model.SHELL:
        command = _commands(args, where)
    elif tool in PATCH_TOOLS:
        from flockguard.platforms.copilot import patch_paths

        writes, deletes = patch_paths(_text(args, ("input", "patch", "diff"), where, kind))
        if not writes and not deletes:
            raise InputError(f"Cline {where} payload names no file in its patch", kind)
    elif kind == model.WRITE:
        writes = (_text(args, PATH_KEYS, where, kind),)
    elif kind == model.READ:
        reads = _files(args, where)
    elif kind == model.SEARCH:
        reads = (_text(args, PATH_KEYS, where, kind) if args.get("path") else ".",)
        pattern = args.get("file_pattern")
        globs = (_text(args, ("file_pattern",), where, kind),) if pattern else ()
    if event == POST:
        kind = model.POST  # already done: recorded, not judged
    return Action(
        kind=kind,
        tool=tool,
        reads=reads,
        writes=writes,
        deletes=deletes,
        globs=globs,
        command=command,
        **common,
    )


def _cancel(reason: str) -> tuple[int, str, str]:
    # stops the whole task, not just this tool call: Cline has no per-tool refusal
    return 0, dumps({"cancel": True, "errorMessage": cut(reason, OUTPUT_LIMIT)}), ""


def render(decision: Decision) -> tuple[int, str, str]:
    action = decision.action
    outcome = decision.outcome
    shown = "\n".join(f.message for f in decision.findings if f.effective == outcome)
    warnings = "\n".join(f.message for f in decision.findings if f.effective == WARN)
    settled = (model.POST, model.SESSION_START, model.SESSION_END)
    if outcome in (DENY, ASK) and action.kind not in settled:
        # ASK only reaches here outside a flockguard repository (no approval ids): refuse
        return _cancel(shown)
    context = "\n".join(part for part in (decision.context, warnings) if part)
    if outcome not in (ALLOW, WARN) and shown:
        context = "\n".join(part for part in (context, shown) if part)
    if context and action.kind != model.SESSION_END:  # nothing reads context after the task
        return 0, dumps({"cancel": False, "contextModification": cut(context, OUTPUT_LIMIT)}), ""
    return 0, dumps({"cancel": False}), ""


def render_unreadable(message: str, *, deny: bool) -> tuple[int, str, str]:
    """The answer when the payload itself is unusable, so the event is unknown."""
    if deny:
        return _cancel(message)
    return 0, dumps({"cancel": False, "contextModification": cut(message, OUTPUT_LIMIT)}), ""
