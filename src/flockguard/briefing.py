"""What an agent is told at session start: that flockguard is on, and what it guards."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flockguard.config import Config, PathClass

PER_TIER_LIMIT = 12  # patterns listed per tier; the rest are counted


def _patterns(classes: tuple[PathClass, ...], tier: str) -> str:
    found = [p[0] for c in classes if c.tier == tier for p in c.patterns if p[2]]
    listed = ", ".join(found[:PER_TIER_LIMIT])
    more = len(found) - PER_TIER_LIMIT
    return listed + (f" and {more} more" if more > 0 else "")


def briefing(config: Config, agent: str) -> str:
    lines = [
        f"flockguard guards this repository; you are agent `{agent}`. "
        "Policy: .flockguard/config.toml (only a person changes it).",
    ]
    for tier, label in (
        ("block", "Writes refused"),
        ("checkpoint", "Writes that need a person's approval"),
        ("warn", "Writes allowed but audited"),
    ):
        listed = _patterns(config.write, tier)
        if listed:
            lines.append(f"{label}: {listed}.")
    for tier, label in (("deny", "Reads refused"), ("ask", "Reads that need approval")):
        listed = _patterns(config.read, tier)
        if listed:
            lines.append(f"{label}: {listed}.")
    lines.append(
        "The same rules apply to shell commands. A refusal names its rule (FG###) and what to "
        "do instead: follow it, do not look for another way to the same path."
    )
    return "\n".join(lines)
