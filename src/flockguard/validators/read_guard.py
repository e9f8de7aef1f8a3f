"""L3 read guard: deny / ask on credential and key material, for file tools and the shell."""

from __future__ import annotations

from flockguard.model import ASK, DENY, Finding
from flockguard.validators.guard import READ_TIERS, message, strictest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from flockguard.engine import Context
    from flockguard.model import Action

CODES = ("FG201", "FG202")

# tier -> (code, outcome, verb, advice)
TIERS = {
    "deny": (
        "FG201",
        DENY,
        "Read of `{path}` refused",
        "Do not read or print this file by any means; ask the person you work for for the one "
        "non-secret value you need, or use a `.env.example`-style template.",
    ),
    "ask": (
        "FG202",
        ASK,
        "Read of `{path}` needs a person's approval",
        "A person must approve this read; if refused, work without it.",
    ),
}


def check(action: Action, ctx: Context) -> Iterator[Finding]:
    del action
    for target in ctx.reads:
        hit = strictest(target, ctx.config.read, READ_TIERS)
        if hit is None:
            continue
        path_class = hit[0]
        code, outcome, verb, advice = TIERS[path_class.tier]
        yield Finding(
            code,
            outcome,
            message(verb, code, target, hit, advice),
            path=target.shown,
            hint=advice,
            adr=path_class.adr,
        )
