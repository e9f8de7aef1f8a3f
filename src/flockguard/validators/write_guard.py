"""L2 write guard: block / checkpoint / warn tiers on protected paths, and outside-repo writes."""

from __future__ import annotations

import os

from flockguard.engine import describe
from flockguard.model import ASK, DENY, WARN, Finding
from flockguard.validators.guard import (
    WRITE_TIERS,
    finding,
    home_policy,
    strictest,
    strictest_within,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from flockguard.config import Config
    from flockguard.engine import Context
    from flockguard.model import Action
    from flockguard.paths import Target
    from flockguard.validators.guard import Tiers

CODES = ("FG101", "FG102", "FG103", "FG104")

# tier -> (code, outcome, verb, advice)
TIERS: Tiers = {
    "block": (
        "FG101",
        DENY,
        "Write to `{path}` refused",
        "Do not change this path, also not through the shell; if the change is needed, ask "
        "the person you work for to make it.",
    ),
    "checkpoint": (
        "FG102",
        ASK,
        "Write to `{path}` needs a person's approval",
        "A person must approve this write; if refused, leave the path unchanged.",
    ),
    "warn": (
        "FG103",
        WARN,
        "Write to `{path}` allowed but audited",
        "The write is allowed and recorded in the audit log.",
    ),
}


def check(action: Action, ctx: Context) -> Iterator[Finding]:
    del action  # the canonical targets in ctx carry all it needs
    for target in ctx.writes:
        yield from _judge(target, ctx.config)
    for target in ctx.deletes:
        yield from _judge(target, ctx.config, deleting=True)


def _judge(target: Target, config: Config, deleting: bool = False) -> Iterator[Finding]:
    """Findings for one write; a delete also touches everything under a directory."""
    policy, seen = config, target
    hit = strictest(target, config.write, WRITE_TIERS)
    if hit is None:
        home = home_policy(target, config)  # inside another flockguard repository
        if home is not None:
            policy, seen = home
            hit = strictest(seen, policy.write, WRITE_TIERS)
    if deleting and (hit is None or hit[0].tier != WRITE_TIERS[0]):
        inner = strictest_within(seen, policy.write, WRITE_TIERS, os.path.realpath(policy.root))
        if inner and (
            hit is None or WRITE_TIERS.index(inner[1][0].tier) < WRITE_TIERS.index(hit[0].tier)
        ):
            seen, hit = inner
    if hit is not None:
        yield finding(TIERS, seen, hit)
    if not target.inside and config.outside_write != "allow":
        absolute = "/" + target.names[-1]
        if config.outside_allow.match(target.names[-1]):
            return
        _, outcome, verb, _ = TIERS[config.outside_write]
        advice = "Keep changes inside the repository; put scratch files under /tmp."
        yield Finding(
            "FG104",
            outcome,
            f"{verb.format(path=absolute)}: {describe('FG104')} — it is outside the repository "
            f"(outside_repo.write = {config.outside_write}). {advice} Rule: docs/rules/FG104.md.",
            path=absolute,
            hint=advice,
        )
