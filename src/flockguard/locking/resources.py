"""Lock resources and modes: which requests can be held together (research/locks.md §3).

A resource is a repo-relative path (`src/db.py`), a directory (`src/db/`) or a glob
(`src/db/**`); a lock on a directory or glob covers the paths under it, so it conflicts with
locks on them and they with it. Modes are Gray's IS/IX/X: ``read`` and ``intent_write`` mix,
``write`` mixes with nothing, and two ``intent_write`` on the same resource conflict (update-lock
semantics: two holders can never both wait to upgrade and deadlock).
"""

from __future__ import annotations

import posixpath
import re

READ = "read"
INTENT_WRITE = "intent_write"
WRITE = "write"
MODES = (READ, INTENT_WRITE, WRITE)
PRIORITIES = ("low", "normal", "high", "critical")  # weakest first
GLOB_CHARS = frozenset("*?[")


def normalize(resource: str) -> str:
    """`./src//db/` -> `src/db/`; keeps a trailing slash (a directory) and glob characters."""
    text = resource.strip()
    if not text or text.startswith("/") or text.startswith(".."):
        raise ValueError(f"resource {resource!r} must be a path inside the repository")
    directory = text.endswith("/")
    folded = posixpath.normpath(text)
    if folded.startswith(".."):
        raise ValueError(f"resource {resource!r} leaves the repository")
    if folded == ".":
        return "./"  # the whole repository
    return folded + "/" if directory else folded


def _prefix(resource: str) -> str:
    """The literal directory part a resource is confined to (`src/db/**` -> `src/db/`)."""
    if resource == "./":
        return ""
    if resource.endswith("/") and not GLOB_CHARS & set(resource):
        return resource
    head = []
    for part in resource.split("/"):
        if GLOB_CHARS & set(part):
            break
        head.append(part)
    else:
        return resource  # a plain path
    return "/".join(head) + "/" if head else ""


def _is_plain(resource: str) -> bool:
    return not resource.endswith("/") and not GLOB_CHARS & set(resource)


def overlap(a: str, b: str) -> bool:
    """Whether some path is covered by both resources."""
    if a == b:
        return True
    if _is_plain(a) and _is_plain(b):
        return False
    if _is_plain(b):
        a, b = b, a
    if _is_plain(a):  # a path against a directory or glob
        if b.endswith("/") and not GLOB_CHARS & set(b):
            return b == "./" or a.startswith(b)
        return bool(glob_regex(b).fullmatch(a)) or bool(glob_regex(b + "/**").fullmatch(a))
    # two directories or globs: they overlap when one's literal prefix lies within the other's
    pa, pb = _prefix(a), _prefix(b)
    return pa.startswith(pb) or pb.startswith(pa)


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def glob_regex(glob: str) -> re.Pattern[str]:
    """Gitignore-style glob: `*` and `?` stay within one directory, `**` crosses them."""
    cached = _REGEX_CACHE.get(glob)
    if cached is not None:
        return cached
    out = []
    index = 0
    while index < len(glob):
        if glob.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif glob.startswith("**", index):
            out.append(".*")
            index += 2
        elif glob[index] == "*":
            out.append("[^/]*")
            index += 1
        elif glob[index] == "?":
            out.append("[^/]")
            index += 1
        elif glob[index] == "[" and "]" in glob[index + 1 :]:
            end = glob.index("]", index + 1)
            body = re.escape(glob[index + 1 : end].lstrip("!"))
            out.append(f"[^{body}]" if glob[index + 1] == "!" else f"[{body}]")
            index = end + 1
        else:
            out.append(re.escape(glob[index]))
            index += 1
    pattern = re.compile("".join(out))
    _REGEX_CACHE[glob] = pattern
    return pattern


def compatible(mode_a: str, resource_a: str, mode_b: str, resource_b: str) -> bool:
    """Whether two holders (of different agents) may hold these locks at once."""
    if not overlap(resource_a, resource_b):
        return True
    if WRITE in (mode_a, mode_b):
        return False
    if mode_a == mode_b == INTENT_WRITE:
        return resource_a != resource_b  # update-lock semantics on the same resource
    return True


def rank(priority: str) -> int:
    return PRIORITIES.index(priority)
