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


def write(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, keeping its permissions."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
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
