"""Kiro CLI (3.0 hook files; 2.x agent hooks send the same payload): preToolUse and friends.

Payloads and output as in research/hook-protocols.md §9.2-9.3: ``hook_event_name``, ``cwd``,
``tool_name``, ``tool_input`` (+ ``session_id`` where sent). Event names are camelCase in 2.x
(``preToolUse``) and PascalCase triggers in 3.0 (``PreToolUse``); both are read. Tools:
``execute_bash`` / ``shell``, ``fs_read`` / ``read``, ``fs_write`` / ``write``, ``grep``, ``glob``.

Kiro has no JSON answer and no ask: exit 2 refuses a preToolUse (and a prompt) with stderr as
the reason to the model; exit 0 allows. Other exit codes only warn, so a warning is exit 0 with
its text on stderr. Context for sessions and prompts goes on stdout, which Kiro adds to the
model's context. Kiro has no session-end event (``stop`` ends a turn), so locks are released by
their lease running out.
"""

from __future__ import annotations

from flockguard import model
from flockguard.errors import InputError
from flockguard.model import ALLOW, ASK, DENY, WARN, Action
from flockguard.platforms import cut, identity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from flockguard.model import Decision

NAME = "kiro"
CAN_ASK = False

PRE, POST, PROMPT = "preToolUse", "postToolUse", "userPromptSubmit"
EVENTS = {
    "agentSpawn": model.SESSION_START,
    "sessionStart": model.SESSION_START,
    PROMPT: model.PROMPT,
}
SHELL_TOOLS = frozenset({"execute_bash", "execute_cmd", "shell"})
READ_TOOLS = frozenset({"fs_read", "read"})
WRITE_TOOLS = frozenset({"fs_write", "write", "str_replace"})
SEARCH_TOOLS = frozenset({"grep"})
PATH_KEYS = ("path", "file_path")
OUTPUT_LIMIT = 9000


def _event(name: str) -> str:
    """camelCase, whatever the spelling: PreToolUse -> preToolUse, UserPromptSubmit -> ..."""
    return name[:1].lower() + name[1:]


def _text(args: Mapping[str, Any], keys: tuple[str, ...], where: str, kind: str) -> str:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str) and value:
            if "\x00" in value:
                raise InputError(f"Kiro {where} payload has a NUL byte in {key!r}", kind)
            return value
    raise InputError(f"Kiro {where} payload has no {keys[0]!r} string", kind)


def _read(args: Mapping[str, Any], where: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(kind, paths, globs) of an fs_read: ``operations`` list, or one flat operation."""
    operations = args.get("operations")
    if operations is None:
        operations = [args]
    if not isinstance(operations, list) or not operations:
        raise InputError(f"Kiro {where} payload has no 'operations' list", model.READ)
    kinds: set[str] = set()
    paths: list[str] = []
    for operation in operations:
        if not isinstance(operation, dict):
            raise InputError(f"Kiro {where} payload has a non-object operation", model.READ)
        mode = operation.get("mode")
        if mode == "Directory":
            kinds.add(model.OTHER)  # a listing: names only
            continue
        kinds.add(model.SEARCH if mode == "Search" else model.READ)
        paths.append(_text(operation, PATH_KEYS, where, model.READ))
    if not paths:
        return model.OTHER, (), ()
    return (model.READ if model.READ in kinds else model.SEARCH), tuple(paths), ()


def parse(payload: Mapping[str, Any]) -> Action:
    name = payload.get("hook_event_name")
    if not isinstance(name, str) or not name:
        raise InputError("Kiro payload has no 'hook_event_name'", model.UNKNOWN)
    event = _event(name)
    session = payload.get("session_id") or payload.get("sessionId")
    session = session if isinstance(session, str) else ""
    cwd = payload.get("cwd")
    common = identity(NAME, event, session, cwd if isinstance(cwd, str) else "", payload)
    if event not in (PRE, POST):
        kind = EVENTS.get(event, model.OTHER)
        prompt = payload.get("prompt")
        return Action(kind=kind, text=prompt if isinstance(prompt, str) else "", **common)
    tool = payload.get("tool_name")
    if not isinstance(tool, str) or not tool:
        raise InputError(f"Kiro {event} payload has no 'tool_name'", model.UNKNOWN)
    where = f"{event} {tool}"
    args = payload.get("tool_input")
    kind = model.OTHER
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    globs: tuple[str, ...] = ()
    command = ""
    if tool in SHELL_TOOLS:
        kind = model.SHELL
    elif tool in READ_TOOLS:
        kind = model.READ
    elif tool in WRITE_TOOLS:
        kind = model.WRITE
    elif tool in SEARCH_TOOLS:
        kind = model.SEARCH
    if not isinstance(args, dict):
        raise InputError(f"Kiro {where} payload has no 'tool_input' object", kind)
    if kind == model.SHELL:
        command = _text(args, ("command",), where, kind)
    elif kind == model.WRITE:
        writes = (_text(args, PATH_KEYS, where, kind),)
    elif kind == model.READ:
        kind, reads, globs = _read(args, where)
    elif kind == model.SEARCH:
        reads = (_text(args, PATH_KEYS, where, kind) if args.get("path") else ".",)
    if event == POST:
        kind = model.POST  # already done: recorded, not judged
    return Action(
        kind=kind, tool=tool, reads=reads, writes=writes, globs=globs, command=command, **common
    )


def render(decision: Decision) -> tuple[int, str, str]:
    action = decision.action
    outcome = decision.outcome
    shown = "\n".join(f.message for f in decision.findings if f.effective == outcome)
    warnings = "\n".join(f.message for f in decision.findings if f.effective == WARN)
    if outcome in (DENY, ASK) and action.kind not in (model.POST, model.SESSION_START):
        # ASK only reaches here outside a flockguard repository (no approval ids): refuse
        return 2, "", cut(shown, OUTPUT_LIMIT)
    context = "\n".join(part for part in (decision.context, warnings) if part)
    if context and action.kind in (model.SESSION_START, model.PROMPT):
        return 0, cut(context, OUTPUT_LIMIT), ""
    if outcome != ALLOW or warnings:
        return 0, "", cut(shown or warnings, OUTPUT_LIMIT)
    return 0, "", ""


def render_unreadable(message: str, *, deny: bool) -> tuple[int, str, str]:
    """The answer when the payload itself is unusable: exit 2 blocks, stderr to the model."""
    return (2 if deny else 0), "", cut(message, OUTPUT_LIMIT)
