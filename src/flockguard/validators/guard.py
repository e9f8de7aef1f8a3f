"""What the write and read guards share: matching a target against path classes, wording."""

from __future__ import annotations

from flockguard.engine import describe
from flockguard.model import Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from flockguard.config import Config, PathClass
    from flockguard.paths import Target

# A directory's contents are judged up to this many entries: deleting a big tree stays fast.
WALK_LIMIT = 10_000

# The tiers of a kind, strictest first.
WRITE_TIERS = ("block", "checkpoint", "warn")
READ_TIERS = ("deny", "ask")


def strictest_within(
    target: Target, classes: tuple[PathClass, ...], tiers: tuple[str, ...], real_root: str
) -> tuple[Target, tuple[PathClass, str]] | None:
    """The strictest class anything under a directory target falls in, with that thing."""
    import os

    best: tuple[Target, tuple[PathClass, str]] | None = None
    absolute = target.shown.startswith("/")  # another repository's: keep naming it in full
    for name, is_dir in contents(target, real_root):
        real = os.path.join(real_root, name)
        inner = target.replace(
            shown=real if absolute else name, names=(name,), real=real, is_dir=is_dir
        )
        hit = strictest(inner, classes, tiers)
        if hit is not None and (
            best is None or tiers.index(hit[0].tier) < tiers.index(best[1][0].tier)
        ):
            best = (inner, hit)
            if hit[0].tier == tiers[0]:
                break  # nothing is stricter
    return best


def strictest(
    target: Target, classes: tuple[PathClass, ...], tiers: tuple[str, ...]
) -> tuple[PathClass, str] | None:
    """The strictest class ``target`` falls in under any of its names, with the pattern."""
    names = target.names
    if target.is_dir:  # `dir/**` patterns protect a directory's contents: judge the dir too
        names = (*names, *(f"{name}/" for name in names))
    best: tuple[PathClass, str] | None = None
    for path_class in classes:
        if best and tiers.index(path_class.tier) >= tiers.index(best[0].tier):
            continue
        for name in names:
            pattern = path_class.match(name)
            if pattern:
                best = (path_class, pattern)
                break
    return best


# tier -> (code, outcome, verb with {path}, advice): each guard's table
Tiers = dict[str, tuple[str, str, str, str]]


def finding(tiers: Tiers, target: Target, hit: tuple[PathClass, str]) -> Finding:
    """The finding for ``target`` falling in the class and pattern of ``hit``."""
    path_class = hit[0]
    code, outcome, verb, advice = tiers[path_class.tier]
    return Finding(
        code,
        outcome,
        message(verb, code, target, hit, advice),
        path=target.shown,
        hint=advice,
        adr=path_class.adr,
    )


def message(verb: str, code: str, target: Target, hit: tuple[PathClass, str], advice: str) -> str:
    """A message for the agent: what, which rule, which class and why, what to do, the ADR."""
    path_class, pattern = hit
    parts = [
        f"{verb.format(path=target.shown)}: {describe(code)} — it is in the "
        f"`{path_class.name}` class (pattern `{pattern}`, tier {path_class.tier}).",
    ]
    if path_class.message:
        parts.append(path_class.message)
    parts.append(advice)
    if path_class.adr:
        parts.append(f"Why: {path_class.adr}.")
    parts.append(f"Rule: docs/rules/{code}.md.")
    return " ".join(parts)


def contents(target: Target, real_root: str) -> Iterator[tuple[str, bool]]:
    """Repo-relative names of what lies under a directory target (at most WALK_LIMIT), each
    with whether it is a directory.

    Deleting or moving a directory touches everything in it: `rm -rf .claude` is a write to
    `.claude/settings.json`.
    """
    import os

    if not (target.is_dir and target.inside):
        return
    seen = 0
    for directory, dirs, files in os.walk(target.real):
        relative = os.path.relpath(directory, real_root)
        for name, is_dir in (*((d, True) for d in dirs), *((f, False) for f in files)):
            yield (name if relative == "." else f"{relative}/{name}"), is_dir
            seen += 1
            if seen >= WALK_LIMIT:
                return


def home_policy(target: Target, config: Config) -> tuple[Config, Target] | None:
    """For a target outside this repository but inside another flockguard repository: that
    repository's policy and the target as it sees it. An agent working in one repo must not
    reach into another's protected files."""
    if target.inside:
        return None
    import os

    from flockguard.config import find_root, load
    from flockguard.errors import FlockguardError
    from flockguard.paths import resolve

    root = find_root(os.path.dirname(target.real))
    if root is None or os.path.realpath(root) == os.path.realpath(config.root):
        return None
    try:
        other = load(root)
    except FlockguardError:
        return None  # its own hook reports its broken policy; ours still judges outside-repo
    # named by its absolute path: its repo-relative name would read as one of ours
    return other, resolve(target.real, root, root).replace(shown=target.real)
