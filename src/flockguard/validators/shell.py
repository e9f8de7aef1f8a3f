"""Shell commands whose effects cannot be pinned down before they run (FG301, FG302)."""

from __future__ import annotations

import os

from flockguard.engine import describe
from flockguard.model import Finding
from flockguard.paths import resolve
from flockguard.validators.guard import READ_TIERS, WRITE_TIERS, strictest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from flockguard.engine import Context
    from flockguard.model import Action

CODES = ("FG301", "FG302")


def check(action: Action, ctx: Context) -> Iterator[Finding]:
    analysis = ctx.analysis
    if analysis is None:
        return
    config = ctx.config
    if analysis.parse_error:
        yield Finding(
            "FG302",
            config.shell_unparsable,
            f"Shell command not understood: {analysis.parse_error}. {describe('FG302')}: what "
            "it would read or write is unknown. Split it into simpler commands, or use the file "
            "tools. Rule: docs/rules/FG302.md.",
            hint="rewrite the command in plain, complete bash syntax",
        )
    cwd = action.cwd or config.root
    real_root = os.path.realpath(config.root)
    for kind, glob in analysis.dynamic:
        target = resolve(glob, cwd, config.root, real_root)
        if kind == "read":
            hit = strictest(target, config.read, READ_TIERS)
        else:
            hit = strictest(target, config.write, WRITE_TIERS)
        if hit is None:
            continue  # whatever it turns out to be, no protected path can be among it
        path_class, pattern = hit
        command = action.command if len(action.command) <= 160 else action.command[:159] + "…"
        shape = "any path" if target.shown in ("*", "") else f"`{target.shown}`"
        yield Finding(
            "FG301",
            config.shell_dynamic,
            f"Shell command `{command}`: its {kind} target is only known at run time ({shape}): "
            f"{describe('FG301')} — it could be a path in the `{path_class.name}` class "
            f"(pattern `{pattern}`, tier {path_class.tier}). Spell the path out literally so it "
            "can be checked. Rule: docs/rules/FG301.md.",
            path=target.shown,
            hint="spell the path out literally",
            adr=path_class.adr,
        )
