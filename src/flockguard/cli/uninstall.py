"""``flockguard uninstall``: remove exactly flockguard's hook entries; keep the policy."""

from __future__ import annotations

from flockguard.cli import options
from flockguard.install import INSTALLERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    options.add_repo(parser)
    parser.add_argument(
        "--agents", default="all", help="comma-separated agents to unwire (default: all)"
    )


def run(*, repo: str, agents: str) -> int:
    from rich.console import Console

    root = options.repo_root(repo)
    console = Console(highlight=False)
    for name in options.agents(agents):
        installer = __import__(INSTALLERS[name], fromlist=["uninstall"])
        changed = installer.uninstall(root)
        where = installer.settings_path(root).removeprefix(root + "/")
        console.print(
            f"  {'[green]removed[/]' if changed else '[dim]nothing to remove[/]'} {where}"
        )
    from flockguard.install import skill

    for relative in skill.uninstall(root):
        console.print(f"  [green]removed[/] the lock-protocol skill from {relative}")
    console.print("The policy in .flockguard/ is kept; delete it by hand if you want it gone.")
    return 0
