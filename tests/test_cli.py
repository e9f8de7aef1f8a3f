"""The human CLI: explain, demo, help and errors, run as the installed `flockguard`."""

from __future__ import annotations

import json
import pathlib
import shutil

from conftest import audit, run_fg


def test_explain_names_class_rule_stage_and_adr(repo: pathlib.Path) -> None:
    config = repo / ".flockguard" / "config.toml"
    config.write_text(
        config.read_text().replace(
            'message = "Credentials and key material."',
            'message = "Credentials and key material."\nadr = "docs/adr/0007-secrets.md"',
        )
    )
    proc = run_fg("explain", ".env", "--write", cwd=repo)
    assert "write .env: ask" in proc.stdout
    assert "FG102 write-needs-approval" in proc.stdout
    assert "`secrets` class" in proc.stdout and "docs/adr/0007-secrets.md" in proc.stdout
    result = json.loads(run_fg("explain", "src/../.env", "--json", cwd=repo).stdout)
    assert [r["kind"] for r in result] == ["write", "read"]
    assert result[0]["path"] == ".env"
    assert result[1]["outcome"] == "deny"
    assert result[1]["findings"][0]["code"] == "FG201"
    assert result[1]["findings"][0]["doc"] == "docs/rules/FG201.md"


def test_explain_an_unprotected_path(repo: pathlib.Path) -> None:
    result = json.loads(run_fg("explain", "src/app.py", "--json", cwd=repo).stdout)
    assert all(r["outcome"] == "allow" and not r["findings"] for r in result)
    assert "no path class applies" in run_fg("explain", "src/app.py", cwd=repo).stdout


def test_explain_follows_the_stage(repo: pathlib.Path) -> None:
    config = repo / ".flockguard" / "config.toml"
    config.write_text(
        config.read_text().replace('FG = "enforce"', 'FG = "enforce"\nFG2 = "monitor"')
    )
    result = json.loads(run_fg("explain", ".env", "--read", "--json", cwd=repo).stdout)
    assert result[0]["outcome"] == "allow"
    assert result[0]["findings"][0]["stage"] == "monitor"
    assert result[0]["findings"][0]["outcome"] == "deny"


def test_explain_on_an_invalid_policy_names_the_key(repo: pathlib.Path) -> None:
    config = repo / ".flockguard" / "config.toml"
    config.write_text(config.read_text().replace('tier = "warn"', 'tier = "wran"'))
    proc = run_fg("explain", ".env", cwd=repo, check=False)
    assert proc.returncode == 1
    assert "config.toml" in proc.stderr and "write.lockfiles.tier" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_demo_drives_the_installed_hook(tmp_path: pathlib.Path) -> None:
    proc = run_fg("demo", "--json", "--keep", cwd=tmp_path)
    summary = json.loads(proc.stdout)
    assert summary["actions"] == summary["audited"] > 20
    outcomes = summary["outcomes"]
    assert outcomes["deny"] >= 5 and outcomes["ask"] >= 2
    assert outcomes["warn"] >= 1 and outcomes["allow"] >= 5
    assert len(summary["by_agent"]) == 4
    coordination = summary["coordination"]
    assert coordination["appended"] == coordination["expected"] > 0
    assert coordination["each_once"] and coordination["torn"] == 0
    assert coordination["waiter_exit"] == 75
    assert (
        "held by pid" in coordination["waiter_told"]
        and "agent backend" in coordination["waiter_told"]
    )
    handover = summary["handover"]
    assert (handover["first_edit"], handover["second_edit"]) == ("allow", "deny")
    assert "FG701" in handover["second_told"] and handover["queued_position"] == 1
    assert handover["holder_after_release"] == ["claude-code:demo-backend"]
    assert {"FG101 write-blocked", "FG201 read-denied", "FG102 write-needs-approval"} <= set(
        summary["by_rule"]
    )
    kept = pathlib.Path(summary["repo"])
    try:
        records = audit(kept)
        assert len({r["session"] for r in records}) == 4
        parallel = records[: summary["audited"]]  # the handover scene appends after them
        assert sum(r["outcome"] == "deny" for r in parallel) == outcomes["deny"]
    finally:
        shutil.rmtree(kept.parent)


def test_demo_text_summary(tmp_path: pathlib.Path) -> None:
    proc = run_fg("demo", cwd=tmp_path)
    for heading in (
        "Actions",
        "By agent",
        "By rule",
        "What an agent is told",
        "audit log",
        "Coordination log",
        "A busy lock",
        "Locks between agents",
    ):
        assert heading in proc.stdout


def test_help_and_unknown_command(tmp_path: pathlib.Path) -> None:
    proc = run_fg("--help", cwd=tmp_path)
    assert all(name in proc.stdout for name in ("init", "uninstall", "explain", "demo"))
    proc = run_fg("frobnicate", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "unknown command 'frobnicate'" in proc.stderr


def test_python_dash_m_works(tmp_path: pathlib.Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "flockguard", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.startswith("flockguard ")
