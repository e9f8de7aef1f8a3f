"""``.flockguard/state/locks.json``: the lock table as plain JSON, for people and for the hook.

Published after each change commits, from committed state, by the writer that made the change
while it still holds the table's mutex, so snapshots appear in commit order and never run ahead
of the table. Each is a new file ``.locks.json.<generation>.<version>``; the ``locks.json``
symlink is swapped onto it (a symlink swap costs ~50 us on ext4, a rename over a regular file
~130 us) and every older snapshot file is removed, whoever wrote it — a writer killed mid-way
leaves nothing that a later writer trips over.

A snapshot can lag (a change in flight, a publication that failed on a full disk): a reader
compares its version with the generation record and asks the table when it is behind.
"""

from __future__ import annotations

import json
import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "locks.json"
PREFIX = ".locks.json."
LINK = NAME + ".link"
MAX_SIZE = 16 << 20  # a table of thousands of locks is a few MB; more is not ours


def publish(state_dir: str, document: dict[str, Any]) -> None:
    """Write ``document`` (with ``generation`` and ``version``) as the current snapshot.

    Raises OSError when it cannot (a full disk): the table stays the truth, and readers see
    from the generation record that this snapshot is behind.
    """
    name = f"{PREFIX}{document['generation']:x}.{document['version']:x}"
    target = os.path.join(state_dir, name)
    fd = os.open(
        target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644
    )
    try:
        data = json.dumps(document, separators=(",", ":")).encode()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        _unlink(target)
        raise
    os.close(fd)
    link = os.path.join(state_dir, LINK)
    try:
        try:
            os.symlink(name, link)
        except FileExistsError:  # a writer killed between symlink and rename left it
            _unlink(link)
            os.symlink(name, link)
        os.replace(link, os.path.join(state_dir, NAME))
    except BaseException:
        _unlink(target)
        raise
    _clean(state_dir, keep=name)


def _clean(state_dir: str, keep: str) -> None:
    """Remove every snapshot file but ``keep``, and the temporary names older writers used."""
    try:
        entries = os.scandir(state_dir)
    except OSError:
        return
    with entries:
        for entry in entries:
            name = entry.name
            stale = name.startswith(PREFIX) and name != keep
            old_link = name.startswith(NAME + ".") and name.endswith(".link") and name != LINK
            if stale or old_link:
                _unlink(entry.path)


def _unlink(path: str) -> None:
    try:  # noqa: SIM105 (contextlib costs the hook path ~0.5 ms of import)
        os.unlink(path)
    except OSError:
        pass


def version(state_dir: str, generation: int) -> int:
    """The version of the current snapshot of table ``generation`` (-1 when there is none)."""
    try:
        name = os.readlink(os.path.join(state_dir, NAME))
    except OSError:
        return -1
    parts = name[len(PREFIX) :].split(".") if name.startswith(PREFIX) else []
    try:
        if len(parts) == 2 and int(parts[0], 16) == generation:
            return int(parts[1], 16)
    except ValueError:
        pass
    return -1


def load(state_dir: str) -> dict[str, Any] | None:
    """The published snapshot; None when there is none or it cannot be one of ours (a link out
    of the state directory, a fifo, a file too big): the caller then asks the table."""
    try:
        name = os.readlink(os.path.join(state_dir, NAME))
    except OSError:
        return None
    if "/" in name or not name.startswith(PREFIX):
        return None
    try:
        fd = os.open(
            os.path.join(state_dir, name),
            os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOFOLLOW,
        )
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SIZE:
            return None
        document = json.loads(os.read(fd, st.st_size + 1))
    except (OSError, ValueError, RecursionError):
        return None
    finally:
        os.close(fd)
    return document if isinstance(document, dict) else None
