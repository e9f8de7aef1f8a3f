"""The lock table's rules as a pure function of its state: who is granted, who is refused.

Backends load the state inside one transaction, call :func:`step`, and store what changed, so
every backend decides alike.
"""

from __future__ import annotations

from itertools import chain

from flockguard.locking.resources import GLOB_CHARS, PRIORITIES, compatible, rank
from flockguard.model import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any


class Holding(Value):
    """A granted lock. ``owner`` keeps it alive (:mod:`flockguard.locking.liveness`); ``ttl`` is
    the lease length it renews to."""

    __slots__ = (
        "resource",
        "agent",
        "mode",
        "priority",
        "token",
        "since",
        "expires",
        "ttl",
        "owner",
    )
    resource: str
    agent: str
    mode: str
    priority: str
    token: int
    since: float
    expires: float
    ttl: float
    owner: str

    def __init__(
        self,
        resource: str,
        agent: str,
        mode: str,
        priority: str,
        token: int,
        since: float,
        expires: float,
        ttl: float = 0.0,
        owner: str = "",
    ) -> None:
        self._fill(locals())


class Waiting(Value):
    """A queued request; ``ttl`` is the lease it asks for, ``expires`` when the request lapses,
    ``owner`` what keeps it (and the lock it becomes) alive, ``wake`` the waiting process's
    presence to wake when it is granted or refused ("" when nobody waits in person)."""

    __slots__ = (
        "id", "resource", "agent", "mode", "priority", "since", "expires", "ttl", "owner", "wake",
    )  # fmt: skip
    id: int
    resource: str
    agent: str
    mode: str
    priority: str
    since: float
    expires: float
    ttl: float
    owner: str
    wake: str

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
        owner: str = "",
        wake: str = "",
    ) -> None:
        self._fill(locals())


def effective(waiting: Waiting, now: float, promote_after: float) -> int:
    """Priority class after aging: one class up per ``promote_after`` seconds waited."""
    steps = int((now - waiting.since) // promote_after) if promote_after > 0 else 0
    return min(rank(waiting.priority) + max(steps, 0), len(PRIORITIES) - 1)


def order(waiters: list[Waiting], now: float, promote_after: float) -> list[Waiting]:
    """Queue order: effective priority, then first come first served."""
    return sorted(waiters, key=lambda w: (-effective(w, now, promote_after), w.since, w.id))


def _plain(resource: str) -> bool:
    return not resource.endswith("/") and not GLOB_CHARS & set(resource)


class _ByResource:
    """Locks or requests indexed by plain path, so that a fleet's table is not searched pairwise:
    a plain path can only meet the same path, or a directory or glob (kept aside, few)."""

    def __init__(self) -> None:
        self.plain: dict[str, list[Any]] = {}
        self.broad: list[Any] = []

    def add(self, item: Any) -> None:
        if _plain(item.resource):
            self.plain.setdefault(item.resource, []).append(item)
        else:
            self.broad.append(item)

    def remove(self, item: Any) -> None:
        bucket = self.plain.get(item.resource) if _plain(item.resource) else self.broad
        if bucket is not None:
            bucket[:] = [other for other in bucket if other is not item]

    def conflicting(self, request: Waiting) -> Iterator[Any]:
        """Entries of other agents whose locks cannot coexist with ``request``, in the order
        they were added (a caller that needs only the first live one stops there)."""
        if _plain(request.resource):
            candidates = chain(self.plain.get(request.resource, ()), self.broad)
        else:
            candidates = chain(self.broad, *self.plain.values())
        for item in candidates:  # not copied: callers change the index only after a look
            if item.agent != request.agent and not compatible(
                item.mode, item.resource, request.mode, request.resource
            ):
                yield item


def blockers(request: Waiting, holders: list[Holding]) -> list[Holding]:
    """Holders of other agents whose locks cannot coexist with ``request``."""
    return [
        h
        for h in holders
        if h.agent != request.agent
        and not compatible(h.mode, h.resource, request.mode, request.resource)
    ]


class Step(Value):
    """What one scheduler run decided. ``reaped``: leases that expired; ``orphaned``: leases
    whose owner died; ``dropped``: requests whose owner died."""

    __slots__ = (
        "holders", "granted", "waiting", "refused", "reaped", "next_token", "orphaned", "dropped",
    )  # fmt: skip
    holders: list[Holding]
    granted: list[Holding]
    waiting: list[Waiting]
    refused: list[tuple[Waiting, str]]
    reaped: list[Holding]
    next_token: int
    orphaned: list[Holding]
    dropped: list[Waiting]

    def __init__(
        self,
        holders: list[Holding],
        granted: list[Holding],
        waiting: list[Waiting],
        refused: list[tuple[Waiting, str]],
        reaped: list[Holding],
        next_token: int,
        orphaned: list[Holding] | None = None,
        dropped: list[Waiting] | None = None,
    ) -> None:
        orphaned = orphaned or []
        dropped = dropped or []
        self._fill(locals())

    @property
    def changed(self) -> bool:
        return bool(self.granted or self.refused or self.reaped or self.orphaned or self.dropped)


def step(
    holders: list[Holding],
    waiters: list[Waiting],
    *,
    now: float,
    next_token: int,
    promote_after: float,
    alive: Callable[[str], bool] | None = None,
    sweep: bool = False,
) -> Step:
    """Reap expired leases and requests, grant what can be granted in queue order (a request
    never overtakes an earlier one it conflicts with), and refuse the youngest request of every
    waits-for cycle.

    With ``alive`` (owner handle -> may it be alive?), a lock whose owner died is taken away when
    it stands in someone's way, a request whose owner died is dropped when it is about to be
    granted or stands in someone's way, and so a grant only ever goes to a live owner. ``sweep``
    asks about every owner, not only those in the way.
    """
    verdicts: dict[str, bool] = {}

    def lives(owner: str) -> bool:
        if alive is None or not owner:
            return True
        if owner not in verdicts:
            verdicts[owner] = alive(owner)
        return verdicts[owner]

    reaped = [h for h in holders if h.expires <= now]
    live = [h for h in holders if h.expires > now]
    orphaned = [h for h in live if sweep and not lives(h.owner)]
    if orphaned:
        live = [h for h in live if h not in orphaned]
    pending = [w for w in waiters if w.expires > now]
    dropped = [w for w in pending if sweep and not lives(w.owner)]
    queue = order([w for w in pending if w not in dropped], now, promote_after)
    granted, live, still, more_orphans, more_dropped, next_token = _grant(
        queue, live, next_token, now, lives
    )
    orphaned += more_orphans
    dropped += more_dropped
    refused = _break_cycles(still, live, now, promote_after) if _may_cycle(still, live) else []
    refused_ids = {w.id for w, _ in refused}
    return Step(
        live,
        granted,
        [w for w in still if w.id not in refused_ids],
        refused,
        reaped,
        next_token,
        orphaned,
        dropped,
    )


def _grant(
    queue: list[Waiting],
    live: list[Holding],
    next_token: int,
    now: float,
    lives: Callable[[str], bool],
) -> tuple[list[Holding], list[Holding], list[Waiting], list[Holding], list[Waiting], int]:
    """Grant in queue order: (granted, holders, still waiting, orphaned, dropped, next token).

    A request waits while a live holder or an earlier live request stands in its way; holders and
    requests of dead owners in its way are taken out (orphaned, dropped) as they are met.
    """
    orphaned: list[Holding] = []
    dropped: list[Waiting] = []
    held = _ByResource()
    for holding in live:
        held.add(holding)
    queued = _ByResource()
    granted: list[Holding] = []
    still: list[Waiting] = []
    gone: set[int] = set()  # ids of entries taken out during this run (identity, not equality)
    for request in queue:
        # the dead are asked after only where they stand in the way: holders in the way of a
        # request, and earlier requests in the way of one nothing else holds up
        standing = False
        dead_holders = []
        for holding in held.conflicting(request):
            if lives(holding.owner):
                standing = True
            else:  # nobody behind it any more: it goes
                dead_holders.append(holding)
        for holding in dead_holders:
            held.remove(holding)
            gone.add(id(holding))
            orphaned.append(holding)
        ahead = False
        dead_waiters = []
        if not standing:  # held up by a holder, it waits either way: no need to look further
            for waiting in queued.conflicting(request):
                if lives(waiting.owner):
                    ahead = True  # one live request before it is enough
                    break
                dead_waiters.append(waiting)
        for waiting in dead_waiters:
            queued.remove(waiting)
            gone.add(id(waiting))
            dropped.append(waiting)
        if standing or ahead:
            still.append(request)
            queued.add(request)
            continue
        if not lives(request.owner):  # never grant to the dead
            dropped.append(request)
            continue
        # granted: an upgrade replaces the agent's own lock on the same resource
        for mine in [
            h for h in live if h.agent == request.agent and h.resource == request.resource
        ]:
            held.remove(mine)
            gone.add(id(mine))
        holding = Holding(
            request.resource,
            request.agent,
            request.mode,
            request.priority,
            next_token,
            now,
            now + request.ttl,
            request.ttl,
            request.owner,
        )
        next_token += 1
        live.append(holding)
        held.add(holding)
        granted.append(holding)
    if gone:
        live = [h for h in live if id(h) not in gone]
        still = [w for w in still if id(w) not in gone]
    return granted, live, still, orphaned, dropped, next_token


def _may_cycle(still: list[Waiting], live: list[Holding]) -> bool:
    """A waits-for cycle needs an agent that waits while it holds, or waits twice: without one,
    every edge leads to a holder that waits for nobody or to a request earlier in the queue."""
    waiting = [w.agent for w in still]
    agents = set(waiting)
    return len(agents) < len(waiting) or bool(agents & {h.agent for h in live})


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
