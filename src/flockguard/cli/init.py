"""``flockguard init``: policy, state directory, .gitignore entry, agent hook wiring."""

from __future__ import annotations

from flockguard.cli import options
from flockguard.install import INSTALLERS
from flockguard.install import repo as repo_files

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    options.add_repo(parser)
    options.add_agents(parser)


def run(*, repo: str, agents: str) -> int:
    from rich.console import Console

    names = options.agents(agents)
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
    console.print(f"flockguard set up in [bold]{root}[/]")
    for _what, where, changed in done:
        mark = "[green]written  [/]" if changed else "[dim]unchanged[/]"
        console.print(f"  {mark} {where}")
    console.print(f"  hook command: {hook}")
    if "claude-code" in names:
        console.print(
            "Claude Code runs project hooks once you accept its workspace-trust dialog; "
            "`/hooks` in Claude Code lists them."
        )
    return 0
