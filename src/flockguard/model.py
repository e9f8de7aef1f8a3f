"""Value types of the hook path: immutable, no I/O.

They are slotted classes rather than NamedTuples or dataclasses because ``typing`` and
``dataclasses`` cost 2-8 ms of import on every agent action (research/aesthetics.md §0).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Self

# Outcomes, weakest first: the decision for an action is the strongest of its findings.
ALLOW = "allow"
WARN = "warn"
ASK = "ask"
DENY = "deny"
OUTCOMES = (ALLOW, WARN, ASK, DENY)
RANK = {name: rank for rank, name in enumerate(OUTCOMES)}

# Rollout stages of a rule.
MONITOR = "monitor"
ENFORCE = "enforce"
STAGES = (MONITOR, WARN, ENFORCE)

# What an action does; platforms map their tools onto these.
READ = "read"
WRITE = "write"
DELETE = "delete"
SHELL = "shell"
SEARCH = "search"
PROMPT = "prompt"
SESSION_START = "session-start"
SESSION_END = "session-end"
POST = "post"
OTHER = "other"
UNKNOWN = "unknown"  # the payload could not be read: assume the worst
# Kinds that change files or may: an internal error fails closed on these by default.
MUTATING = frozenset({WRITE, DELETE, SHELL, UNKNOWN})
# Kinds whose paths the guards look at.
GUARDED = frozenset({READ, WRITE, DELETE, SHELL, SEARCH})


def strongest(outcomes: Mapping[str, object] | tuple[str, ...] | list[str]) -> str:
    """The strongest of ``outcomes`` (``allow`` when empty)."""
    best = ALLOW
    for outcome in outcomes:
        if RANK[outcome] > RANK[best]:
            best = outcome
    return best


class Value:
    """An immutable record whose fields are its ``__slots__``."""

    __slots__: tuple[str, ...] = ()

    def _fill(self, values: Mapping[str, Any]) -> None:
        for name in self.__slots__:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._fields()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({inner})"

    def replace(self, **changes: Any) -> Self:
        values = {name: getattr(self, name) for name in self.__slots__}
        values.update(changes)
        new = object.__new__(type(self))
        new._fill(values)
        return new

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


class Action(Value):
    """One thing an agent is about to do (or did, for ``post``), in platform-neutral terms.

    ``reads``/``writes``/``deletes`` are paths as the agent gave them (absolute, or relative to
    ``cwd``); the engine canonicalises them. ``globs`` narrow a directory read to the files
    matching them (a search tool's filter). A shell action carries its ``command`` instead and
    the engine analyses it.
    """

    __slots__ = (
        "platform", "event", "kind", "tool", "session", "agent", "cwd",
        "reads", "writes", "deletes", "globs", "command", "text", "raw",
    )  # fmt: skip
    platform: str
    event: str
    kind: str
    tool: str
    session: str
    agent: str
    cwd: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    deletes: tuple[str, ...]
    globs: tuple[str, ...]
    command: str
    text: str
    raw: Mapping[str, Any]

    def __init__(
        self,
        *,
        platform: str,
        event: str,
        kind: str,
        tool: str = "",
        session: str = "",
        agent: str = "",
        cwd: str = "",
        reads: tuple[str, ...] = (),
        writes: tuple[str, ...] = (),
        deletes: tuple[str, ...] = (),
        globs: tuple[str, ...] = (),
        command: str = "",
        text: str = "",
        raw: Mapping[str, Any] | None = None,
    ) -> None:
        self._fill(locals() | {"raw": raw or {}})


class Finding(Value):
    """What one rule says about one action.

    ``outcome`` is what the rule asks for when enforced; ``stage`` is the rule's resolved rollout
    stage and ``effective`` what it amounts to at that stage.
    """

    __slots__ = ("code", "outcome", "message", "path", "hint", "adr", "stage", "effective")
    code: str
    outcome: str
    message: str
    path: str
    hint: str
    adr: str
    stage: str
    effective: str

    def __init__(
        self,
        code: str,
        outcome: str,
        message: str,
        *,
        path: str = "",
        hint: str = "",
        adr: str = "",
        stage: str = ENFORCE,
        effective: str = "",
    ) -> None:
        self._fill(locals() | {"effective": effective or outcome})


class Decision(Value):
    """The answer for one action: the strongest effective finding wins."""

    __slots__ = ("action", "outcome", "findings", "would", "paths", "context")
    action: Action
    outcome: str
    findings: tuple[Finding, ...]
    would: str
    paths: Mapping[str, tuple[str, ...]]
    context: str

    def __init__(
        self,
        action: Action,
        findings: tuple[Finding, ...] = (),
        *,
        paths: Mapping[str, tuple[str, ...]] | None = None,
        context: str = "",
    ) -> None:
        self._fill(
            {
                "action": action,
                "findings": findings,
                "paths": paths or {},
                "outcome": strongest([f.effective for f in findings]),
                # what enforcing every rule would have done: monitor mode's evidence
                "would": strongest([f.outcome for f in findings]),
                "context": context,
            }
        )

    @property
    def would_deny(self) -> bool:
        return self.would == DENY and self.outcome != DENY
