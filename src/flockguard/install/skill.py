"""The lock-protocol skill: one text, placed wherever each agent reads its instructions.

Shared files (AGENTS.md, GEMINI.md, CLAUDE.md's import) get a section between markers, so the
person's own text around it is never touched and re-running install updates the section in
place. Dedicated files (a SKILL.md, a Cursor rule, …) are ours whole. Uninstall removes exactly
what install added: a section and the blank line before it, or a file it created.
"""

from __future__ import annotations

import contextlib
import os

BEGIN = "<!-- flockguard:begin (managed by `flockguard install`; edits here are replaced) -->"
END = "<!-- flockguard:end -->"
OURS = "flockguard:managed"  # in every dedicated file we write

NAME = "flockguard-locks"
DESCRIPTION = (
    "How to work beside other AI agents in this repository: check `flockguard status` before "
    "editing shared files, take and release flockguard locks, and read flockguard refusals."
)

BODY = """\
## Working beside other agents: flockguard locks

Several agents work in this checkout at once. flockguard guards every file action and keeps a
lock table between agents. Follow this protocol.

1. **Look first.** Before editing files others may touch, run `flockguard status` (`--json` for
   the table as data). Your agent id is `$FLOCKGUARD_AGENT` (flockguard sets it at session start).
2. **Pick the mode.**
   | you will… | mode |
   | --- | --- |
   | only read, and need it not to change meanwhile | `read` |
   | edit soon, others may still read | `intent_write` |
   | change it now | `write` |
   Lock a directory with a trailing slash (`src/db/`) or a glob (`src/db/**`) to cover what is
   under it. Your own edits also take a short write lease on each file automatically.
3. **Acquire with a lease, renew while working.**
   `flockguard lock acquire src/db/ --mode write --ttl 600` (exit 0: granted; exit 75: not
   granted, the answer names the holders). Renew before the lease ends:
   `flockguard lock renew src/db/ --ttl 600`. If renew says `lease lost`, stop writing there.
4. **Always release**, also when you fail or give up: `flockguard lock release src/db/`, or
   `flockguard lock release --all` when your task ends.
5. **On contention, do not wait idle and do not work around it.** Work on something else, or
   queue: `flockguard lock acquire PATH --mode write --keep-queued` (add `--priority high` only
   when the work is urgent), then check `flockguard status` for your turn.
6. **Read refusals.** A refusal names its rule (`FG701 lock-held-by-another-agent`,
   `FG101 write-blocked`, …), the path, who holds it and until when, what to do instead, and the
   decision record (ADR) behind the rule; `docs/rules/FG###.md` explains each rule. Do what it
   says; never reach the same path another way (another tool, the shell, a copy).
"""

# path -> (kind, frontmatter): kind "section" for shared files, "file" for files that are ours
TARGETS: dict[str, tuple[str, str]] = {
    "AGENTS.md": ("section", ""),  # Codex, Cursor, Copilot and others read it
    "GEMINI.md": ("section", ""),
    "CLAUDE.md": ("import", ""),
    ".claude/skills/flockguard-locks/SKILL.md": (
        "file",
        f"---\nname: {NAME}\ndescription: {DESCRIPTION}\nallowed-tools: Bash(flockguard *)\n---\n",
    ),
    ".agents/skills/flockguard-locks/SKILL.md": (
        "file",
        f"---\nname: {NAME}\ndescription: {DESCRIPTION}\n---\n",
    ),
    ".cursor/rules/flockguard.mdc": (
        "file",
        f"---\ndescription: {DESCRIPTION}\nglobs:\nalwaysApply: true\n---\n",
    ),
    ".windsurf/rules/flockguard.md": ("file", "---\ntrigger: always_on\n---\n"),
    ".github/instructions/flockguard.instructions.md": ("file", '---\napplyTo: "**"\n---\n'),
    ".kiro/steering/flockguard.md": ("file", "---\ninclusion: always\n---\n"),
    ".clinerules/flockguard.md": ("file", ""),
}


# which agent reads each place; None: every agent
READERS: dict[str, str | None] = {
    "AGENTS.md": None,
    "GEMINI.md": "gemini-cli",
    "CLAUDE.md": "claude-code",
    ".claude/skills/flockguard-locks/SKILL.md": "claude-code",
    ".agents/skills/flockguard-locks/SKILL.md": "codex",
    ".cursor/rules/flockguard.mdc": "cursor",
    ".windsurf/rules/flockguard.md": "windsurf",
    ".github/instructions/flockguard.instructions.md": "copilot",
    ".kiro/steering/flockguard.md": "kiro",
    ".clinerules/flockguard.md": "cline",
}


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write(path: str, text: str) -> None:
    from flockguard.install.jsonfile import write

    write(path, text)


def _section(content: str) -> str:
    return f"{BEGIN}\n{content.rstrip()}\n{END}\n"


def _with_section(text: str | None, content: str) -> str:
    block = _section(content)
    if text is None or not text.strip():
        return block
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].removeprefix("\n")
        return head + block + tail
    return text + ("" if text.endswith("\n") else "\n") + "\n" + block


def _without_section(text: str) -> str:
    if BEGIN not in text or END not in text:
        return text
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1].removeprefix("\n")
    if head.endswith("\n\n"):
        head = head[:-1]  # the blank line install put before the section
    return head + tail


def rendered(kind: str, frontmatter: str) -> str:
    if kind == "section":
        return BODY
    if kind == "import":
        return "@AGENTS.md"  # Claude Code reads CLAUDE.md, not AGENTS.md: import it
    return f"{frontmatter}<!-- {OURS} -->\n{BODY}"


def install(root: str, agents: list[str]) -> list[str]:
    """Place or update the skill where ``agents`` read; returns the files changed."""
    changed = []
    for relative, (kind, frontmatter) in TARGETS.items():
        if READERS[relative] is not None and READERS[relative] not in agents:
            continue
        path = os.path.join(root, relative)
        before = _read(path)
        if kind == "file":
            if before is not None and OURS not in before:
                continue  # a person's own file of that name: leave it
            after = rendered(kind, frontmatter)
        else:
            after = _with_section(before, rendered(kind, frontmatter))
        if after != before:
            _write(path, after)
            changed.append(relative)
    return changed


def uninstall(root: str) -> list[str]:
    """Remove exactly what install added; returns the files changed or removed."""
    changed = []
    for relative, (kind, _frontmatter) in TARGETS.items():
        path = os.path.join(root, relative)
        before = _read(path)
        if before is None:
            continue
        if kind == "file":
            if OURS not in before:
                continue
            os.unlink(path)
            _prune(root, os.path.dirname(relative))
            changed.append(relative)
            continue
        after = _without_section(before)
        if after == before:
            continue
        if after.strip():
            _write(path, after)
        else:
            os.unlink(path)  # only our section was in it: we created it
        changed.append(relative)
    return changed


def _prune(root: str, relative: str) -> None:
    """Remove directories install created and left empty (never the root)."""
    while relative:
        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(root, relative))
        relative = os.path.dirname(relative)
