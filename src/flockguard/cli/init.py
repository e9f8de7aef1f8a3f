"""``flockguard init``: policy, state directory, .gitignore entry, agent hook wiring."""

from __future__ import annotations

import os

from flockguard.cli import options
from flockguard.install import INSTALLERS
from flockguard.install import repo as repo_files

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


# an agent's own config directory in the repository says it is used here
SIGNS: dict[str, tuple[str, ...]] = {
    "claude-code": (".claude", "CLAUDE.md"),
    "gemini-cli": (".gemini", "GEMINI.md"),
    "cursor": (".cursor",),
    "windsurf": (".windsurf",),
    "codex": (".codex",),
    "copilot": (".github/hooks", ".github/copilot", ".github/instructions"),
    "cline": (".clinerules",),
    "kiro": (".kiro",),
    "opencode": (".opencode", "opencode.json"),
}


def detect(repo: str) -> list[str]:
    """The agents whose configuration the repository has (Claude Code when there is none)."""
    root = options.repo_root(repo)
    found = [
        name
        for name, signs in SIGNS.items()
        if name in INSTALLERS and any(os.path.exists(os.path.join(root, s)) for s in signs)
    ]
    return found or ["claude-code"]


def configure(parser: argparse.ArgumentParser) -> None:
    options.add_repo(parser)
    parser.add_argument(
        "--agents",
        default="",
        help="comma-separated agents to wire, or 'all' (default: those the repository uses)",
    )


def run(*, repo: str, agents: str) -> int:
    from rich.console import Console

    names = options.agents(agents) if agents else detect(repo)
    root = options.repo_root(repo)
    hook = repo_files.hook_command()
    console = Console(highlight=False)
    done = [
        ("policy", ".flockguard/config.toml", repo_files.write_policy(root)),
        ("gitignore", ".gitignore: .flockguard/state/", repo_files.ignore_state(root)),
    ]
    repo_files.make_state(root)
    for name in names:
        installer = __import__(INSTALLERS[name], fromlist=["install"])
        changed = installer.install(root, hook)
        done.append((name, installer.settings_path(root).removeprefix(root + "/"), changed))
    from flockguard.install import skill

    written = skill.install(root, names)
    for relative in skill.TARGETS:
        if os.path.exists(os.path.join(root, relative)):
            done.append(("skill", relative, relative in written))
    console.print(f"flockguard set up in [bold]{root}[/]")
    for _what, where, changed in done:
        mark = "[green]written  [/]" if changed else "[dim]unchanged[/]"
        console.print(f"  {mark} {where}")
    console.print(f"  hook command: {hook}")
    from flockguard.cli.doctor import TRUST

    for name in names:
        console.print(f"  to do in {name}: {TRUST[name]}")
    console.print("`flockguard doctor` checks the wiring of every agent.")
    return 0
