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

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

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
    from flockguard.locking.manager import open_manager

    action = given["action"]
    root = options.repo_root(given["repo"])
    with open_manager(root, **_settings(root)) as manager:
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
            grant = manager.acquire(
                resource_of(root, given["resource"]),
                given["mode"],
                agent,
                priority=given["priority"],
                ttl=given["ttl"],
                wait=given["wait"],
                keep_queued=given["keep_queued"],
            )
            document = grant.as_json()
            if given["json"]:
                print(json.dumps(document))
            elif grant.granted:
                print(f"granted {grant.mode} on {grant.resource} to {agent} (token {grant.token})")
            else:
                holders = ", ".join(f"{h['agent']} ({h['mode']})" for h in grant.holders) or "—"
                queued = f", queued at position {grant.position}" if grant.position else ""
                sys.stdout.write(
                    f"not granted: held by {holders}{queued}. {grant.reason}\n".rstrip() + "\n"
                )
            return 0 if grant.granted else EXIT_NOT_GRANTED
        if action == "release":
            if given["everything"]:
                count = manager.release_all(agent)
                print(json.dumps({"released": count}))
                return 0
            if not given["resource"]:
                raise FlockguardError("usage", "name a resource, or --all")
            released = manager.release(resource_of(root, given["resource"]), agent)
            print(json.dumps({"released": int(released)}))
            return 0
        grant = manager.renew(resource_of(root, given["resource"]), agent, given["ttl"])
        print(json.dumps(grant.as_json()))
        return 0


def _settings(root: str) -> dict[str, float]:
    from flockguard.config import load

    config = load(root)
    return {"promote_after": config.locks.promote_after, "default_ttl": config.locks.default_ttl}


def _audit(root: str, record: dict[str, Any]) -> None:
    from flockguard.audit import AUDIT_FILE
    from flockguard.locking import coordlog

    coordlog.append(
        os.path.join(root, AUDIT_FILE),
        {"platform": "cli", "user": os.environ.get("USER", ""), **record},
    )
