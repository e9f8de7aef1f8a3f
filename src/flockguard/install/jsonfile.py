"""Read and write someone else's JSON config without losing a byte of theirs.

Writes are atomic (temp file in the same directory, then ``os.replace``) and keep the file's
indentation, key order, permissions and trailing newline, so install then uninstall gives the
original bytes back.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile

from flockguard.errors import FlockguardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Style:
    """How an existing JSON file is laid out, so a rewrite looks like it."""

    def __init__(self, indent: int | str | None = 2, newline: bool = True) -> None:
        self.indent = indent
        self.newline = newline

    @classmethod
    def of(cls, text: str) -> Style:
        match = re.search(r"^[{\[][ \t]*\n([ \t]+)\S", text)
        if match:
            indent: int | str | None = match.group(1)
            if isinstance(indent, str) and set(indent) == {" "}:
                indent = len(indent)
        else:
            indent = None if text.strip() and "\n" not in text.strip() else 2
        return cls(indent, text.endswith("\n"))

    def dump(self, document: Any) -> str:
        separators = (",", ": ") if self.indent is not None else (", ", ": ")
        text = json.dumps(document, indent=self.indent, ensure_ascii=False, separators=separators)
        return text + ("\n" if self.newline else "")


def read(path: str) -> tuple[dict[str, Any] | None, Style]:
    """The document at ``path`` (None when the file does not exist) and its style."""
    text = read_text(path)
    if text is None:
        return None, Style()
    return parse(path, text), Style.of(text)


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise FlockguardError("config-unreadable", f"{path}: cannot be read: {exc}") from exc


def parse(path: str, text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FlockguardError(
            "agent-config-invalid",
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "left unchanged",
            "fix the file by hand, then run the command again",
        ) from exc
    if not isinstance(document, dict):
        raise FlockguardError(
            "agent-config-invalid",
            f"{path}: expected a JSON object at the top, got {type(document).__name__}; "
            "left unchanged",
        )
    return document


def write(path: str, text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``text`` atomically, with ``mode`` (default: keep the file's
    permissions, 0644 for a new one)."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=".flockguard-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _pristine_path(root: str, name: str) -> str:
    return os.path.join(root, ".flockguard", "state", "pristine", f"{name}.json")


def keep_pristine(root: str, name: str, text: str | None) -> None:
    """Remember a config's bytes from before our first install (None: it did not exist)."""
    path = _pristine_path(root, name)
    if not os.path.exists(path):
        write(path, json.dumps({"text": text}))


def pristine(root: str, name: str) -> tuple[bool, str | None]:
    """(known, bytes before our first install); forgets them once read."""
    path = _pristine_path(root, name)
    saved = read_text(path)
    if saved is None:
        return False, None
    os.unlink(path)
    try:
        text = json.loads(saved)["text"]
    except (ValueError, KeyError, TypeError):
        return False, None
    return True, text if isinstance(text, str) else None


def install_hooks(
    root: str,
    name: str,
    path: str,
    wired: Callable[[dict[str, Any]], dict[str, Any]],
    ours: Callable[[dict[str, Any] | None], object],
) -> bool:
    """Wire an agent's JSON hook config: ``wired`` gives the document with exactly our entries,
    ``ours`` what of a document is ours. Leaves an already-wired file alone; remembers the
    bytes from before our first install."""
    text = read_text(path)
    document = None if text is None else parse(path, text)
    new = wired(document or {})
    if document is not None and ours(document) == ours(new):
        return False  # already wired exactly so: leave the file (and our entries' places) alone
    if not ours(document):
        keep_pristine(root, name, text)
    style = Style.of(text) if text else Style()
    write(path, style.dump(new))
    return True


def uninstall_hooks(
    root: str,
    name: str,
    path: str,
    without: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    empty: Callable[[dict[str, Any]], bool] = lambda document: not document,
    prune: int = 1,
) -> bool:
    """Remove our entries: ``without`` gives the document without them. Gives back the very
    bytes found at install when nothing else changed since; removes a file left ``empty`` (and
    up to ``prune`` directories it leaves empty)."""
    document, style = read(path)
    if not document or not isinstance(document.get("hooks"), dict):
        return False
    new = without(document)
    if new == document:
        return False
    known, before = pristine(root, name)
    if known and before is not None and parse(path, before) == new:
        write(path, before)
        return True
    if empty(new):
        os.unlink(path)  # only ours was in it: leave no empty file behind
        directory = os.path.dirname(path)
        for _ in range(prune):
            with contextlib.suppress(OSError):  # the directory may hold other files
                os.rmdir(directory)
            directory = os.path.dirname(directory)
        return True
    write(path, style.dump(new))
    return True


def hooks_without(document: dict[str, Any], hooks: dict[str, Any]) -> dict[str, Any]:
    """``document`` with ``hooks`` in place (the key dropped when nothing is left in it)."""
    if hooks:
        return {**document, "hooks": hooks}
    return {key: value for key, value in document.items() if key != "hooks"}
