"""L2 write guard: block / checkpoint / warn tiers on protected paths, and outside-repo writes."""

from __future__ import annotations

import os

from flockguard.engine import describe
from flockguard.model import ASK, DENY, WARN, Finding
from flockguard.validators.guard import WRITE_TIERS, contents, finding, home_policy, strictest

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
    real_root = os.path.realpath(ctx.config.root)
    for target in ctx.deletes:
        yield from _judge(target, ctx.config, real_root)


def _judge(target: Target, config: Config, real_root: str = "") -> Iterator[Finding]:
    """Findings for one write; with ``real_root``, a delete: a directory's contents count."""
    hit = strictest(target, config.write, WRITE_TIERS)
    shown = target
    home = home_policy(target, config) if hit is None else None
    if home is not None:
        shown, hit = home[1], strictest(home[1], home[0].write, WRITE_TIERS)
    if hit is None and real_root:
        for name in contents(target, real_root):
            real = os.path.join(real_root, name)
            inner = target.replace(shown=name, names=(name,), real=real, is_dir=False)
            hit = strictest(inner, config.write, WRITE_TIERS)
            if hit is not None:
                shown = inner
                break
    if hit is not None:
        yield finding(TIERS, shown, hit)
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
