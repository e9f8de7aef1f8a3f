"""The lock table's rules as a pure function of its state: who is granted, who is refused.

Backends load the state inside one transaction, call :func:`step`, and store what changed, so
every backend decides alike.
"""

from __future__ import annotations

from flockguard.locking.resources import PRIORITIES, compatible, rank
from flockguard.model import Value


class Holding(Value):
    __slots__ = ("resource", "agent", "mode", "priority", "token", "since", "expires")
    resource: str
    agent: str
    mode: str
    priority: str
    token: int
    since: float
    expires: float

    def __init__(
        self,
        resource: str,
        agent: str,
        mode: str,
        priority: str,
        token: int,
        since: float,
        expires: float,
    ) -> None:
        self._fill(locals())


class Waiting(Value):
    """A queued request; ``ttl`` is the lease it asks for, ``expires`` when the request lapses."""

    __slots__ = ("id", "resource", "agent", "mode", "priority", "since", "expires", "ttl")
    id: int
    resource: str
    agent: str
    mode: str
    priority: str
    since: float
    expires: float
    ttl: float

    def __init__(
        self,
        id: int,
        resource: str,
        agent: str,
        mode: str,
        priority: str,
        since: float,
        expires: float,
        ttl: float,
    ) -> None:
        self._fill(locals())


def effective(waiting: Waiting, now: float, promote_after: float) -> int:
    """Priority class after aging: one class up per ``promote_after`` seconds waited."""
    steps = int((now - waiting.since) // promote_after) if promote_after > 0 else 0
    return min(rank(waiting.priority) + max(steps, 0), len(PRIORITIES) - 1)


def order(waiters: list[Waiting], now: float, promote_after: float) -> list[Waiting]:
    """Queue order: effective priority, then first come first served."""
    return sorted(waiters, key=lambda w: (-effective(w, now, promote_after), w.since, w.id))


def blockers(request: Waiting, holders: list[Holding]) -> list[Holding]:
    """Holders of other agents whose locks cannot coexist with ``request``."""
    return [
        h
        for h in holders
        if h.agent != request.agent
        and not compatible(h.mode, h.resource, request.mode, request.resource)
    ]


class Step(Value):
    __slots__ = ("holders", "granted", "waiting", "refused", "reaped", "next_token")
    holders: list[Holding]
    granted: list[Holding]
    waiting: list[Waiting]
    refused: list[tuple[Waiting, str]]
    reaped: list[Holding]
    next_token: int

    def __init__(
        self,
        holders: list[Holding],
        granted: list[Holding],
        waiting: list[Waiting],
        refused: list[tuple[Waiting, str]],
        reaped: list[Holding],
        next_token: int,
    ) -> None:
        self._fill(locals())


def step(
    holders: list[Holding],
    waiters: list[Waiting],
    *,
    now: float,
    next_token: int,
    promote_after: float,
) -> Step:
    """Reap expired leases and requests, grant what can be granted in queue order (a request
    never overtakes an earlier one it conflicts with), and refuse the youngest request of every
    waits-for cycle."""
    reaped = [h for h in holders if h.expires <= now]
    live = [h for h in holders if h.expires > now]
    queue = order([w for w in waiters if w.expires > now], now, promote_after)
    granted: list[Holding] = []
    still: list[Waiting] = []
    for request in queue:
        ahead = [
            w
            for w in still
            if w.agent != request.agent
            and not compatible(w.mode, w.resource, request.mode, request.resource)
        ]
        if blockers(request, live) or ahead:
            still.append(request)
            continue
        # granted: an upgrade replaces the agent's own lock on the same resource
        live = [
            h for h in live if not (h.agent == request.agent and h.resource == request.resource)
        ]
        holding = Holding(
            request.resource,
            request.agent,
            request.mode,
            request.priority,
            next_token,
            now,
            now + request.ttl,
        )
        next_token += 1
        live.append(holding)
        granted.append(holding)
    refused = _break_cycles(still, live, now, promote_after)
    refused_ids = {w.id for w, _ in refused}
    return Step(
        live,
        granted,
        [w for w in still if w.id not in refused_ids],
        refused,
        reaped,
        next_token,
    )


def _waits_for(
    still: list[Waiting], live: list[Holding], now: float, promote_after: float
) -> dict[int, set[str]]:
    """For each queued request (by id): the agents it waits for."""
    edges: dict[int, set[str]] = {}
    queue = order(still, now, promote_after)
    for index, request in enumerate(queue):
        targets = {h.agent for h in blockers(request, live)}
        targets |= {
            w.agent
            for w in queue[:index]
            if w.agent != request.agent
            and not compatible(w.mode, w.resource, request.mode, request.resource)
        }
        edges[request.id] = targets
    return edges


def _break_cycles(
    still: list[Waiting], live: list[Holding], now: float, promote_after: float
) -> list[tuple[Waiting, str]]:
    refused: list[tuple[Waiting, str]] = []
    remaining = list(still)
    while True:
        by_request = _waits_for(remaining, live, now, promote_after)
        agents: dict[str, set[str]] = {}
        for request in remaining:
            agents.setdefault(request.agent, set()).update(by_request.get(request.id, set()))
        cycle = _find_cycle(agents)
        if not cycle:
            return refused
        # only a request that is itself an edge of the cycle may be refused for it
        following = {cycle[i]: cycle[(i + 1) % len(cycle)] for i in range(len(cycle))}
        members = [
            w
            for w in remaining
            if w.agent in following and following[w.agent] in by_request.get(w.id, set())
        ]
        youngest = max(members, key=lambda w: (w.since, w.id))
        path = " → ".join([*cycle, cycle[0]])
        refused.append(
            (
                youngest,
                f"deadlock: {path} wait for each other; refused the youngest request "
                f"({youngest.agent}: {youngest.mode} {youngest.resource})",
            )
        )
        remaining = [w for w in remaining if w.id != youngest.id]


def _find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle in the waits-for graph, as the agents along it ([] when none)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(agent: str) -> list[str]:
        state[agent] = 1
        stack.append(agent)
        for other in sorted(edges.get(agent, ())):
            if state.get(other) == 1:
                return stack[stack.index(other) :]
            if other not in state:
                found = visit(other)
                if found:
                    return found
        stack.pop()
        state[agent] = 2
        return []

    for agent in sorted(edges):
        if agent not in state:
            found = visit(agent)
            if found:
                return found
    return []
