"""Every rule flockguard knows: stable codes and names, never reused, never derived from modules.

Codes: FG1xx write guard, FG2xx read guard, FG3xx shell analysis, FG4xx compliance, FG5xx
orchestration, FG6xx budget, FG7xx orchestrator locks, FG8xx quality, FG9xx flockguard itself.
Each code has a page under docs/rules/ (a test fails on a missing or orphan page).
"""

from __future__ import annotations

from flockguard.model import ENFORCE, MONITOR, STAGES, WARN, Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

STABLE = "stable"
PREVIEW = "preview"


class Rule(Value):
    __slots__ = ("code", "name", "validator", "default_stage", "maturity", "summary")
    code: str
    name: str
    validator: str
    default_stage: str
    maturity: str
    summary: str

    def __init__(
        self,
        code: str,
        name: str,
        validator: str,
        summary: str,
        *,
        default_stage: str = ENFORCE,
        maturity: str = STABLE,
    ) -> None:
        self._fill(locals())


def _registry(*rules: Rule) -> dict[str, Rule]:
    registry: dict[str, Rule] = {}
    names: set[str] = set()
    for rule in rules:
        code = rule.code
        if len(code) != 5 or not code.startswith("FG") or not code[2:].isdigit() or code[2] == "0":
            raise ValueError(f"rule code {code!r} is not FG followed by three digits")
        if code in registry or rule.name in names:
            raise ValueError(f"rule {code} {rule.name} is registered twice")
        if rule.default_stage not in STAGES:
            raise ValueError(f"rule {code} has unknown default stage {rule.default_stage!r}")
        registry[code] = rule
        names.add(rule.name)
    return registry


RULES: Mapping[str, Rule] = _registry(
    Rule("FG101", "write-blocked", "write_guard",
         "A write to a path in a block-tier class is refused."),
    Rule("FG102", "write-needs-approval", "write_guard",
         "A write to a path in a checkpoint-tier class waits for a human's approval."),
    Rule("FG103", "write-audited", "write_guard",
         "A write to a path in a warn-tier class is allowed, shown and audited."),
    Rule("FG104", "write-outside-repo", "write_guard",
         "A write to a path outside the repository gets the configured outside-repo tier."),
    Rule("FG201", "read-denied", "read_guard",
         "A read of credential or key material in a deny-tier class is refused."),
    Rule("FG202", "read-needs-approval", "read_guard",
         "A read of a path in an ask-tier class waits for a human's approval."),
    Rule("FG301", "shell-dynamic-target", "shell",
         "A shell command writes or reads a path that cannot be resolved before it runs."),
    Rule("FG302", "shell-unparsable", "shell",
         "A shell command cannot be parsed, so what it touches is unknown."),
    Rule("FG701", "lock-held-by-another-agent", "locks",
         "A write to a path another agent holds for write or intent_write is refused."),
    Rule("FG702", "read-while-write-locked", "locks",
         "A read of a file another agent holds for write is allowed with a warning."),
    Rule("FG703", "commit-touches-locked-path", "precommit",
         "A commit touching paths another agent holds for write or intent_write is refused."),
    Rule("FG704", "lock-queued-for-by-another-agent", "locks",
         "An edit of a file another agent is already queued for is refused: no lease, no edit."),
    Rule("FG900", "validator-crashed", "engine",
         "A validator raised an exception; the outcome follows on_internal_error."),
    Rule("FG901", "config-invalid", "engine",
         "The policy file cannot be read or is invalid; the outcome follows on_internal_error."),
    Rule("FG902", "hook-input-invalid", "hook",
         "The hook's input is empty, not JSON, or lacks a field the platform always sends."),
    Rule("FG903", "hook-crashed", "hook",
         "The hook itself failed; it still answers, by on_internal_error."),
    Rule("FG904", "lock-table-unavailable", "locks",
         "The lock table cannot be read or written; the outcome follows on_internal_error."),
)  # fmt: skip

# FG9xx report flockguard's own failures: their outcome is on_internal_error, never a stage.
INTERNAL_PREFIX = "FG9"

# A stage setting: the stage, and the ISO date after which a monitor/warn stage enforces.
StageSetting = tuple[str, str]


def stage_for(code: str, stages: Mapping[str, StageSetting], today: str) -> str:
    """The stage of ``code`` under ``stages``: the longest matching code prefix wins.

    A preview rule stays in monitor unless its exact code is named. ``today`` is an ISO date.
    """
    rule = RULES.get(code)
    if code.startswith(INTERNAL_PREFIX):
        return ENFORCE
    if rule is not None and rule.maturity == PREVIEW and code not in stages:
        return MONITOR
    best = ""
    for prefix in stages:
        if code.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    if not best:
        return rule.default_stage if rule else ENFORCE
    stage, observe_until = stages[best]
    if stage in (MONITOR, WARN) and observe_until and today > observe_until:
        return ENFORCE
    return stage
