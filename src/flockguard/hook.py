"""``flockguard-hook <platform>``: the hot path, run on every agent action.

stdin payload -> platform.parse -> engine.evaluate -> audit -> platform.render. It answers in the
platform's dialect on every path, including malformed input and its own crash: most agents let an
action through when a hook misbehaves. Imports are kept to the few this action needs.
"""

from __future__ import annotations

import json
import os
import sys
import time

from flockguard import model
from flockguard.errors import FlockguardError, InputError
from flockguard.model import Action, Decision
from flockguard.platforms import PLATFORMS, load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flockguard.config import Config
    from flockguard.platforms import Platform, Response

CRASH_LOG = "crash.log"


def _root_from_env(cwd: str) -> str | None:
    from flockguard.config import find_root

    for start in (cwd, os.environ.get("CLAUDE_PROJECT_DIR", ""), os.getcwd()):
        if start:
            root = find_root(start)
            if root:
                return root
    return None


def _root_from_targets(action: Action) -> str | None:
    """The policy of the repository an action reaches into when its cwd lies outside any.

    An agent started in /home/me may still write /home/me/repo/.flockguard/config.toml.
    """
    from flockguard.config import find_root

    paths = (*action.reads, *action.writes, *action.deletes)
    if action.kind == model.SHELL:
        from flockguard.shell import analyze

        analysis = analyze(action.command)
        paths = (*analysis.reads, *analysis.writes, *analysis.deletes)
    base = action.cwd or os.getcwd()
    for path in paths:
        absolute = os.path.join(base, os.path.expanduser(path))
        root = find_root(os.path.dirname(os.path.realpath(absolute)))
        if root:
            return root
    return None


def sniff(name: str, payload: dict[str, object]) -> str:
    """The agent that really sent ``payload``: Cursor and Copilot run Claude Code's hook files
    (research/hook-protocols.md §1.2), each with its own payload shape and answer dialect."""
    if "cursor_version" in payload or "conversation_id" in payload:
        caller = "cursor"
    elif "toolName" in payload and "hook_event_name" not in payload:
        caller = "copilot"  # Copilot CLI's camelCase form
    elif (
        "hook_event_name" in payload
        and isinstance(payload.get("timestamp"), str)
        and "transcript_path" not in payload
        and "permission_mode" not in payload
    ):
        caller = "copilot"  # Copilot CLI running Claude's hook file: its PascalCase form
    else:
        return name
    return caller if caller in PLATFORMS else name


FIRED_DIR = os.path.join(".flockguard", "state", "fired")
FIRED_FOR = 60.0  # seconds within which a second firing counts as the same action


def _fired_before(root: str | None, action: Action) -> bool:
    """Whether this very action was already judged through another hook file.

    Cursor runs both its own hooks and Claude Code's: one shell command arrives as
    `beforeShellExecution` and as `preToolUse`, with the same `generation_id`. Both are judged
    alike (the answer must come in each call's dialect), but only the first is audited.
    """
    generation = action.raw.get("generation_id") if action.raw else None
    if root is None or not isinstance(generation, str):
        return False
    import zlib

    text = f"{generation}|{action.kind}|{action.command}|{action.reads}|{action.writes}"
    mark = os.path.join(root, FIRED_DIR, f"{zlib.crc32(text.encode('utf-8', 'replace')):08x}")
    now = time.time()
    try:
        if now - os.stat(mark).st_mtime < FIRED_FOR:
            return True
    except OSError:
        pass
    try:
        os.makedirs(os.path.dirname(mark), exist_ok=True)
        with open(mark, "w", encoding="utf-8"):
            pass
    except OSError:
        return False
    return False


def _json_type(value: object) -> str:
    names = {
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _policy(root: str | None) -> tuple[Config | None, str]:
    """The config, or None and the reason it could not be had (also None: no config at all)."""
    if root is None:
        return None, ""
    from flockguard.config import load

    try:
        return load(root), ""
    except FlockguardError as exc:
        return None, str(exc)


def _internal_policy(root: str) -> str:
    from flockguard.config import CONFIG_FILE
    from flockguard.configfile import internal_error_policy

    return internal_error_policy(os.path.join(root, CONFIG_FILE))


def _default_policy(cwd: str) -> Config:
    """No .flockguard/config.toml above cwd: judge by the built-in default policy."""
    from flockguard.config import load_text
    from flockguard.defaults import CONFIG_TOML

    return load_text(cwd, CONFIG_TOML)


def _audit(root: str | None, decision: Decision, started: float) -> None:
    if root is None:
        return  # not a flockguard repository: no state directory to write to
    from flockguard import audit

    try:
        audit.record(root, decision, (time.perf_counter() - started) * 1000)
    except (OSError, FlockguardError) as exc:
        # the decision stands; a lost audit line must not turn every action into a refusal
        sys.stderr.write(f"flockguard: audit log not written: {exc}\n")


def _decide(platform: Platform, name: str, raw: bytes, started: float) -> Response:
    try:
        if not raw.strip():
            raise InputError(f"{name} hook got an empty stdin; expected a JSON payload")
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
            raise InputError(f"{name} hook got invalid JSON on stdin: {exc}") from exc
        if not isinstance(payload, dict):
            raise InputError(
                f"{name} hook expected a JSON object on stdin, got {_json_type(payload)}"
            )
        caller = sniff(name, payload)
        if caller != name:  # another agent runs this agent's hook file: answer in its dialect
            name, platform = caller, load(caller)
        action = platform.parse(payload)
    except InputError as exc:
        root = _root_from_env("")
        config, _ = _policy(root)
        if config is not None:
            policy = config.on_internal_error
        else:
            policy = _internal_policy(root) if root else "deny"
        from flockguard.engine import internal_finding

        finding = internal_finding("FG902", exc.message, exc.kind, policy)
        bad = Action(platform=name, event="?", kind=exc.kind)
        _audit(root, Decision(bad, (finding,)), started)
        return platform.render_unreadable(finding.message, deny=finding.outcome == model.DENY)

    root = _root_from_env(action.cwd) or _root_from_targets(action)
    config, problem = _policy(root)
    if config is None and root is not None:
        from flockguard.engine import internal_finding

        finding = internal_finding(
            "FG901",
            f"the policy is invalid, so actions cannot be checked: {problem}",
            action.kind,
            _internal_policy(root),
        )
        decision = Decision(action, (finding,))
    else:
        config = config or _default_policy(action.cwd or os.getcwd())
        decision = _evaluate(action, config)
        if decision.outcome == model.ASK and not platform.CAN_ASK and root is not None:
            from flockguard.approvals import settle

            decision = settle(decision, root, name)
        if root is not None and decision.outcome in (model.ALLOW, model.WARN):
            decision = _claim(decision, config)
        if root is not None:
            from flockguard.validators.locks import keep_alive

            keep_alive(root, action.agent, config.locks)
    if not _fired_before(root, action):
        _audit(root, decision, started)
    return platform.render(decision)


def _evaluate(action: Action, config: Config) -> Decision:
    if action.kind in (model.SESSION_START, model.SESSION_END, model.PROMPT):
        from flockguard import sessions

        if action.kind == model.SESSION_START:
            return Decision(action, context=sessions.start(action, config))
        if action.kind == model.SESSION_END:
            released = sessions.end(action, config)
            return Decision(action, context=f"released {released} lock(s)" if released else "")
        return Decision(action, context=sessions.prompt(action, config))
    from flockguard.engine import evaluate

    return evaluate(action, config)


def _claim(decision: Decision, config: Config) -> Decision:
    """An allowed write leases its files to the agent (``[locks] auto_claim``)."""
    action = decision.action
    if action.kind not in model.MUTATING or not config.locks.auto_claim:
        return decision
    paths = [
        p
        for kind in ("write", "delete")
        for p in decision.paths.get(kind, ())
        if p and not p.startswith("/")
    ]
    if not paths:
        return decision
    from flockguard.validators.locks import claim

    raced = tuple(claim(config.root, paths, action.agent, config.locks, config.on_internal_error))
    if not raced:
        return decision
    return Decision(
        action, decision.findings + raced, paths=decision.paths, context=decision.context
    )


def _crash_log(error: BaseException) -> str:
    from flockguard import crashlog

    root = _root_from_env("")
    directory = os.path.join(root, ".flockguard", "state") if root else crashlog.user_state_dir()
    return crashlog.write(directory, CRASH_LOG, error)


def _crashed(platform: Platform, name: str, error: Exception, started: float) -> Response:
    """FG903: answer by on_internal_error, log the traceback, and audit it if at all possible."""
    where = _crash_log(error)
    root = _root_from_env("")
    try:
        policy = _internal_policy(root) if root else "deny"
    except Exception:
        policy = "deny"
    from flockguard.engine import internal_finding

    finding = internal_finding(
        "FG903",
        f"the hook crashed ({type(error).__name__}: {error}); crash log: {where}",
        model.UNKNOWN,
        policy,
    )
    try:  # noqa: SIM105 (contextlib costs the hook path ~0.5 ms of import)
        _audit(
            root,
            Decision(Action(platform=name, event="?", kind=model.UNKNOWN), (finding,)),
            started,
        )
    except Exception:
        pass  # already crashing: the answer matters more than the record
    return platform.render_unreadable(finding.message, deny=finding.outcome == model.DENY)


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = sys.argv[1:] if argv is None else argv
    name = args[0] if args else "claude-code"
    if name not in PLATFORMS:
        sys.stderr.write(
            f"flockguard-hook: unknown platform {name!r}; known: {', '.join(PLATFORMS)}\n"
        )
        return 2  # a blocking exit in most dialects: a miswired hook must not pass silently
    platform = load(name)
    try:
        code, out, err = _decide(platform, name, sys.stdin.buffer.read(), started)
    except Exception as exc:
        code, out, err = _crashed(platform, name, exc, started)
    if out:
        sys.stdout.write(out + "\n")
    if err:
        sys.stderr.write(err + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
