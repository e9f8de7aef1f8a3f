"""``flockguard doctor``: is each agent wired, is its config valid, does the hook resolve, what
must a person still do in that agent before its hooks run — and are the policy, the state
directory and the lock table sound (:mod:`flockguard.health`). Exits 1 when anything is wrong."""

from __future__ import annotations

import json
import os
import re
import shlex

from flockguard.cli import options
from flockguard.install import INSTALLERS

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

# the step a person takes in each agent before project hooks run (research/hook-protocols.md)
TRUST: dict[str, str] = {
    "claude-code": "accept the workspace-trust dialog; `/hooks` in Claude Code lists the hooks",
    "gemini-cli": "trust this folder (Gemini CLI's trusted folders) so project hooks load",
    "cursor": "hooks load on restart; check Settings → Hooks for errors",
    "windsurf": "reload Windsurf so Cascade picks up its hooks file",
    "codex": "review and approve the hooks with `/hooks` in Codex",
    "copilot": "no step: Copilot CLI reads .github/hooks on start",
    "cline": "enable hooks in Cline's settings; the scripts must stay executable",
    "kiro": "trust the workspace in Kiro so its hooks run",
    "opencode": "restart OpenCode so it loads the flockguard plugin; a plugin that fails to load "
    "is skipped silently, so check `flockguard doctor` after upgrades",
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    options.add_repo(parser)


def _commands(text: str) -> list[str]:
    """Hook executables named in a config file's text (JSON strings or a script)."""
    found = []
    for candidate in re.findall(r"""[^\s"'=]*flockguard-hook""", text):
        found.append(candidate)
    quoted = re.findall(r"""'([^']*flockguard-hook)'""", text)
    return sorted(set(found + quoted))


def check(root: str, name: str) -> dict[str, Any]:
    installer = __import__(INSTALLERS[name], fromlist=["settings_path"])
    path = installer.settings_path(root)
    report: dict[str, Any] = {
        "agent": name,
        "config": os.path.relpath(path, root),
        "wired": False,
        "config_valid": None,
        "hook": None,
        "hook_runs": None,
        "problems": [],
        "todo": TRUST.get(name, ""),
    }
    texts = []
    if os.path.isdir(path):
        for entry in sorted(os.listdir(path)):
            with open(os.path.join(path, entry), encoding="utf-8", errors="replace") as handle:
                texts.append((entry, handle.read()))
    elif os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as handle:
            texts.append((os.path.basename(path), handle.read()))
    if not texts:
        report["problems"].append(
            f"{report['config']} does not exist: run `flockguard install --agents {name}`"
        )
        return report
    report["config_valid"] = True
    for entry, text in texts:
        if entry.endswith(".json"):
            try:
                json.loads(text)
            except ValueError as exc:
                report["config_valid"] = False
                report["problems"].append(f"{entry}: not valid JSON: {exc}")
    commands = [c for _, text in texts for c in _commands(text)]
    report["wired"] = bool(commands)
    if not commands:
        report["problems"].append(
            f"{report['config']} has no flockguard hook: run `flockguard install --agents {name}`"
        )
        return report
    hook = shlex.split(commands[0])[0] if commands[0] else ""
    report["hook"] = hook
    report["hook_runs"] = os.path.isabs(hook) and os.access(hook, os.X_OK)
    if not report["hook_runs"]:
        report["problems"].append(
            f"{hook} is not an executable file: the agent would skip the hook silently; "
            f"reinstall flockguard and run `flockguard install --agents {name}`"
        )
    return report


def run(*, json: bool, repo: str) -> int:
    from flockguard.health import checks

    root = options.repo_root(repo)
    reports = [check(root, name) for name in INSTALLERS]
    health = checks(root)
    if json:
        print(_dumps({"agents": reports, "checks": [c.as_dict() for c in health]}))
    else:
        from rich.console import Console

        console = Console(highlight=False)
        for r in reports:
            state = (
                "[green]wired[/]"
                if r["wired"] and not r["problems"]
                else ("[red]problem[/]" if r["wired"] else "[dim]not wired[/]")
            )
            console.print(f"{r['agent']:<12} {state}  {r['config']}")
            for problem in r["problems"]:
                console.print(f"    × {problem}", soft_wrap=True)
            if r["wired"]:
                console.print(f"    to do in the agent: {r['todo']}", soft_wrap=True)
        for c in health:
            mark = "[green]✓[/]" if c.ok else "[red]×[/]"
            console.print(f"{mark} {c.name}: {c.detail}", soft_wrap=True)
            if not c.ok and c.fix:
                console.print(f"    fix: {c.fix}", soft_wrap=True)
    broken = [r for r in reports if r["wired"] and r["problems"]]
    return 1 if broken or not all(c.ok for c in health) else 0


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2)
