"""Approval ids: how a checkpoint-tier action is approved on a platform that cannot ask.

There the hook refuses the action with an id; a person runs ``flockguard approve ID``; the agent's
retry of the same action is then allowed once. Records live in
``.flockguard/state/approvals.jsonl`` (through the L1 coordination log).
"""

from __future__ import annotations

import os
import zlib

from flockguard.locking import coordlog
from flockguard.model import ALLOW, ASK, DENY, Decision

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

APPROVALS = os.path.join(".flockguard", "state", "approvals.jsonl")


def key(decision: Decision) -> str:
    """What makes two actions "the same" for an approval: kind, canonical paths, command."""
    action = decision.action
    paths = ";".join(f"{kind}:{','.join(sorted(p))}" for kind, p in sorted(decision.paths.items()))
    return f"{action.kind}|{paths}|{action.command}"


def _id(text: str) -> str:
    return f"{zlib.crc32(text.encode('utf-8', 'surrogateescape')):08x}"


def states(root: str) -> dict[str, dict[str, Any]]:
    """Every approval id with its latest record (pending, approved, used)."""
    found: dict[str, dict[str, Any]] = {}
    for record in coordlog.read(os.path.join(root, APPROVALS)).records:
        if isinstance(record.get("approval"), str):
            found[record["approval"]] = {**found.get(record["approval"], {}), **record}
    return found


def settle(decision: Decision, root: str, platform: str) -> Decision:
    """For a platform without `ask`: allow once if approved, else refuse with an id."""
    if decision.outcome != ASK:
        return decision
    text = key(decision)
    approval = _id(text)
    path = os.path.join(root, APPROVALS)
    record = states(root).get(approval, {})
    if record.get("state") == "approved" and record.get("key") == text:
        coordlog.append(path, {"approval": approval, "state": "used", "key": text})
        findings = tuple(
            f.replace(
                effective=ALLOW,
                message=f"{f.message} Approved by a person (approval {approval}); allowed once.",
            )
            if f.effective == ASK
            else f
            for f in decision.findings
        )
        return Decision(decision.action, findings, paths=decision.paths, context=decision.context)
    if record.get("state") != "pending":
        summary = "; ".join(f.path or f.code for f in decision.findings if f.effective == ASK)
        coordlog.append(
            path,
            {
                "approval": approval,
                "state": "pending",
                "key": text,
                "platform": platform,
                "agent": decision.action.agent,
                "summary": summary,
            },
        )
    findings = tuple(
        f.replace(
            effective=DENY,
            message=f"{f.message} This agent cannot ask a person directly: a person approves it "
            f"with `flockguard approve {approval}`, then retry the same action once.",
        )
        if f.effective == ASK
        else f
        for f in decision.findings
    )
    return Decision(decision.action, findings, paths=decision.paths, context=decision.context)


def approve(root: str, approval: str, by: str) -> dict[str, Any]:
    record = states(root).get(approval)
    if record is None:
        from flockguard.errors import FlockguardError

        raise FlockguardError(
            "approval-unknown", f"no pending approval {approval}", "`flockguard approve --list`"
        )
    return coordlog.append(
        os.path.join(root, APPROVALS),
        {"approval": approval, "state": "approved", "key": record.get("key", ""), "by": by},
    )
