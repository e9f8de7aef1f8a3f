"""Read and validate ``.flockguard/config.toml`` and compile it into plain data.

This is the slow path (tomllib and pathspec cost ~30 ms of import): it runs when the policy
changed, and its result is cached for the hook by :mod:`flockguard.config`. Every error names the
file and the key path.
"""

from __future__ import annotations

import datetime
import os
import re
import tomllib

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from flockguard.errors import FlockguardError
from flockguard.model import STAGES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CONFIG_DIR = ".flockguard"
CONFIG_NAME = "config.toml"
WRITE_TIERS = ("block", "checkpoint", "warn")
READ_TIERS = ("deny", "ask")
OUTSIDE_TIERS = (*WRITE_TIERS, "allow")
SHELL_OUTCOMES = ("ask", "deny", "warn")
INTERNAL_ERROR = ("deny", "allow")
_CLASS_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_TOP_KEYS = (
    "version", "on_internal_error", "stages", "outside_repo", "shell", "locks", "write", "read",
)  # fmt: skip


def config_path(root: str) -> str:
    return os.path.join(root, CONFIG_DIR, CONFIG_NAME)


class _Checker:
    """Validates one parsed document, naming ``file`` and the key path in every error."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, problem: str, hint: str = "") -> FlockguardError:
        return FlockguardError("config-invalid", f"{self.file}: at key {key}: {problem}", hint)

    def table(self, value: object, key: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table, got {type(value).__name__}")
        return value

    def only(self, table: dict[str, Any], key: str, allowed: tuple[str, ...]) -> None:
        for name in table:
            if name not in allowed:
                where = f"{key}.{name}" if key else name
                raise self.fail(where, "unknown key", f"known keys here: {', '.join(allowed)}")

    def choice(self, value: object, key: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(key, f"{value!r} is not one of {', '.join(choices)}")
        return str(value)

    def text(self, value: object, key: str) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type(value).__name__}")
        return value

    def patterns(self, value: object, key: str) -> list[list[object]]:
        if not isinstance(value, list) or not value:
            raise self.fail(key, "expected a non-empty list of gitignore-style patterns")
        compiled: list[list[object]] = []
        for index, item in enumerate(value):
            where = f"{key}[{index}]"
            pattern = self.text(item, where)
            try:
                spec = GitIgnoreSpecPattern(pattern)
            except Exception as exc:  # pathspec raises several types for bad patterns
                raise self.fail(where, f"invalid pattern {pattern!r}: {exc}") from exc
            if spec.regex is None or spec.include is None:
                raise self.fail(where, f"pattern {pattern!r} matches nothing")
            # the hook needs no groups; dropping them keeps the regex cheap to compile
            regex = re.sub(r"\(\?P<\w+>", "(?:", spec.regex.pattern)
            compiled.append([pattern, regex, spec.include, literal_hint(pattern)])
        return compiled


def literal_hint(pattern: str) -> str:
    """The longest literal run every path matching ``pattern`` must contain ("" if unsure).

    The hook checks it with ``in`` before touching the regex, so an ordinary path costs no
    regex compile at all (~30 us per pattern).
    """
    if "\\" in pattern:
        return ""  # escapes make the literal text differ from the pattern text
    # a bracket expression matches one of several characters: none of them is certain;
    # unescaped trailing spaces are not part of a gitignore pattern
    bare = re.sub(r"\[[^\]]*\]", "*", pattern.removeprefix("!").rstrip(" "))
    runs = re.split(r"[*?\[\]]+", bare)
    return max((run.strip("/") for run in runs), key=len, default="")


def _stages(check: _Checker, value: object) -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {}
    for prefix, setting in check.table(value, "stages").items():
        key = f"stages.{prefix}"
        if not re.fullmatch(r"FG\d{0,3}", prefix):
            raise check.fail(key, "a stage key is FG or a code prefix such as FG1, FG10, FG101")
        if prefix.startswith("FG9"):
            raise check.fail(
                key,
                "FG9xx rules report flockguard's own failures and cannot be staged",
                "set on_internal_error instead",
            )
        until = ""
        if isinstance(setting, dict):
            check.only(setting, key, ("stage", "observe_until"))
            if "stage" not in setting:
                raise check.fail(f"{key}.stage", "missing")
            stage = check.choice(setting["stage"], f"{key}.stage", STAGES)
            if "observe_until" in setting:
                date = setting["observe_until"]
                if not isinstance(date, datetime.date) or isinstance(date, datetime.datetime):
                    raise check.fail(f"{key}.observe_until", "expected a date like 2027-01-31")
                until = date.isoformat()
        else:
            stage = check.choice(setting, key, STAGES)
        stages[prefix] = [stage, until]
    return stages


def _classes(check: _Checker, value: object, key: str, tiers: tuple[str, ...]) -> list[Any]:
    classes = []
    for name, body in check.table(value, key).items():
        where = f"{key}.{name}"
        if not _CLASS_NAME.match(name):
            raise check.fail(where, "a class name is lowercase letters, digits, - and _")
        table = check.table(body, where)
        check.only(table, where, ("tier", "patterns", "message", "adr"))
        for required in ("tier", "patterns"):
            if required not in table:
                raise check.fail(f"{where}.{required}", "missing")
        classes.append(
            {
                "name": name,
                "tier": check.choice(table["tier"], f"{where}.tier", tiers),
                "patterns": check.patterns(table["patterns"], f"{where}.patterns"),
                "message": check.text(table.get("message", ""), f"{where}.message"),
                "adr": check.text(table.get("adr", ""), f"{where}.adr"),
            }
        )
    return classes


def compile_document(document: dict[str, Any], file: str) -> dict[str, Any]:
    """Validate a parsed config document and turn it into the hook's plain-data policy."""
    check = _Checker(file)
    check.only(document, "", _TOP_KEYS)
    version = document.get("version", 1)
    if type(version) is not int or version != 1:
        raise check.fail("version", f"unsupported version {version!r}", "this flockguard reads 1")
    outside = check.table(document.get("outside_repo", {}), "outside_repo")
    check.only(outside, "outside_repo", ("write", "allow"))
    shell = check.table(document.get("shell", {}), "shell")
    check.only(shell, "shell", ("dynamic", "unparsable"))
    locks = check.table(document.get("locks", {}), "locks")
    check.only(locks, "locks", ("auto_claim", "claim_ttl", "default_ttl", "promote_after"))
    auto_claim = locks.get("auto_claim", True)
    if not isinstance(auto_claim, bool):
        raise check.fail("locks.auto_claim", "expected true or false")
    seconds = {}
    for key, default in (("claim_ttl", 120.0), ("default_ttl", 300.0), ("promote_after", 30.0)):
        value = locks.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise check.fail(
                f"locks.{key}", f"expected a positive number of seconds, got {value!r}"
            )
        seconds[key] = float(value)
    allow = outside.get("allow", [])
    for index, item in enumerate(allow if isinstance(allow, list) else [None]):
        if not isinstance(item, str) or not item.startswith("/"):
            raise check.fail(f"outside_repo.allow[{index}]", "expected an absolute path pattern")
    return {
        "on_internal_error": check.choice(
            document.get("on_internal_error", "deny"), "on_internal_error", INTERNAL_ERROR
        ),
        "stages": _stages(check, document.get("stages", {})),
        "outside_write": check.choice(
            outside.get("write", "checkpoint"), "outside_repo.write", OUTSIDE_TIERS
        ),
        # matched against the absolute path without its leading slash; the pattern keeps its
        # slash so it stays anchored (`/tmp` must not match `home/me/tmp`)
        "outside_allow": check.patterns(allow, "outside_repo.allow") if allow else [],
        "shell_dynamic": check.choice(shell.get("dynamic", "ask"), "shell.dynamic", SHELL_OUTCOMES),
        "shell_unparsable": check.choice(
            shell.get("unparsable", "deny"), "shell.unparsable", SHELL_OUTCOMES
        ),
        "locks": {"auto_claim": auto_claim, **seconds},
        "write": _classes(check, document.get("write", {}), "write", WRITE_TIERS),
        "read": _classes(check, document.get("read", {}), "read", READ_TIERS),
    }


def parse_text(text: str, file: str) -> dict[str, Any]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FlockguardError(
            "config-invalid", f"{file}: not valid TOML: {exc}", "fix the syntax"
        ) from exc
    return compile_document(document, file)


def load_file(path: str) -> dict[str, Any]:
    """Read, validate and compile the config file at ``path``."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise FlockguardError(
            "config-unreadable", f"{path}: cannot be read: {exc.strerror}", "check the file"
        ) from exc
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise FlockguardError("config-invalid", f"{path}: not UTF-8 text: {exc}") from exc
    return parse_text(text, path)


def internal_error_policy(path: str) -> str:
    """``on_internal_error`` from a config that may be invalid elsewhere; ``deny`` if unknown."""
    try:
        with open(path, "rb") as handle:
            value = tomllib.load(handle).get("on_internal_error")
    except (OSError, ValueError):  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        return "deny"
    return value if value in INTERNAL_ERROR else "deny"
