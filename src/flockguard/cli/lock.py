"""``flockguard lock acquire|release|renew|break``: the orchestrator's locks, from a shell.

Agents run these from their shell tool; ``--agent`` defaults to ``$FLOCKGUARD_AGENT``, which
flockguard sets for the agent's shell at session start where the platform allows.
"""

from __future__ import annotations

import json
import os
import sys

from flockguard.cli import options
from flockguard.errors import FlockguardError
from flockguard.locking.manager import NotHeld

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from flockguard.locking.manager import Grant, Manager

EXIT_NOT_GRANTED = 75  # sysexits EX_TEMPFAIL: held by someone else, try again or queue


def _agent(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--agent",
        default=os.environ.get("FLOCKGUARD_AGENT", ""),
        help="who asks (default: $FLOCKGUARD_AGENT)",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(
        dest="action", required=True, metavar="acquire|release|renew|break"
    )
    acquire = actions.add_parser("acquire", help="take a lock, or wait / queue for it")
    acquire.add_argument("resource", help="a path, a directory (dir/) or a glob (dir/**)")
    acquire.add_argument("--mode", required=True, choices=("read", "intent_write", "write"))
    acquire.add_argument(
        "--priority", default="normal", choices=("low", "normal", "high", "critical")
    )
    acquire.add_argument("--ttl", type=float, default=None, help="lease seconds (default 300)")
    acquire.add_argument("--wait", type=float, default=0.0, help="seconds to wait for it")
    acquire.add_argument(
        "--keep-queued", action="store_true", help="stay in the queue if not granted"
    )
    acquire.add_argument("--json", action="store_true", help="print the answer as JSON")
    _agent(acquire)
    options.add_repo(acquire)
    release = actions.add_parser("release", help="give a lock up (or --all of them)")
    release.add_argument("resource", nargs="?")
    release.add_argument("--all", action="store_true", dest="everything")
    _agent(release)
    options.add_repo(release)
    renew = actions.add_parser("renew", help="extend a lease")
    renew.add_argument("resource")
    renew.add_argument("--ttl", type=float, default=None)
    _agent(renew)
    options.add_repo(renew)
    breaking = actions.add_parser(
        "break", help="take every lock on a resource away (a person's override)"
    )
    breaking.add_argument("resource")
    options.add_repo(breaking)


def resource_of(root: str, given: str) -> str:
    """Repo-relative, with `/` after an existing directory; globs pass through."""
    if any(char in given for char in "*?["):
        return given
    here = os.path.realpath(os.getcwd())
    inside = os.path.commonpath([here, os.path.realpath(root)]) == os.path.realpath(root)
    # relative to where you stand inside the repository, else to its root
    base = os.getcwd() if inside else root
    path = given if os.path.isabs(given) else os.path.join(base, given)
    relative = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    if relative.startswith(".."):
        raise FlockguardError("lock-resource-invalid", f"{given}: outside the repository {root}")
    if os.path.isdir(path) or given.endswith("/"):
        return "./" if relative == "." else relative.rstrip("/") + "/"
    return relative


def run(**given: Any) -> int:
    from flockguard.locking.manager import utf8

    action = given["action"]
    root = options.repo_root(given["repo"])
    for what in ("agent", "resource"):
        if given.get(what):
            utf8(what, given[what])
    with manager_for(root) as manager:
        if action == "break":
            resource = resource_of(root, given["resource"])
            broken = manager.break_lock(resource)
            _audit(root, {"event": "lock-break", "resource": resource, "broken": broken})
            print(json.dumps({"broken": broken}))
            return 0
        agent = given["agent"]
        if not agent:
            raise FlockguardError(
                "lock-agent-missing", "no agent id", "pass --agent or set FLOCKGUARD_AGENT"
            )
        if action == "acquire":
            return _acquire(manager, root, agent, given)
        if action == "release":
            if given["everything"]:
                count = manager.release_all(agent)
                print(json.dumps({"released": count}))
                return 0
            if not given["resource"]:
                raise FlockguardError("usage", "name a resource, or --all")
            resource = resource_of(root, given["resource"])
            if not manager.release(resource, agent):  # a lost lease raises LeaseLost
                raise NotHeld(resource, agent)
            print(json.dumps({"released": 1}))
            return 0
        grant = manager.renew(resource_of(root, given["resource"]), agent, given["ttl"])
        print(json.dumps(grant.as_json()))
        return 0


def _acquire(manager: Manager, root: str, agent: str, given: dict[str, Any]) -> int:
    """Acquire for the agent's session. Until its caller has been told, the lock belongs to this
    process (a crash before the answer is out lets it go at once); then it is handed to the
    agent's session (its host process) or, when none is known, to its lease alone."""
    session = manager.session_owner(agent)
    kept = given["keep_queued"]
    grant = manager.acquire(
        resource_of(root, given["resource"]),
        given["mode"],
        agent,
        priority=given["priority"],
        ttl=given["ttl"],
        wait=given["wait"],
        keep_queued=kept,
        owner=session if kept else None,  # a kept request outlives this process
    )
    if given["json"]:
        text = json.dumps(grant.as_json())
    elif grant.granted:
        text = f"granted {grant.mode} on {grant.resource} to {agent} (token {grant.token})"
    else:
        text = "not granted: " + describe_refusal(grant)
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BaseException:
        if grant.granted:  # nobody learnt of it: it must not stay held
            manager.release(grant.resource, agent)
        raise
    if not grant.granted:
        return EXIT_NOT_GRANTED
    if not kept:
        try:
            manager.adopt(grant.resource, agent, session)
        except FlockguardError as exc:  # it would die with this process: say it is not held
            raise FlockguardError(
                exc.reference,
                f"{exc.message}; the lock was granted but could not be handed to {agent}, so it "
                "ends with this command: it is not held",
                exc.hint,
            ) from exc
    return 0


def describe_refusal(grant: Grant) -> str:
    """Why a request was not granted, naming holders and the earlier waiters in its way."""
    parts = []
    if grant.holders:
        parts.append("held by " + ", ".join(f"{h['agent']} ({h['mode']})" for h in grant.holders))
    if grant.waiters:
        parts.append(
            "queued behind "
            + ", ".join(f"{w['agent']} ({w['mode']}, #{w['position']})" for w in grant.waiters)
        )
    if grant.position:
        parts.append(f"kept in the queue at position {grant.position}")
    elif not grant.reason:
        parts.append("not queued (add --keep-queued to wait your turn)")
    text = "; ".join(parts) or "not granted"
    return f"{text}. {grant.reason}".rstrip(" .") + "."


def manager_for(root: str, *, readonly: bool = False) -> Manager:
    """The repository's lock manager with the policy's ``[locks]`` settings."""
    from flockguard.config import load
    from flockguard.locking.manager import open_manager

    settings = load(root).locks
    return open_manager(
        root,
        readonly=readonly,
        promote_after=settings.promote_after,
        default_ttl=settings.default_ttl,
    )


def _audit(root: str, record: dict[str, Any]) -> None:
    from flockguard.audit import AUDIT_FILE
    from flockguard.locking import coordlog

    coordlog.append(
        os.path.join(root, AUDIT_FILE),
        {"platform": "cli", "user": os.environ.get("USER", ""), **record},
    )
