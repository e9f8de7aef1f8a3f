"""The decision log: one JSON line per action in ``.flockguard/state/audit.jsonl``."""

from __future__ import annotations

import os

from flockguard.config import STATE_DIR
from flockguard.locking import coordlog
from flockguard.rules import RULES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flockguard.model import Decision, Finding

AUDIT_FILE = os.path.join(STATE_DIR, "audit.jsonl")
COMMAND_LIMIT = 2000  # long commands are cut in the log, with their length kept


def finding_record(finding: Finding) -> dict[str, Any]:
    rule = RULES.get(finding.code)
    record = {
        "code": finding.code,
        "name": rule.name if rule else "",
        "stage": finding.stage,
        "outcome": finding.outcome,
        "effective": finding.effective,
        "path": finding.path,
        "message": finding.message,
    }
    if finding.adr:
        record["adr"] = finding.adr
    return record


def entry(decision: Decision, duration_ms: float) -> dict[str, Any]:
    action = decision.action
    record: dict[str, Any] = {
        "platform": action.platform,
        "event": action.event,
        "kind": action.kind,
        "tool": action.tool,
        "session": action.session,
        "agent": action.agent,
        "cwd": action.cwd,
        "paths": dict(decision.paths),
        "outcome": decision.outcome,
        "would": decision.would,
        "would_deny": decision.would_deny,
        "findings": [finding_record(f) for f in decision.findings],
        "duration_ms": round(duration_ms, 3),
    }
    if action.command:
        record["command"] = action.command[:COMMAND_LIMIT]
        if len(action.command) > COMMAND_LIMIT:
            record["command_length"] = len(action.command)
    return record


def record(root: str, decision: Decision, duration_ms: float) -> None:
    path = os.path.join(root, AUDIT_FILE)
    try:
        coordlog.append(path, entry(decision, duration_ms), timeout=2.0)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        coordlog.append(path, entry(decision, duration_ms), timeout=2.0)


def read(root: str) -> list[dict[str, Any]]:
    """Every audit record; a torn last line (a writer died mid-line) is skipped."""
    return coordlog.read(os.path.join(root, AUDIT_FILE)).records
