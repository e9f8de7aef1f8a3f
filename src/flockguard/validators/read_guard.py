"""L3 read guard: deny / ask on credential and key material, for file tools and the shell."""

from __future__ import annotations

from flockguard.model import ASK, DENY
from flockguard.validators.guard import READ_TIERS, contents, finding, home_policy, strictest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

    from flockguard.config import PathClass
    from flockguard.engine import Context
    from flockguard.model import Action, Finding
    from flockguard.paths import Target
    from flockguard.validators.guard import Tiers

CODES = ("FG201", "FG202")

# tier -> (code, outcome, verb, advice)
TIERS: Tiers = {
    "deny": (
        "FG201",
        DENY,
        "Read of `{path}` refused",
        "Do not read or print this file by any means; ask the person you work for for the one "
        "non-secret value you need, or use a `.env.example`-style template.",
    ),
    "ask": (
        "FG202",
        ASK,
        "Read of `{path}` needs a person's approval",
        "A person must approve this read; if refused, work without it.",
    ),
}


def check(action: Action, ctx: Context) -> Iterator[Finding]:
    for searched in ctx.reads:
        target, hit = searched, strictest(searched, ctx.config.read, READ_TIERS)
        home = home_policy(searched, ctx.config) if hit is None else None
        if home is not None:
            target, hit = home[1], strictest(home[1], home[0].read, READ_TIERS)
        if hit is None and action.globs:
            target, hit = _filtered(searched, action.globs, ctx)
        if hit is not None:
            yield finding(TIERS, target, hit)


def _filtered(
    target: Target, globs: tuple[str, ...], ctx: Context
) -> tuple[Target, tuple[PathClass, str] | None]:
    """The first file under a searched directory that a glob filter selects and policy protects.

    As in ripgrep, a glob without a slash matches file names, one with a slash the path.
    """
    import os

    real_root = os.path.realpath(ctx.config.root)
    base = os.path.relpath(target.real, real_root)
    # the glob's own text first: a filter aimed at `.env*` is aimed at secrets, files or not
    for glob in globs:
        plain = glob.lstrip("/").replace("**/", "").replace("*", "").replace("?", "x")
        name = plain if base == "." else f"{base}/{plain}"
        inner = target.replace(shown=name, names=(name,), real=os.path.join(real_root, name))
        hit = strictest(inner.replace(is_dir=False), ctx.config.read, READ_TIERS)
        if plain and hit is not None:
            return inner, hit
    for name, is_dir in contents(target, real_root):
        if is_dir:
            continue
        relative = name if base == "." else name[len(base) + 1 :]
        if any(_selects(glob, relative) for glob in globs):
            real = os.path.join(real_root, name)
            inner = target.replace(shown=name, names=(name,), real=real, is_dir=False)
            hit = strictest(inner, ctx.config.read, READ_TIERS)
            if hit is not None:
                return inner, hit
    return target, None


def _selects(glob: str, relative: str) -> bool:
    """Whether a ripgrep-style glob selects a file: no slash, by name; else by path, where a
    leading `**/` also matches at the top."""
    import fnmatch
    import os

    glob = glob.lstrip("/")
    if "/" not in glob:
        return fnmatch.fnmatch(os.path.basename(relative), glob)
    return fnmatch.fnmatch(relative, glob) or (
        glob.startswith("**/") and fnmatch.fnmatch(relative, glob[3:])
    )
