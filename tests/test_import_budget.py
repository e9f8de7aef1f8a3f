"""The hook imports only what the action needs (DESIGN §2 "Import budget").

The console script cannot be run under ``-X importtime``, so each payload is fed to the hook's
``main`` in a fresh interpreter that prints ``sorted(sys.modules)`` to stderr on the way out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from conftest import PAYLOADS

if TYPE_CHECKING:
    import pathlib

FIXTURES = sorted(p.stem for p in (PAYLOADS / "claude-code").glob("*.json"))

# never on the hook path, whatever the action (nor any of their submodules)
FORBIDDEN = (
    "click", "rich", "asyncio", "importlib.metadata", "http", "ssl", "pydantic", "yaml",
)  # fmt: skip
# only while (re)compiling the policy: never once the config cache is warm
SLOW_PATH = ("tomllib", "pathspec")

PROBE = (
    "import sys; sys.argv = ['flockguard-hook', 'claude-code']; "
    "from flockguard.hook import main; code = main(); import json; "
    "sys.stderr.write('\\nMODULES:' + json.dumps(sorted(sys.modules)) + '\\n'); "
    "raise SystemExit(code)"
)


def imported(repo: pathlib.Path, data: bytes) -> set[str]:
    """The modules loaded by one hook run on ``data``; fails if the hook misbehaves."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=data,
        capture_output=True,
        cwd=repo,
        env=dict(os.environ),
        check=False,
    )
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    json.loads(proc.stdout)  # it still answered
    marker = "\nMODULES:"
    assert marker in err, err
    return set(json.loads(err.rsplit(marker, 1)[1]))


def loaded(modules: set[str], name: str) -> list[str]:
    """``name`` and its submodules among ``modules``."""
    return sorted(m for m in modules if m == name or m.startswith(f"{name}."))


def fixture_bytes(name: str, repo: pathlib.Path) -> bytes:
    text = (PAYLOADS / "claude-code" / f"{name}.json").read_text()
    return text.replace("{repo}", str(repo)).encode()


@pytest.fixture
def cache(repo: pathlib.Path) -> pathlib.Path:
    path = repo / ".flockguard" / "state" / "config.cache"
    assert not path.exists(), "flockguard init is expected to leave the cache cold"
    return path


@pytest.mark.parametrize("name", FIXTURES)
def test_hook_stays_within_import_budget(
    name: str, repo: pathlib.Path, cache: pathlib.Path
) -> None:
    data = fixture_bytes(name, repo)
    cold = imported(repo, data)
    assert cache.exists(), "the first run compiles the policy and caches it"
    warm = imported(repo, data)
    for modules, run in ((cold, "cold"), (warm, "warm")):
        for name_ in FORBIDDEN:
            assert not loaded(modules, name_), f"{run} run imported {loaded(modules, name_)}"
    for name_ in SLOW_PATH:
        assert not loaded(warm, name_), f"warm cache, yet {loaded(warm, name_)} imported"
    assert "typing" not in warm, "typing costs 2-8 ms; model.py avoids it on purpose"
    assert "flockguard.platforms.claude_code" in warm  # the probe really ran the hook


def test_cold_cache_shows_the_slow_path(repo: pathlib.Path, cache: pathlib.Path) -> None:
    """The probe can see what it forbids: the first run compiles the TOML policy."""
    del cache
    cold = imported(repo, fixture_bytes("pre-write", repo))
    assert loaded(cold, "tomllib")
    assert loaded(cold, "pathspec")
    assert "flockguard.configfile" in cold


def test_changed_policy_takes_the_slow_path_once(repo: pathlib.Path, cache: pathlib.Path) -> None:
    data = fixture_bytes("pre-read", repo)
    imported(repo, data)
    assert "tomllib" not in imported(repo, data)
    config = repo / ".flockguard" / "config.toml"
    config.write_text(config.read_text() + "\n# a person edited the policy\n")
    assert "tomllib" in imported(repo, data), "an edited policy must be recompiled"
    assert cache.exists()
    assert "tomllib" not in imported(repo, data)


def test_only_shell_actions_load_the_shell_analyser(repo: pathlib.Path) -> None:
    write = fixture_bytes("pre-write", repo)
    bash = fixture_bytes("pre-bash", repo)
    imported(repo, write)  # warm the cache
    modules = imported(repo, write)
    assert "flockguard.shell" not in modules
    assert "flockguard.validators.shell" not in modules
    assert "flockguard.validators.read_guard" not in modules  # a write needs no read guard
    assert "shlex" not in modules
    modules = imported(repo, bash)
    assert "flockguard.shell" in modules
    assert "flockguard.validators.shell" in modules
