"""OpenCode: fed by the shim plugin ``.opencode/plugins/flockguard.js`` (hook-protocols.md §10).

OpenCode has no command hooks, only in-process JS/TS plugins, so ``flockguard init`` writes a
small plugin (see ``flockguard.install.opencode``) that runs ``flockguard-hook opencode`` and
feeds it one JSON object on stdin. The payload is flockguard's own design::

    {"event": "tool.execute.before" | "tool.execute.after" | "session.created"
              | "session.deleted" | ...,
     "tool": "write",            # tool events: OpenCode's tool name (V1 and V2 names)
     "sessionID": "ses_...",     # OpenCode's session id; the agent is opencode:<sessionID>
     "callID": "...",            # optional, recorded only
     "cwd": "/abs/project",      # the plugin's ``directory``
     "args": {...}}              # tool events: ``output.args`` as OpenCode gave it

Tools: ``bash``/``shell`` -> shell (``command``; ``workdir`` becomes the cwd when absolute);
``read`` -> read (``filePath``); ``write``/``edit``/``multiedit`` -> write (``filePath``);
``apply_patch``/``patch`` -> the files named by the patch headers (``patchText``);
``grep``/``glob``/``list`` -> search of ``path`` (default the cwd). Anything else (``task``,
MCP tools, ...) is "other". ``session.created`` starts a session, ``session.deleted`` ends it
(its locks are released); other bus events are recorded only.

The answer is one JSON line on stdout, exit 0: ``{"block": true, "message": R}`` refuses the
tool call (the plugin throws ``new Error(R)``, which the model sees as the tool's error);
``{"block": false, "message": W}`` lets it through (``W`` is a warning or session context, or
empty; OpenCode has no channel to show it to the model, so the plugin drops it). There is no
ask (``CAN_ASK = False``): checkpoint findings arrive here as a refusal with an approval id.
An unreadable payload answers ``{"block": true, ...}`` with exit 2; the plugin also throws on
any exit code, output or spawn failure it does not understand (fail closed).
"""

from __future__ import annotations

import json

from flockguard import model
from flockguard.errors import InputError
from flockguard.model import ALLOW, ASK, DENY, WARN, Action
from flockguard.platforms import cut, identity
from flockguard.platforms.codex import patch_targets

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from flockguard.model import Decision

NAME = "opencode"
CAN_ASK = False

PRE, POST = "tool.execute.before", "tool.execute.after"
EVENTS = {
    "session.created": model.SESSION_START,
    "session.deleted": model.SESSION_END,
    "chat.message": model.PROMPT,
}
SHELL_TOOLS = frozenset({"bash", "shell"})
READ_TOOLS = frozenset({"read"})
WRITE_TOOLS = frozenset({"write", "edit", "multiedit"})
PATCH_TOOLS = frozenset({"apply_patch", "patch"})
SEARCH_TOOLS = frozenset({"grep", "glob", "list"})
PATCH_KEYS = ("patchText", "patch", "input")
OUTPUT_LIMIT = 9000


def _text(args: Mapping[str, Any], keys: tuple[str, ...], where: str, kind: str) -> str:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str) and value:
            if "\x00" in value:
                raise InputError(f"OpenCode {where} payload has a NUL byte in {key!r}", kind)
            return value
    raise InputError(f"OpenCode {where} payload has no args {keys[0]!r} string", kind)


def _kind(tool: str) -> str:
    if tool in SHELL_TOOLS:
        return model.SHELL
    if tool in READ_TOOLS:
        return model.READ
    if tool in WRITE_TOOLS or tool in PATCH_TOOLS:
        return model.WRITE
    return model.SEARCH if tool in SEARCH_TOOLS else model.OTHER


def _tool(payload: Mapping[str, Any], event: str, common: dict[str, Any]) -> Action:
    tool = payload.get("tool")
    if not isinstance(tool, str) or not tool:
        raise InputError(f"OpenCode {event} payload has no 'tool'", model.UNKNOWN)
    kind = _kind(tool)
    where = f"{event} {tool}"
    args = payload.get("args")
    if not isinstance(args, dict):
        if kind != model.OTHER and event == PRE:
            raise InputError(f"OpenCode {where} payload has no 'args' object", kind)
        args = {}
    fields: dict[str, Any] = {}
    if event == POST:
        kind = model.POST  # already done: recorded, not judged
    elif kind == model.SHELL:
        fields["command"] = _text(args, ("command",), where, kind)
        workdir = args.get("workdir")
        if isinstance(workdir, str) and workdir.startswith("/") and "\x00" not in workdir:
            common = {**common, "cwd": workdir}
    elif kind == model.READ:
        fields["reads"] = (_text(args, ("filePath", "file_path", "path"), where, kind),)
    elif kind == model.WRITE and tool in PATCH_TOOLS:
        writes, deletes = patch_targets(_text(args, PATCH_KEYS, where, kind))
        if not writes and not deletes:
            raise InputError(
                f"OpenCode {where} patch names no file (no '*** Add/Update/Delete File:' header)",
                kind,
            )
        fields = {"writes": writes, "deletes": deletes}
        kind = model.WRITE if writes else model.DELETE
    elif kind == model.WRITE:
        fields["writes"] = (_text(args, ("filePath", "file_path", "path"), where, kind),)
    elif kind == model.SEARCH:
        path = args.get("path")
        fields["reads"] = (_text(args, ("path",), where, kind) if path else ".",)
        glob = args.get("include") if tool == "grep" else args.get("pattern")
        if tool != "list" and isinstance(glob, str) and glob:
            fields["globs"] = (_text(args, ("include" if tool == "grep" else "pattern",),
                                     where, kind),)  # fmt: skip
    return Action(kind=kind, tool=tool, **fields, **common)


def parse(payload: Mapping[str, Any]) -> Action:
    event = payload.get("event")
    if not isinstance(event, str) or not event:
        raise InputError("OpenCode payload has no 'event'", model.UNKNOWN)
    session = payload.get("sessionID") or payload.get("session_id")
    session = session if isinstance(session, str) else ""
    cwd = payload.get("cwd", payload.get("directory"))
    common = identity(NAME, event, session, cwd if isinstance(cwd, str) else "", payload)
    if event in (PRE, POST):
        return _tool(payload, event, common)
    prompt = payload.get("prompt")
    kind = EVENTS.get(event, model.OTHER)
    return Action(kind=kind, text=prompt if isinstance(prompt, str) else "", **common)


def _answer(block: bool, message: str) -> str:
    return json.dumps({"block": block, "message": cut(message, OUTPUT_LIMIT)})


def render(decision: Decision) -> tuple[int, str, str]:
    action = decision.action
    outcome = decision.outcome
    shown = "\n".join(f.message for f in decision.findings if f.effective == outcome)
    warnings = "\n".join(f.message for f in decision.findings if f.effective == WARN)
    if outcome in (DENY, ASK) and action.event == PRE:
        # ASK only reaches here outside a flockguard repository (no approval ids): refuse
        return 0, _answer(True, shown), ""
    text = "\n".join(part for part in (warnings, decision.context) if part)
    if outcome != ALLOW and not text:
        text = shown
    return 0, _answer(False, text), ""


def render_unreadable(message: str, *, deny: bool) -> tuple[int, str, str]:
    """The answer when the payload itself is unusable: exit 2 and a block."""
    if deny:
        return 2, _answer(True, message), ""
    return 0, _answer(False, message), ""
