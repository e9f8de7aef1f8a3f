"""Canonical repository-relative paths, so that no spelling of a path dodges a pattern.

A path is judged under every name it has: as written (after ``..``, ``//`` and ``./`` are
folded) and as resolved through symlinks. A link in the repo pointing at ``.env`` is ``.env``; a
write through a symlinked directory lands where the link points.
"""

from __future__ import annotations

import os

from flockguard.model import Value


class Target(Value):
    """One path an action touches.

    ``names`` are the strings policy patterns are matched against: repo-relative paths for the
    names inside the repository, the absolute path without its leading slash for names outside.
    ``shown`` is how messages and the audit log name it; ``real`` is the absolute path with every
    link resolved; ``inside`` says whether that lies in the repository.
    """

    __slots__ = ("raw", "shown", "names", "real", "inside", "is_dir")
    raw: str
    shown: str
    names: tuple[str, ...]
    real: str
    inside: bool
    is_dir: bool

    def __init__(
        self,
        raw: str,
        shown: str,
        names: tuple[str, ...],
        *,
        real: str,
        inside: bool,
        is_dir: bool,
    ) -> None:
        self._fill(locals())


def _relative(path: str, root: str) -> str | None:
    if path == root:
        return ""
    prefix = root.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else None


def resolve(raw: str, cwd: str, root: str, real_root: str | None = None) -> Target:
    """Canonicalise ``raw`` (absolute, ``~``-relative, or relative to ``cwd``) against ``root``."""
    real_root = real_root or os.path.realpath(root)
    expanded = os.path.expanduser(raw) if raw.startswith("~") else raw
    joined = os.path.join(cwd, expanded)
    lexical = os.path.normpath(joined)
    if lexical.startswith("//"):  # POSIX keeps a leading double slash; fold it
        lexical = "/" + lexical.lstrip("/")
    # from the unfolded path: the OS applies `..` after following a link, not before
    real = os.path.realpath(joined)
    lexical_rel = _relative(lexical, root)
    if lexical_rel is None:
        lexical_rel = _relative(lexical, real_root)
    real_rel = _relative(real, real_root)
    if real_rel is None:
        real_rel = _relative(real, root)
    names: list[str] = []
    for rel in (lexical_rel, real_rel):
        if rel and rel not in names:
            names.append(rel)
    # a name outside the repo (also a link leading out of it) is judged by its absolute path
    if lexical_rel is None:
        names.append(lexical.lstrip("/"))
    if real_rel is None and real.lstrip("/") not in names:
        names.append(real.lstrip("/"))
    shown = real_rel or lexical_rel or lexical
    return Target(
        raw,
        shown,
        tuple(names),
        real=real,
        inside=real_rel is not None,
        is_dir=os.path.isdir(real),
    )
