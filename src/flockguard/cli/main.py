"""``flockguard <command>``: a literal registry of commands, each imported only when run.

Each command module provides ``configure(parser)`` and ``run(**options) -> int``.
"""

from __future__ import annotations

import argparse
import sys

from flockguard._version import __version__
from flockguard.errors import FlockguardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Protocol

    class Command(Protocol):
        def configure(self, parser: argparse.ArgumentParser) -> None: ...

        def run(self, **options: Any) -> int: ...


COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("flockguard.cli.init", "set up flockguard in a repository and wire agent hooks"),
    "install": ("flockguard.cli.init", "wire agents' hooks and the lock-protocol skill"),
    "uninstall": ("flockguard.cli.uninstall", "remove exactly flockguard's hook entries"),
    "doctor": ("flockguard.cli.doctor", "check each agent's wiring and what is left to do"),
    "explain": ("flockguard.cli.explain", "say which path class and rule apply to a path, and why"),
    "shell": ("flockguard.cli.shell", "show what a shell command may read, write or delete"),
    "record": ("flockguard.cli.record", "append to, tail or recover a JSONL coordination file"),
    "locks": ("flockguard.cli.locks", "list the flocks held on files under .flockguard/"),
    "lock": ("flockguard.cli.lock", "acquire, release, renew or break an orchestrator lock"),
    "status": ("flockguard.cli.status", "show every lock holder and waiter"),
    "precommit": ("flockguard.cli.precommit", "refuse a commit touching paths others hold"),
    "approve": (
        "flockguard.cli.approve",
        "approve a checkpoint action for an agent that cannot ask",
    ),
    "demo": ("flockguard.cli.demo", "run simulated agents against a throw-away repository"),
}

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CRASH = 3
EXIT_INTERRUPTED = 130


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        f"usage: flockguard <command> [options]   (flockguard {__version__})",
        "",
        "Guards and locks for several AI coding agents working in one checkout.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "`flockguard <command> --help` describes a command."]
    return "\n".join(lines)


def print_error(error: FlockguardError) -> None:
    sys.stderr.write(f"error: {error.reference}\n  × {error.message}\n")
    if error.hint:
        sys.stderr.write(f"  hint: {error.hint}\n")


def _crash(error: BaseException) -> None:
    from flockguard import crashlog

    log = crashlog.write(crashlog.user_state_dir(), "flockguard.log", error)
    sys.stderr.write(f"error: flockguard crashed: {type(error).__name__}: {error}\n  log: {log}\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else EXIT_USAGE
    if args[0] in ("-V", "--version"):
        print(f"flockguard {__version__}")
        return 0
    name = args[0]
    if name not in COMMANDS:
        sys.stderr.write(f"flockguard: unknown command {name!r}\n\n{_usage()}\n")
        return EXIT_USAGE
    module_path, summary = COMMANDS[name]
    command: Command = __import__(module_path, fromlist=["run"])
    parser = argparse.ArgumentParser(prog=f"flockguard {name}", description=summary)
    command.configure(parser)
    options = vars(parser.parse_args(args[1:]))
    try:
        return command.run(**options)
    except FlockguardError as error:
        print_error(error)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:
        _crash(error)
        return EXIT_CRASH
