"""Shell commands whose effects cannot be pinned down before they run (FG301, FG302)."""

from __future__ import annotations

from flockguard.model import Finding

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
            f"Shell command not understood: {analysis.parse_error}. FG302 shell-unparsable: "
            "what it would read or write is unknown. Split it into simpler commands, or use "
            "the file tools. Rule: docs/rules/FG302.md.",
            hint="rewrite the command in plain, complete shell syntax",
        )
    for reason in analysis.dynamic:
        yield Finding(
            "FG301",
            config.shell_dynamic,
            f"Shell command target unknown: {reason}. FG301 shell-dynamic-target: a protected "
            "path could be involved. Spell the path out literally. Rule: docs/rules/FG301.md.",
            hint="spell the path out literally",
        )
    del action
