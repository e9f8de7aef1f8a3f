"""Canonical paths: no spelling of a path (``..``, ``//``, ``./``, relative, symlinks) dodges a
pattern, and a path outside the repository is judged by where its bytes live.

Two layers: ``flockguard.paths.resolve`` as a unit, and the installed hook end to end with
Claude Code Write/Read payloads.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
from typing import TYPE_CHECKING

import pytest

from conftest import HookResult, audit, claude, run_fg, run_hook
from flockguard.paths import resolve

if TYPE_CHECKING:
    from flockguard.paths import Target

CONFIG = pathlib.Path(".flockguard") / "config.toml"


# ---- helpers ------------------------------------------------------------------------------------


def write(repo: pathlib.Path, file_path: str, *, cwd: pathlib.Path | None = None) -> HookResult:
    document = claude(repo, "Write", file_path=file_path, content="x = 1\n")
    if cwd is not None:
        document["cwd"] = str(cwd)
    return run_hook(repo, document)


def read(repo: pathlib.Path, file_path: str, *, cwd: pathlib.Path | None = None) -> HookResult:
    document = claude(repo, "Read", file_path=file_path)
    if cwd is not None:
        document["cwd"] = str(cwd)
    return run_hook(repo, document)


def assert_allowed(result: HookResult) -> None:
    assert result.code == 0, result.stderr
    assert result.json == {}, result.stdout


def assert_decision(result: HookResult, decision: str, code: str, shown: str = "") -> None:
    assert result.code == 0, result.stderr
    assert result.decision == decision, result.stdout
    assert code in result.reason, result.reason
    if shown:
        assert f"`{shown}`" in result.reason, result.reason


def set_outside_repo(repo: pathlib.Path, body: str) -> None:
    """Replace the `[outside_repo]` table of the repo's policy with ``body``."""
    config = repo / CONFIG
    text = config.read_text()
    start = text.index("[outside_repo]\n")
    end = text.index("\n[", start + 1)
    config.write_text(text[:start] + "[outside_repo]\n" + body.strip() + "\n" + text[end:])


@pytest.fixture
def home() -> pathlib.Path:
    """The isolated $HOME conftest set up, with key material in it."""
    path = pathlib.Path(os.environ["HOME"])
    (path / ".ssh").mkdir(exist_ok=True)
    (path / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (path / ".ssh" / "deploy_material").write_text("secret\n")
    (path / ".ssh" / "known_hosts").write_text("github.com ssh-ed25519 AAAA\n")
    (path / ".aws").mkdir(exist_ok=True)
    (path / ".aws" / "credentials").write_text("[default]\naws_secret_access_key = x\n")
    (path / "notes.txt").write_text("nothing secret\n")
    return path


@pytest.fixture
def outside(tmp_path: pathlib.Path) -> pathlib.Path:
    """A directory that is not in the repository (the repo fixture is tmp_path/"repo")."""
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


@pytest.fixture
def tree(repo: pathlib.Path) -> pathlib.Path:
    """The repo with some ordinary files and a `.env`."""
    (repo / "src").mkdir()
    (repo / "sub").mkdir()
    (repo / "README.md").write_text("# readme\n")
    (repo / ".env").write_text("SECRET=1\n")
    (repo / ".env.example").write_text("SECRET=\n")
    return repo


def relative_outside(path: pathlib.Path) -> str:
    """How a path outside the repository appears among a Target's names."""
    return str(path).lstrip("/")


# ---- unit: resolve() folds spellings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("src/../.env", ".env"),
        ("src/./../.flockguard/config.toml", ".flockguard/config.toml"),
        ("./.env", ".env"),
        ("src//../.env", ".env"),
        ("a/b/c/../../../.git/config", ".git/config"),
        (".env/", ".env"),
        (".env/.", ".env"),
        ("src/../src/../.claude/settings.json", ".claude/settings.json"),
    ],
)
def test_resolve_folds_relative_spellings(tree: pathlib.Path, raw: str, expected: str) -> None:
    target = resolve(raw, str(tree), str(tree))
    assert target.names == (expected,)
    assert target.shown == expected
    assert target.inside
    assert target.raw == raw


def test_resolve_folds_double_slashes_in_absolute_paths(tree: pathlib.Path) -> None:
    root = str(tree)
    for raw in (f"{root}//.env", f"/{root}/.env", f"//{root}//./.env", f"{root}/src/..//.env"):
        target = resolve(raw, root, root)
        assert target.names == (".env",), raw
        assert target.inside, raw


def test_resolve_relative_to_cwd(tree: pathlib.Path) -> None:
    root = str(tree)
    target = resolve("../.env", str(tree / "sub"), root)
    assert target.names == (".env",)
    assert resolve("x.py", str(tree / "sub"), root).names == ("sub/x.py",)
    # an absolute path does not care about cwd
    assert resolve(f"{root}/.env", str(tree / "sub"), root).names == (".env",)


def test_resolve_climbing_out_of_the_repo_is_outside(tree: pathlib.Path) -> None:
    root = str(tree)
    target = resolve("../../outside.txt", str(tree / "sub"), root)
    expected = tree.parent / "outside.txt"
    assert not target.inside
    assert target.names == (relative_outside(expected),)
    assert target.shown == str(expected)


def test_resolve_sibling_directory_with_the_root_as_prefix_is_outside(tree: pathlib.Path) -> None:
    sibling = tree.parent / (tree.name + "-other")
    sibling.mkdir()
    target = resolve(str(sibling / ".env"), str(tree), str(tree))
    assert not target.inside
    assert ".env" not in target.names
    assert target.names == (relative_outside(sibling / ".env"),)


def test_resolve_tilde(tree: pathlib.Path, home: pathlib.Path) -> None:
    target = resolve("~/.ssh/id_rsa", str(tree), str(tree))
    assert not target.inside
    assert target.names == (relative_outside(home / ".ssh" / "id_rsa"),)


# ---- unit: resolve() follows symlinks ---------------------------------------------------------


def test_resolve_file_link_is_judged_as_its_target(tree: pathlib.Path) -> None:
    (tree / "innocent.txt").symlink_to(".env")
    target = resolve("innocent.txt", str(tree), str(tree))
    assert set(target.names) == {"innocent.txt", ".env"}
    assert target.shown == ".env"
    assert target.inside


def test_resolve_directory_link(tree: pathlib.Path) -> None:
    (tree / "cfg").symlink_to(".flockguard")
    target = resolve("cfg/config.toml", str(tree), str(tree))
    assert set(target.names) == {"cfg/config.toml", ".flockguard/config.toml"}
    assert target.shown == ".flockguard/config.toml"
    assert target.inside
    directory = resolve("cfg", str(tree), str(tree))
    assert directory.is_dir
    assert ".flockguard" in directory.names


def test_resolve_link_leading_out_of_the_repo(tree: pathlib.Path, outside: pathlib.Path) -> None:
    (tree / "out").symlink_to(outside)
    target = resolve("out/x.txt", str(tree), str(tree))
    assert not target.inside
    assert "out/x.txt" in target.names
    # the last name is where the bytes would land (the write guard's FG104 relies on it)
    assert target.names[-1] == relative_outside(outside / "x.txt")


def test_resolve_link_in_repo_to_key_outside(tree: pathlib.Path, home: pathlib.Path) -> None:
    (tree / "key").symlink_to(home / ".ssh" / "id_rsa")
    target = resolve("key", str(tree), str(tree))
    assert not target.inside
    assert target.names == ("key", relative_outside(home / ".ssh" / "id_rsa"))


def test_resolve_outside_link_into_the_repo_is_inside(
    tree: pathlib.Path, outside: pathlib.Path
) -> None:
    (outside / "looks-harmless").symlink_to(tree / ".env")
    target = resolve(str(outside / "looks-harmless"), str(tree), str(tree))
    assert target.inside
    assert ".env" in target.names
    assert target.shown == ".env"


def test_resolve_root_spelled_through_a_link(tree: pathlib.Path, outside: pathlib.Path) -> None:
    alias = outside / "alias"
    alias.symlink_to(tree)
    # the hook's root is the abspath it found, which may be the link; either spelling is inside
    for raw in (str(alias / ".env"), str(tree / ".env")):
        target = resolve(raw, str(alias), str(alias))
        assert target.inside, raw
        assert ".env" in target.names, raw


def test_resolve_dangling_link(tree: pathlib.Path, outside: pathlib.Path) -> None:
    (tree / ".env").unlink()
    (tree / "ghost").symlink_to(".env")
    target = resolve("ghost", str(tree), str(tree))
    assert set(target.names) == {"ghost", ".env"}
    assert target.inside
    assert not target.is_dir

    (tree / "ghostdir").symlink_to(".flockguard/not-yet")
    target = resolve("ghostdir/file", str(tree), str(tree))
    assert ".flockguard/not-yet/file" in target.names

    (tree / "gone").symlink_to(outside / "missing" / "deeper")
    target = resolve("gone/file", str(tree), str(tree))
    assert not target.inside
    assert target.names[-1] == relative_outside(outside / "missing" / "deeper" / "file")


def test_resolve_not_yet_existing_file_in_not_yet_existing_directory(tree: pathlib.Path) -> None:
    target = resolve("new/deeper/file.txt", str(tree), str(tree))
    assert target.names == ("new/deeper/file.txt",)
    assert target.inside
    assert not target.is_dir
    assert not (tree / "new").exists()  # resolving creates nothing


def test_resolve_symlink_loop_does_not_raise(tree: pathlib.Path) -> None:
    (tree / "a").symlink_to("b")
    (tree / "b").symlink_to("a")
    target = resolve("a/x", str(tree), str(tree))
    assert "a/x" in target.names
    assert target.inside


def test_resolve_directory(tree: pathlib.Path) -> None:
    assert resolve("src", str(tree), str(tree)).is_dir
    assert not resolve("README.md", str(tree), str(tree)).is_dir


def test_resolve_dotdot_after_a_directory_link_follows_the_link(tree: pathlib.Path) -> None:
    """The OS applies `..` after following a link: d/../config.toml with d -> .flockguard/state."""
    (tree / ".flockguard" / "state").mkdir(exist_ok=True)
    (tree / "d").symlink_to(".flockguard/state")
    on_disk = os.path.realpath(tree / "d" / ".." / "config.toml")
    assert on_disk == str(tree / ".flockguard" / "config.toml")  # what the kernel opens
    target = resolve("d/../config.toml", str(tree), str(tree))
    assert ".flockguard/config.toml" in target.names


# ---- end to end: spellings through the installed hook -----------------------------------------


def test_hook_controls(tree: pathlib.Path) -> None:
    """Ordinary files pass, so the denials below are about the paths, not the hook."""
    assert_allowed(write(tree, f"{tree}/src/main.py"))
    assert_allowed(read(tree, f"{tree}/README.md"))
    assert_allowed(read(tree, f"{tree}/src/../README.md"))
    assert_allowed(read(tree, ".env.example"))


@pytest.mark.parametrize(
    "spelling",
    ["src/../.env", "{repo}/src/../.env", "{repo}//.env", "/{repo}/.env", "./.env", ".env/."],
)
def test_hook_read_of_env_under_any_spelling_is_denied(tree: pathlib.Path, spelling: str) -> None:
    result = read(tree, spelling.format(repo=tree))
    assert_decision(result, "deny", "FG201", ".env")
    record = audit(tree)[-1]
    assert record["paths"] == {"read": [".env"]}
    assert record["findings"][0]["path"] == ".env"


@pytest.mark.parametrize("spelling", ["src/../.env", "{repo}//.env", "./.env"])
def test_hook_write_of_env_under_any_spelling_asks(tree: pathlib.Path, spelling: str) -> None:
    result = write(tree, spelling.format(repo=tree))
    assert_decision(result, "ask", "FG102", ".env")


@pytest.mark.parametrize(
    "spelling",
    [
        "src/./../.flockguard/config.toml",
        "{repo}/src/./../.flockguard/config.toml",
        "{repo}//.flockguard//config.toml",
        "./.flockguard/./config.toml",
    ],
)
def test_hook_write_of_config_under_any_spelling_is_blocked(
    tree: pathlib.Path, spelling: str
) -> None:
    result = write(tree, spelling.format(repo=tree))
    assert_decision(result, "deny", "FG101", ".flockguard/config.toml")


def test_hook_relative_path_against_payload_cwd(tree: pathlib.Path) -> None:
    sub = tree / "sub"
    assert_decision(read(tree, "../.env", cwd=sub), "deny", "FG201", ".env")
    assert_decision(
        write(tree, "../.flockguard/config.toml", cwd=sub),
        "deny",
        "FG101",
        ".flockguard/config.toml",
    )
    # the same relative name from the repo root is a different, harmless file
    assert_allowed(read(tree, "../.env.example", cwd=sub))
    assert_allowed(write(tree, "notes.md", cwd=sub))
    assert audit(tree)[-1]["paths"] == {"write": ["sub/notes.md"]}


def test_hook_relative_path_against_a_cwd_that_does_not_exist_yet(tree: pathlib.Path) -> None:
    assert_decision(read(tree, "../../.env", cwd=tree / "new" / "dir"), "deny", "FG201", ".env")


# ---- end to end: symlinks ----------------------------------------------------------------------


def test_hook_file_link_to_env(tree: pathlib.Path) -> None:
    (tree / "innocent.txt").symlink_to(".env")
    assert_decision(read(tree, "innocent.txt"), "deny", "FG201", ".env")
    assert_decision(read(tree, f"{tree}/innocent.txt"), "deny", "FG201", ".env")
    assert_decision(write(tree, "innocent.txt"), "ask", "FG102", ".env")


def test_hook_directory_link_to_flockguard(tree: pathlib.Path) -> None:
    (tree / "cfg").symlink_to(".flockguard")
    assert_decision(write(tree, "cfg/config.toml"), "deny", "FG101", ".flockguard/config.toml")
    assert_decision(
        write(tree, f"{tree}/cfg/state/config.cache"),
        "deny",
        "FG101",
        ".flockguard/state/config.cache",
    )
    (tree / "wiring").symlink_to(".claude")
    assert_decision(write(tree, "wiring/settings.json"), "deny", "FG101", ".claude/settings.json")
    (tree / "g").symlink_to(".git")
    assert_decision(write(tree, "g/hooks/pre-commit"), "deny", "FG101", ".git/hooks/pre-commit")


def test_hook_link_out_of_the_repo_to_etc(tree: pathlib.Path) -> None:
    """/etc is not under the default `[outside_repo] allow` list: checkpoint -> ask."""
    (tree / "out").symlink_to("/etc")
    result = write(tree, "out/flockguard-probe.conf")
    assert_decision(result, "ask", "FG104")
    real = os.path.realpath("/etc/flockguard-probe.conf")
    assert f"`{real}`" in result.reason, result.reason
    assert not os.path.exists(real)  # the hook judges, it writes nothing


def test_default_outside_allow_list_exempts_tmp(tree: pathlib.Path, outside: pathlib.Path) -> None:
    """pytest's tmp dirs (and conftest's $HOME) are under /tmp, which the default policy allows."""
    if not os.path.realpath(outside).startswith("/tmp/"):
        pytest.skip("the temporary directory is not under /tmp")
    (tree / "out").symlink_to(outside)
    assert_allowed(write(tree, "out/scratch.txt"))
    assert_allowed(write(tree, str(outside / "direct.txt")))


def test_hook_link_out_of_the_repo_with_empty_allow_list(
    tree: pathlib.Path, home: pathlib.Path
) -> None:
    set_outside_repo(tree, 'write = "checkpoint"\nallow = []')
    scratch = home / "scratch"
    scratch.mkdir()
    (tree / "out").symlink_to(scratch)
    result = write(tree, "out/file.txt")
    assert_decision(result, "ask", "FG104")
    assert f"`{scratch / 'file.txt'}`" in result.reason
    record = audit(tree)[-1]
    assert [f["code"] for f in record["findings"]] == ["FG104"]
    # a direct absolute write outside is judged the same way
    assert_decision(write(tree, str(home / "direct.txt")), "ask", "FG104")
    # and a dangling link leading out
    (tree / "gone").symlink_to(home / "missing")
    assert_decision(write(tree, "gone/file.txt"), "ask", "FG104")


@pytest.mark.parametrize(
    ("tier", "decision"), [("block", "deny"), ("checkpoint", "ask"), ("warn", None)]
)
def test_hook_outside_repo_tier(
    tree: pathlib.Path, home: pathlib.Path, tier: str, decision: str | None
) -> None:
    set_outside_repo(tree, f'write = "{tier}"\nallow = []')
    (tree / "out").symlink_to(home)
    result = write(tree, "out/file.txt")
    assert result.code == 0
    assert result.decision == decision, result.stdout
    if decision is None:
        assert "FG104" in result.json["hookSpecificOutput"]["additionalContext"]
    else:
        assert "FG104" in result.reason
    assert audit(tree)[-1]["outcome"] == (decision or "warn")


def test_hook_outside_repo_allow_tier_and_allow_list(
    tree: pathlib.Path, home: pathlib.Path
) -> None:
    (tree / "out").symlink_to(home)
    set_outside_repo(tree, 'write = "allow"\nallow = []')
    assert_allowed(write(tree, "out/file.txt"))
    set_outside_repo(tree, f'write = "block"\nallow = ["{home}/scratch/**"]')
    assert_allowed(write(tree, "out/scratch/file.txt"))
    assert_decision(write(tree, "out/other/file.txt"), "deny", "FG104")


def test_hook_outside_allow_list_is_judged_by_the_real_path(
    tree: pathlib.Path, home: pathlib.Path
) -> None:
    """A link in an allowed directory pointing elsewhere does not inherit the exemption."""
    allowed = home / "scratch"
    allowed.mkdir()
    forbidden = home / "forbidden"
    forbidden.mkdir()
    (allowed / "hop").symlink_to(forbidden)
    set_outside_repo(tree, f'write = "block"\nallow = ["{allowed}/**"]')
    assert_allowed(write(tree, str(allowed / "file.txt")))
    assert_decision(write(tree, str(allowed / "hop" / "file.txt")), "deny", "FG104")


def test_hook_link_in_repo_to_ssh_key_outside(tree: pathlib.Path, home: pathlib.Path) -> None:
    (tree / "key").symlink_to(home / ".ssh" / "id_rsa")
    assert_decision(read(tree, "key"), "deny", "FG201")
    # matched only through `**/.ssh/**` on the real path: the link's own name is harmless
    (tree / "notes").symlink_to(home / ".ssh" / "deploy_material")
    result = read(tree, "notes")
    assert_decision(result, "deny", "FG201")
    assert "**/.ssh/**" in result.reason
    # the `!**/.ssh/known_hosts` exclusion holds through a link too
    (tree / "hosts").symlink_to(home / ".ssh" / "known_hosts")
    assert_allowed(read(tree, "hosts"))
    # a link to the whole directory
    (tree / "keys").symlink_to(home / ".ssh")
    assert_decision(read(tree, "keys/deploy_material"), "deny", "FG201")
    (tree / "aws").symlink_to(home / ".aws")
    assert_decision(read(tree, "aws/credentials"), "deny", "FG201")


def test_hook_write_with_dotdot_after_directory_link_is_blocked(tree: pathlib.Path) -> None:
    """`d/../config.toml` with d -> .flockguard/state writes .flockguard/config.toml."""
    (tree / ".flockguard" / "state").mkdir(exist_ok=True)
    (tree / "d").symlink_to(".flockguard/state")
    assert_decision(write(tree, f"{tree}/d/../config.toml"), "deny", "FG101")


def test_hook_read_with_dotdot_after_directory_link_is_denied(
    tree: pathlib.Path, home: pathlib.Path
) -> None:
    """`k/../deploy_material` with k -> ~/.ssh/sub opens ~/.ssh/deploy_material."""
    (home / ".ssh" / "sub").mkdir()
    (tree / "k").symlink_to(home / ".ssh" / "sub")
    assert os.path.realpath(tree / "k" / ".." / "deploy_material") == str(
        home / ".ssh" / "deploy_material"
    )
    assert_decision(read(tree, f"{tree}/k/../deploy_material"), "deny", "FG201")


# ---- end to end: paths outside the repository --------------------------------------------------


@pytest.mark.parametrize(
    "relative", [".ssh/id_rsa", ".ssh/deploy_material", ".aws/credentials", ".ssh/../.ssh/id_rsa"]
)
def test_hook_read_of_credentials_outside_the_repo_is_denied(
    tree: pathlib.Path, home: pathlib.Path, relative: str
) -> None:
    assert_decision(read(tree, f"{home}/{relative}"), "deny", "FG201")


def test_hook_read_of_credentials_by_tilde_is_denied(
    tree: pathlib.Path, home: pathlib.Path
) -> None:
    del home
    assert_decision(read(tree, "~/.ssh/id_rsa"), "deny", "FG201")
    assert_decision(read(tree, "~/.aws/credentials"), "deny", "FG201")


@pytest.mark.parametrize("path", ["{home}/notes.txt", "{home}/.ssh/known_hosts", "/etc/hostname"])
def test_hook_read_of_ordinary_outside_path_is_allowed(
    tree: pathlib.Path, home: pathlib.Path, path: str
) -> None:
    assert_allowed(read(tree, path.format(home=home)))
    record = audit(tree)[-1]
    assert record["outcome"] == "allow"
    assert record["findings"] == []


# ---- end to end: paths that do not exist --------------------------------------------------------


def test_hook_dangling_link_to_env(tree: pathlib.Path) -> None:
    (tree / ".env").unlink()
    (tree / "ghost").symlink_to(".env")
    assert_decision(read(tree, "ghost"), "deny", "FG201", ".env")
    assert_decision(write(tree, "ghost"), "ask", "FG102", ".env")


def test_hook_dangling_directory_link_into_protected_dir(tree: pathlib.Path) -> None:
    (tree / "later").symlink_to(".flockguard/not-yet")
    assert_decision(write(tree, "later/x.toml"), "deny", "FG101", ".flockguard/not-yet/x.toml")


def test_hook_new_file_in_new_directory(tree: pathlib.Path) -> None:
    assert_allowed(write(tree, "new/deeper/file.txt"))
    assert audit(tree)[-1]["paths"] == {"write": ["new/deeper/file.txt"]}
    assert_decision(write(tree, "new/deeper/.env"), "ask", "FG102")
    assert not (tree / "new").exists()


def test_hook_symlink_loop_still_answers(tree: pathlib.Path) -> None:
    (tree / "a").symlink_to("b")
    (tree / "b").symlink_to("a")
    assert_allowed(write(tree, "a/x.txt"))
    assert_decision(write(tree, "a/../.env"), "ask", "FG102")


def test_targets_are_plain_values(tree: pathlib.Path) -> None:
    """Targets are immutable values: equal when resolved the same way, and hashable."""
    first: Target = resolve("src/../.env", str(tree), str(tree))
    second: Target = resolve("src/../.env", str(tree), str(tree))
    assert first == second
    assert hash(first) == hash(second)
    with pytest.raises(AttributeError):
        first.shown = "x"  # type: ignore[misc]


# ---- the policy that governs a target ------------------------------------------------------------


def test_hook_cwd_outside_repo_with_project_dir_uses_the_repo_policy(tree: pathlib.Path) -> None:
    parent = tree.parent
    document = claude(tree, "Write", file_path=f"{tree}/.flockguard/config.toml", content="")
    document["cwd"] = str(parent)
    result = run_hook(tree, document, cwd=parent, env={"CLAUDE_PROJECT_DIR": str(tree)})
    assert_decision(result, "deny", "FG101", ".flockguard/config.toml")


@pytest.mark.parametrize(
    "relative", [".flockguard/config.toml", ".claude/settings.json", ".git/config"]
)
def test_hook_cwd_outside_repo_still_protects_the_repo(tree: pathlib.Path, relative: str) -> None:
    """An agent started in the repo's parent directory writes into the repo by absolute path."""
    parent = tree.parent
    document = claude(tree, "Write", file_path=f"{tree}/{relative}", content="")
    document["cwd"] = str(parent)
    result = run_hook(tree, document, cwd=parent)
    assert result.decision == "deny", result.stdout
    assert "FG101" in result.reason


def test_hook_write_into_another_flockguard_repo_uses_its_policy(
    tree: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    run_fg("init", cwd=other)
    result = write(tree, f"{other}/.flockguard/config.toml")
    assert_decision(result, "deny", "FG101")


def test_case_insensitive_filesystem_matches_patterns_case_insensitively(
    repo: pathlib.Path,
) -> None:
    """On a case-insensitive filesystem `.ENV` is `.env`. Simulated here: the probe flockguard
    uses (does `.FLOCKGUARD` name the config directory?) is made to answer yes."""
    for name in (".ENV", "Certs/Server.PEM"):
        assert run_hook(repo, claude(repo, "Read", file_path=str(repo / name))).json == {}, name
    (repo / ".FLOCKGUARD").symlink_to(".flockguard")
    config = repo / ".flockguard" / "config.toml"
    config.write_text(config.read_text() + "\n")  # a new identity: the cache is rebuilt
    for name in (".ENV", "Certs/Server.PEM"):
        result = run_hook(repo, claude(repo, "Read", file_path=str(repo / name)))
        assert result.decision == "deny", name
        assert "FG201" in result.reason
