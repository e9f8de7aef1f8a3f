"""The policy as the hook sees it: one frozen :class:`Config`, loaded from a compiled cache.

Parsing TOML and compiling gitignore patterns (:mod:`flockguard.configfile`) costs ~30 ms of
imports, more than the whole hook budget, so the compiled policy is cached as ``marshal`` data in
``.flockguard/state/config.cache``, keyed by the config file's identity. A changed config is
recompiled on the next action. ``marshal`` is built into the interpreter: loading costs no import.
"""

from __future__ import annotations

import marshal
import os
import re

from flockguard._version import __version__
from flockguard.errors import FlockguardError
from flockguard.model import Value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CONFIG_DIR = ".flockguard"
CONFIG_FILE = os.path.join(CONFIG_DIR, "config.toml")
STATE_DIR = os.path.join(CONFIG_DIR, "state")
CACHE_FILE = os.path.join(STATE_DIR, "config.cache")
# Bumped whenever the compiled layout changes, so no build reads another build's cache.
CACHE_FORMAT = 3


# (source pattern, regex, include, a literal every match contains; lowercased on icase systems)
Pattern = tuple[str, str, bool, str]


class PathClass(Value):
    """A named set of gitignore-style patterns with a tier, a message and an ADR."""

    __slots__ = ("name", "tier", "patterns", "message", "adr", "flags")
    name: str
    tier: str
    patterns: tuple[Pattern, ...]
    message: str
    adr: str
    flags: int

    def __init__(
        self,
        name: str,
        tier: str,
        patterns: tuple[Pattern, ...],
        *,
        message: str = "",
        adr: str = "",
        flags: int = 0,
    ) -> None:
        self._fill(locals())

    def match(self, path: str) -> str:
        """The source pattern that decides ``path`` is in this class, or ``""``.

        As in gitignore, the last matching pattern decides; ``!`` patterns exclude.
        """
        if "*" in path or "?" in path or "[" in path:
            return self.match_glob(path)
        decided = ""
        folded = path.lower() if self.flags else path
        for source, regex, include, hint in self.patterns:
            if hint not in folded:
                continue  # cannot match: skip the regex (and its compile)
            if re.match(regex, path, self.flags):
                decided = source if include else ""
        return decided

    def match_glob(self, glob: str) -> str:
        """The pattern by which some path the shell glob ``glob`` could name is in this class.

        Two ways round: the glob with its wildcards standing for nothing (`.en*` -> `.en`), and
        an example path of each pattern tried against the glob (`x.pem` against `*.pe?`).
        """
        import fnmatch

        instance = _instance(glob)
        if instance and instance != glob:
            decided = self.match(instance)
            if decided:
                return decided
        folded = glob.lower() if self.flags else glob
        base = folded.rsplit("/", 1)[-1]
        for source, _regex, include, _hint in self.patterns:
            if not include:
                continue
            example = _example(source).lower() if self.flags else _example(source)
            anchored = "/" in source.rstrip("/").removeprefix("**/")
            if fnmatch.fnmatchcase(example, folded) or (
                not anchored and fnmatch.fnmatchcase(example, base)
            ):
                return source
        return ""


def _example(pattern: str) -> str:
    """A path the gitignore ``pattern`` matches: `*.pem` -> `x.pem`, `.ssh/**` -> `.ssh/x`."""
    text = pattern.removeprefix("/").removeprefix("**/")
    text = re.sub(r"\[([^\]])[^\]]*\]", r"\1", text)
    text = text.replace("**", "x").replace("*", "x").replace("?", "x")
    return text + "x" if text.endswith("/") else text


def _instance(glob: str) -> str:
    """A path the shell glob matches, its wildcards standing for nothing: `.en*` -> `.en`."""
    text = re.sub(r"\[([^\]])[^\]]*\]", r"\1", glob.replace("**/", ""))
    return text.replace("*", "").replace("?", "x")


class LockSettings(Value):
    """`[locks]`: auto_claim takes a write lease on a file an agent edits (claim_ttl seconds)."""

    __slots__ = ("auto_claim", "claim_ttl", "default_ttl", "promote_after")
    auto_claim: bool
    claim_ttl: float
    default_ttl: float
    promote_after: float

    def __init__(
        self, auto_claim: bool, claim_ttl: float, default_ttl: float, promote_after: float
    ) -> None:
        self._fill(locals())


class Config(Value):
    __slots__ = (
        "root", "file", "on_internal_error", "stages", "outside_write", "outside_allow",
        "shell_dynamic", "shell_unparsable", "locks", "write", "read",
    )  # fmt: skip
    root: str
    file: str
    on_internal_error: str
    stages: dict[str, tuple[str, str]]
    outside_write: str
    outside_allow: PathClass
    shell_dynamic: str
    shell_unparsable: str
    locks: LockSettings
    write: tuple[PathClass, ...]
    read: tuple[PathClass, ...]

    @classmethod
    def from_compiled(cls, root: str, file: str, data: dict[str, Any]) -> Config:
        flags = re.IGNORECASE if data.get("icase") else 0

        def patterns(items: list[list[Any]]) -> tuple[Pattern, ...]:
            return tuple((p[0], p[1], p[2], p[3].lower() if flags else p[3]) for p in items)

        def classes(items: list[dict[str, Any]]) -> tuple[PathClass, ...]:
            return tuple(
                PathClass(
                    item["name"],
                    item["tier"],
                    patterns(item["patterns"]),
                    message=item["message"],
                    adr=item["adr"],
                    flags=flags,
                )
                for item in items
            )

        allow = patterns(data["outside_allow"])
        config = object.__new__(cls)
        config._fill(
            {
                "root": root,
                "file": file,
                "on_internal_error": data["on_internal_error"],
                "stages": {k: (v[0], v[1]) for k, v in data["stages"].items()},
                "outside_write": data["outside_write"],
                "outside_allow": PathClass("outside-repo-allow", "allow", allow),
                "shell_dynamic": data["shell_dynamic"],
                "shell_unparsable": data["shell_unparsable"],
                "locks": LockSettings(**data["locks"]),
                "write": classes(data["write"]),
                "read": classes(data["read"]),
            }
        )
        return config


def find_root(start: str) -> str | None:
    """The nearest directory at or above ``start`` holding ``.flockguard/config.toml``."""
    here = os.path.abspath(start)
    while True:
        if os.path.isfile(os.path.join(here, CONFIG_FILE)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _identity(path: str) -> list[object]:
    st = os.stat(path)
    # ctime too: any write moves it, and unlike mtime no tool can set it back
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, __version__, CACHE_FORMAT]


def _case_insensitive(root: str) -> bool:
    return os.path.exists(os.path.join(root, CONFIG_DIR.upper()))


def load(root: str) -> Config:
    """The policy of the repository at ``root``; raises FlockguardError when it is invalid."""
    file = os.path.join(root, CONFIG_FILE)
    try:
        key = _identity(file)
    except OSError as exc:
        raise FlockguardError(
            "config-unreadable", f"{file}: cannot be read: {exc.strerror}", "run `flockguard init`"
        ) from exc
    cache = os.path.join(root, CACHE_FILE)
    try:
        with open(cache, "rb") as handle:
            cached = marshal.load(handle)
        if cached.get("key") == key:
            return Config.from_compiled(root, file, cached["config"])
    except (OSError, EOFError, ValueError, TypeError, AttributeError, KeyError, IndexError):
        pass  # missing, foreign or corrupt cache: recompile below
    from flockguard import configfile

    data = configfile.load_file(file)
    data["icase"] = _case_insensitive(root)
    _write_cache(cache, {"key": key, "config": data})
    return Config.from_compiled(root, file, data)


def load_text(root: str, text: str, file: str = "<default policy>") -> Config:
    """A policy compiled from TOML ``text``, without touching any cache."""
    from flockguard import configfile

    data = configfile.parse_text(text, file)
    data["icase"] = _case_insensitive(root)
    return Config.from_compiled(root, file, data)


def _write_cache(path: str, payload: dict[str, Any]) -> None:
    """Write atomically; a failure only costs the next action a recompile."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as handle:
            marshal.dump(payload, handle)
        os.replace(tmp, path)
    except OSError:
        try:  # noqa: SIM105 (contextlib costs the hook path ~0.5 ms of import)
            os.unlink(tmp)
        except OSError:
            pass
