"""GitHub Copilot CLI and cloud agent: preToolUse / postToolUse / userPromptSubmitted / sessions.

Payloads and output as in research/hook-protocols.md §7 and GitHub's hooks reference. The
camelCase payloads carry no event name: the installer puts it in the handler's ``env``
(``FLOCKGUARD_COPILOT_EVENT``), and without it the event is told from the payload's shape
(``toolName`` + ``toolResult`` = postToolUse, ``toolName`` = preToolUse, ``prompt``,
``reason``, ``source``). The VS Code compatible snake_case payload (``hook_event_name``,
``tool_name``, ``tool_input``) is read too.

preToolUse answers ``{"permissionDecision": "deny"|"ask", "permissionDecisionReason": R}``; the
reason reaches the model. The cloud agent has no person to ask and treats ``ask`` as ``deny``.
Nothing is answered ``allow``: ``{}`` leaves Copilot's own permission flow in charge. A warning
goes to the person as a progress line (display only); Copilot has no channel to the model
before a tool runs. sessionStart and postToolUse carry context as ``additionalContext``;
userPromptSubmitted output is dropped by Copilot for command hooks, so a prompt cannot be
refused.
"""

from __future__ import annotations

import json
import os
import re

from flockguard import model
from flockguard.errors import InputError
from flockguard.model import ALLOW, ASK, DENY, WARN, Action
from flockguard.platforms import cut, dumps, identity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from flockguard.model import Decision

NAME = "copilot"
CAN_ASK = True
EVENT_ENV = "FLOCKGUARD_COPILOT_EVENT"  # set per handler by flockguard.install.copilot

PRE, POST = "preToolUse", "postToolUse"
# event spellings (camelCase, VS Code PascalCase) -> canonical camelCase
EVENT_NAMES = {
    "preToolUse": PRE, "PreToolUse": PRE,
    "postToolUse": POST, "PostToolUse": POST,
    "postToolUseFailure": "postToolUseFailure", "PostToolUseFailure": "postToolUseFailure",
    "userPromptSubmitted": "userPromptSubmitted", "UserPromptSubmit": "userPromptSubmitted",
    "sessionStart": "sessionStart", "SessionStart": "sessionStart",
    "sessionEnd": "sessionEnd", "SessionEnd": "sessionEnd",
}  # fmt: skip
EVENTS = {
    "sessionStart": model.SESSION_START,
    "sessionEnd": model.SESSION_END,
    "userPromptSubmitted": model.PROMPT,
}
# runtime tool names, and the Claude names of the VS Code compatible payload
SHELL_TOOLS = frozenset({"bash", "powershell", "Bash", "PowerShell"})
READ_TOOLS = frozenset({"view", "Read"})
WRITE_TOOLS = frozenset({"create", "edit", "Write", "Edit", "MultiEdit"})
SEARCH_TOOLS = frozenset({"grep", "rg", "Grep"})
PATCH_TOOLS = frozenset({"apply_patch"})
PATH_KEYS = ("path", "file_path", "filePath")
OUTPUT_LIMIT = 9000  # additionalContext is capped at 10 KB

# apply_patch envelopes ("*** Update File: x") and unified diffs ("+++ b/x")
_PATCH_LINE = re.compile(
    r"^\*\*\* (Add|Update|Delete) File: (.+?)\s*$|^\*\*\* Move to: (.+?)\s*$"
    r"|^(---|\+\+\+) (?:[ab]/)?(.+?)(?:\t.*)?\s*$",
    re.MULTILINE,
)


def patch_paths(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(written, deleted) paths named by an apply_patch envelope or a unified diff."""
    writes: list[str] = []
    deletes: list[str] = []
    for match in _PATCH_LINE.finditer(text):
        verb, path, moved, _, diffed = match.groups()
        if verb == "Delete":
            deletes.append(path)
        elif path or moved:
            writes.append(path or moved)
        elif diffed and diffed != "/dev/null":
            writes.append(diffed)
    unique = tuple(dict.fromkeys(writes))
    return unique, tuple(p for p in dict.fromkeys(deletes) if p not in unique)


def _event(payload: Mapping[str, Any]) -> str:
    named = payload.get("hook_event_name") or payload.get("hookEventName")
    if isinstance(named, str) and named:
        return EVENT_NAMES.get(named, named)
    configured = os.environ.get(EVENT_ENV, "")
    if configured:
        return EVENT_NAMES.get(configured, configured)
    if "toolName" in payload or "tool_name" in payload:
        if "toolResult" in payload or "tool_result" in payload:
            return POST
        return "postToolUseFailure" if "error" in payload else PRE
    if "prompt" in payload:
        return "userPromptSubmitted"
    if "reason" in payload:
        return "sessionEnd"
    if "source" in payload or "initialPrompt" in payload:
        return "sessionStart"
    raise InputError("Copilot payload matches no known hook event", model.UNKNOWN)


def _args(payload: Mapping[str, Any], tool: str, where: str, kind: str) -> Any:
    """toolArgs: documented as a JSON string, sent as an object by some builds."""
    args = payload["toolArgs"] if "toolArgs" in payload else payload.get("tool_input")
    if isinstance(args, str):
        if tool in PATCH_TOOLS and not args.lstrip().startswith("{"):
            return {"input": args}  # the patch text itself
        try:
            args = json.loads(args)
        except (ValueError, RecursionError) as exc:
            raise InputError(
                f"Copilot {where} payload has unreadable 'toolArgs': {exc}", kind
            ) from exc
    if isinstance(args, str) and tool in PATCH_TOOLS:
        return {"input": args}
    if not isinstance(args, dict):
        raise InputError(f"Copilot {where} payload has no 'toolArgs' object", kind)
    return args


def _text(args: Mapping[str, Any], keys: tuple[str, ...], where: str, kind: str) -> str:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str) and value:
            if "\x00" in value:
                raise InputError(f"Copilot {where} payload has a NUL byte in {key!r}", kind)
            return value
    raise InputError(f"Copilot {where} payload has no {keys[0]!r} string", kind)


def _tool_kind(tool: str, args: Mapping[str, Any] | None = None) -> str:
    if tool in SHELL_TOOLS:
        return model.SHELL
    if tool in READ_TOOLS:
        return model.READ
    if tool in WRITE_TOOLS or tool in PATCH_TOOLS:
        return model.WRITE
    if tool == "str_replace_editor":
        command = args.get("command") if args else None
        return model.READ if command == "view" else model.WRITE
    return model.SEARCH if tool in SEARCH_TOOLS else model.OTHER


def parse(payload: Mapping[str, Any]) -> Action:
    event = _event(payload)
    session = payload.get("sessionId") or payload.get("session_id")
    session = session if isinstance(session, str) else ""
    cwd = payload.get("cwd")
    common = identity(NAME, event, session, cwd if isinstance(cwd, str) else "", payload)
    if event not in (PRE, POST, "postToolUseFailure"):
        kind = EVENTS.get(event, model.OTHER)
        prompt = payload.get("prompt")
        return Action(kind=kind, text=prompt if isinstance(prompt, str) else "", **common)
    tool = payload.get("toolName", payload.get("tool_name"))
    if not isinstance(tool, str) or not tool:
        raise InputError(f"Copilot {event} payload has no 'toolName'", model.UNKNOWN)
    where = f"{event} {tool}"
    kind = _tool_kind(tool)
    args = _args(payload, tool, where, kind)
    kind = _tool_kind(tool, args)
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    deletes: tuple[str, ...] = ()
    globs: tuple[str, ...] = ()
    command = ""
    if kind == model.SHELL:
        command = _text(args, ("command",), where, kind)
    elif tool in PATCH_TOOLS:
        writes, deletes = patch_paths(_text(args, ("input", "patch"), where, kind))
        if not writes and not deletes:
            raise InputError(f"Copilot {where} payload names no file in its patch", kind)
    elif kind == model.WRITE:
        writes = (_text(args, PATH_KEYS, where, kind),)
    elif kind == model.READ:
        reads = (_text(args, PATH_KEYS, where, kind),)
    elif kind == model.SEARCH:
        has_path = any(args.get(key) for key in PATH_KEYS)
        reads = (_text(args, PATH_KEYS, where, kind) if has_path else ".",)
        globs = (_text(args, ("glob",), where, kind),) if args.get("glob") else ()
    if event != PRE:
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


def _progress(text: str) -> str:
    # one line of JSON: Copilot strips it from the output and shows it in the timeline
    return dumps({"type": "progress", "message": cut(text, OUTPUT_LIMIT)})


def render(decision: Decision) -> tuple[int, str, str]:
    action = decision.action
    outcome = decision.outcome
    shown = "\n".join(f.message for f in decision.findings if f.effective == outcome)
    warnings = "\n".join(f.message for f in decision.findings if f.effective == WARN)
    event = action.event
    if event == PRE:
        if outcome in (DENY, ASK):
            answer = {
                "permissionDecision": outcome,
                "permissionDecisionReason": cut(shown, OUTPUT_LIMIT),
            }
            return 0, dumps(answer), ""
        if outcome == WARN:
            return 0, _progress(shown) + "\n{}", ""
        return 0, "{}", ""
    context = "\n".join(part for part in (decision.context, warnings) if part)
    if outcome == DENY and event not in EVENTS and event not in (POST, "postToolUseFailure"):
        # an event we do not know, refused: exit 2 denies a tool call, warns otherwise
        answer = {"permissionDecision": DENY, "permissionDecisionReason": cut(shown, OUTPUT_LIMIT)}
        return 2, dumps(answer), cut(shown, OUTPUT_LIMIT)
    if context and event in ("sessionStart", POST):
        return 0, dumps({"additionalContext": cut(context, OUTPUT_LIMIT)}), ""
    if outcome != ALLOW or warnings:
        return 0, _progress(shown or warnings) + "\n{}", ""
    return 0, "{}", ""


def render_unreadable(message: str, *, deny: bool) -> tuple[int, str, str]:
    """The answer when the payload itself is unusable, so the event is unknown.

    Exit 2 denies a preToolUse call whatever the JSON says (and only warns for other events);
    the JSON carries the reason to the model, stderr to the person.
    """
    if deny:
        answer = {
            "permissionDecision": DENY,
            "permissionDecisionReason": cut(message, OUTPUT_LIMIT),
        }
        return 2, dumps(answer), cut(message, OUTPUT_LIMIT)
    return 0, _progress(message) + "\n{}", ""
