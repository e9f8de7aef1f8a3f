"""evaluate(action, config) -> Decision: the validator chain, stage resolution, crash capture."""

from __future__ import annotations

import os
import time

from flockguard import model
from flockguard.model import ALLOW, DENY, ENFORCE, MONITOR, WARN, Decision, Finding, Value
from flockguard.paths import Target, resolve
from flockguard.rules import RULES, stage_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Protocol

    from flockguard.config import Config
    from flockguard.model import Action
    from flockguard.shell import Analysis

    class Validator(Protocol):
        """What a module in flockguard/validators/ provides."""

        CODES: tuple[str, ...]

        def check(self, action: Action, ctx: Context) -> Iterable[Finding]: ...


# name -> (dotted module path, the action kinds it looks at). Order is evaluation order; a module
# is imported only when an action of one of its kinds arrives.
VALIDATORS: dict[str, tuple[str, frozenset[str]]] = {
    "shell": ("flockguard.validators.shell", frozenset({model.SHELL})),
    "write_guard": (
        "flockguard.validators.write_guard",
        frozenset({model.WRITE, model.DELETE, model.SHELL}),
    ),
    "read_guard": (
        "flockguard.validators.read_guard",
        frozenset({model.READ, model.SEARCH, model.SHELL}),
    ),
    # last: it claims leases, which only an otherwise allowed action should do
    "locks": (
        "flockguard.validators.locks",
        frozenset({model.READ, model.WRITE, model.DELETE, model.SHELL}),
    ),
}


class Context(Value):
    """What validators get beside the action: the policy and the canonical targets."""

    __slots__ = ("config", "reads", "writes", "deletes", "analysis")
    config: Config
    reads: tuple[Target, ...]
    writes: tuple[Target, ...]
    deletes: tuple[Target, ...]
    analysis: Analysis | None

    def __init__(self, action: Action, config: Config) -> None:
        analysis = None
        reads, writes, deletes = action.reads, action.writes, action.deletes
        if action.kind == model.SHELL:
            from flockguard.shell import analyze

            analysis = analyze(action.command)
            reads, writes, deletes = analysis.reads, analysis.writes, analysis.deletes
        cwd = action.cwd or config.root
        real_root = os.path.realpath(config.root)

        if analysis is not None:  # a copy into what turns out to be a directory
            inside = [
                os.path.join(folder, name)
                for folder, name in analysis.into
                if os.path.isdir(os.path.join(cwd, os.path.expanduser(folder)))
            ]
            writes = (*writes, *inside)

        def targets(raws: tuple[str, ...]) -> tuple[Target, ...]:
            found = [resolve(raw, cwd, config.root, real_root) for raw in raws]
            if analysis is not None:  # the shell expands globs: so do we, on what exists now
                for raw in raws:
                    found.extend(resolve(m, cwd, config.root, real_root) for m in _glob(raw, cwd))
            return tuple(found)

        self._fill(
            {
                "config": config,
                "reads": targets(reads),
                "writes": targets(writes),
                "deletes": targets(deletes),
                "analysis": analysis,
            }
        )

    def paths(self) -> dict[str, tuple[str, ...]]:
        found = {"read": self.reads, "write": self.writes, "delete": self.deletes}
        return {kind: tuple(t.shown for t in ts) for kind, ts in found.items() if ts}


GLOB_LIMIT = 1000  # matches judged per shell glob


def _glob(word: str, cwd: str) -> list[str]:
    """What a shell glob word names now (bash defaults: `*` skips dotfiles unless it is `.*`)."""
    if not any(char in word for char in "*?["):
        return []
    import glob
    import itertools

    pattern = os.path.join(cwd, os.path.expanduser(word))
    return list(itertools.islice(glob.iglob(pattern, recursive=True), GLOB_LIMIT))


def staged(finding: Finding, config: Config, today: str) -> Finding:
    """Apply the rule's rollout stage: monitor allows, warn caps at warn, enforce keeps."""
    stage = stage_for(finding.code, config.stages, today)
    if stage == MONITOR:
        effective = ALLOW
    elif stage == WARN and model.RANK[finding.outcome] > model.RANK[WARN]:
        effective = WARN
    else:
        effective = finding.outcome
    message = finding.message
    if effective != finding.outcome:
        message = (
            f"[{finding.code} is in its {stage} stage: allowed for now, recorded as "
            f"would-{finding.outcome}] {message}"
        )
    return finding.replace(stage=stage, effective=effective, message=message)


def internal_finding(code: str, problem: str, kind: str, on_internal_error: str) -> Finding:
    """An FG9xx finding: deny on file actions unless the policy says allow; else shown only."""
    fails_closed = on_internal_error == DENY and (kind in model.MUTATING or kind in model.GUARDED)
    if fails_closed:
        consequence = (
            "The action is refused until a person fixes this (on_internal_error = deny); "
            "tell the person you work for."
        )
    else:
        consequence = "This does not stop the action."
    return Finding(
        code,
        DENY if fails_closed else WARN,
        f"flockguard: {describe(code)} — {problem}. {consequence} Rule: docs/rules/{code}.md.",
        hint=consequence,
    )


def evaluate(action: Action, config: Config, *, today: str | None = None) -> Decision:
    """Run every validator that applies to ``action`` and decide."""
    today = today or time.strftime("%Y-%m-%d")
    try:
        ctx = Context(action, config)
    except Exception as exc:  # a path or command that cannot be analysed must not crash the hook
        finding = internal_finding(
            "FG900",
            f"the {action.kind} action could not be analysed ({type(exc).__name__}: {exc})",
            action.kind,
            config.on_internal_error,
        )
        return Decision(action, (finding,))
    findings: list[Finding] = []
    for name, (module_path, kinds) in VALIDATORS.items():
        if action.kind not in kinds:
            continue
        try:
            validator: Validator = __import__(module_path, fromlist=["check"])
            for finding in validator.check(action, ctx):
                findings.append(staged(finding, config, today))
        except Exception as exc:
            findings.append(
                internal_finding(
                    "FG900",
                    f"validator {name} crashed on {action.tool or action.kind} "
                    f"({type(exc).__name__}: {exc})",
                    action.kind,
                    config.on_internal_error,
                )
            )
        if any(f.effective == DENY and f.stage == ENFORCE for f in findings):
            break  # an enforced deny settles it; later validators cannot weaken it
    return Decision(action, tuple(findings), paths=ctx.paths())


def describe(code: str) -> str:
    rule = RULES.get(code)
    return f"{code} {rule.name}" if rule else code
