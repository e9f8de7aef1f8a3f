"""The lock-protocol skill: placed where each agent reads, updated in place, removed exactly."""

from __future__ import annotations

import pathlib

from conftest import git_init, run_fg
from flockguard.install import skill


def test_init_places_the_skill_for_claude_code(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    run_fg("init", "--agents", "claude-code", cwd=tmp_path)
    agents = (tmp_path / "AGENTS.md").read_text()
    assert agents.startswith(skill.BEGIN) and agents.rstrip().endswith(skill.END)
    for needle in ("flockguard status", "--mode write --ttl", "lock renew", "release --all",
                   "--keep-queued", "FG701", "ADR"):  # fmt: skip
        assert needle in agents, needle
    assert "@AGENTS.md" in (tmp_path / "CLAUDE.md").read_text()
    claude_skill = (tmp_path / ".claude/skills/flockguard-locks/SKILL.md").read_text()
    front = claude_skill.split("---\n")[1]
    assert "name: flockguard-locks\n" in front and "description: " in front
    assert not (tmp_path / ".cursor").exists()  # Cursor is not used here


def test_a_persons_text_is_kept_and_the_section_updated_in_place(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    own = "# Our agents guide\n\nUse 4 spaces.\n"
    (tmp_path / "AGENTS.md").write_text(own)
    run_fg("init", "--agents", "claude-code", cwd=tmp_path)
    placed = (tmp_path / "AGENTS.md").read_text()
    assert placed.startswith(own) and skill.BEGIN in placed
    stale = placed.replace("Look first", "Look first (old text)")
    (tmp_path / "AGENTS.md").write_text(stale + "\n## After, also ours\n")
    run_fg("init", "--agents", "claude-code", cwd=tmp_path)
    updated = (tmp_path / "AGENTS.md").read_text()
    assert "old text" not in updated and updated.count(skill.BEGIN) == 1
    assert updated.startswith(own) and updated.endswith("\n## After, also ours\n")
    run_fg("uninstall", "--agents", "claude-code", cwd=tmp_path)
    assert (tmp_path / "AGENTS.md").read_text() == own + "\n## After, also ours\n"


def test_uninstall_restores_the_bytes_and_removes_what_it_created(tmp_path: pathlib.Path) -> None:
    git_init(tmp_path)
    own = "# Guide\n"
    (tmp_path / "AGENTS.md").write_text(own)
    run_fg("init", "--agents", "claude-code", cwd=tmp_path)
    run_fg("uninstall", "--agents", "claude-code", cwd=tmp_path)
    assert (tmp_path / "AGENTS.md").read_text() == own
    assert not (tmp_path / "CLAUDE.md").exists()
    assert not (tmp_path / ".claude").exists()


def test_every_agents_place_and_its_format(tmp_path: pathlib.Path) -> None:
    every = [name for name in skill.READERS.values() if name]
    written = skill.install(str(tmp_path), every)
    assert sorted(written) == sorted(skill.TARGETS)
    assert "alwaysApply: true" in (tmp_path / ".cursor/rules/flockguard.mdc").read_text()
    assert "trigger: always_on" in (tmp_path / ".windsurf/rules/flockguard.md").read_text()
    assert (
        'applyTo: "**"'
        in (tmp_path / ".github/instructions/flockguard.instructions.md").read_text()
    )
    assert "inclusion: always" in (tmp_path / ".kiro/steering/flockguard.md").read_text()
    assert (
        "name: flockguard-locks"
        in (tmp_path / ".agents/skills/flockguard-locks/SKILL.md").read_text()
    )
    assert skill.BEGIN in (tmp_path / "GEMINI.md").read_text()
    assert skill.install(str(tmp_path), every) == []  # again: nothing changes
    assert sorted(skill.uninstall(str(tmp_path))) == sorted(skill.TARGETS)
    assert list(tmp_path.iterdir()) == []


def test_a_persons_own_rule_file_is_not_overwritten(tmp_path: pathlib.Path) -> None:
    rule = tmp_path / ".cursor/rules/flockguard.mdc"
    rule.parent.mkdir(parents=True)
    rule.write_text("my own rule\n")
    skill.install(str(tmp_path), ["cursor"])
    skill.uninstall(str(tmp_path))
    assert rule.read_text() == "my own rule\n"
