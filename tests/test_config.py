"""The policy file: the default compiles, every invalid config names the file and the key path,
the compiled cache follows every edit and survives corruption, and patterns mean what they mean
in a .gitignore.
"""

from __future__ import annotations

import marshal
import os
import pathlib
import random
import re
from typing import Any

import pytest

from conftest import HookResult, audit, claude, run_hook
from flockguard import config as config_module
from flockguard import configfile
from flockguard.defaults import CONFIG_TOML
from flockguard.errors import FlockguardError
from flockguard.paths import resolve
from flockguard.validators.guard import READ_TIERS, WRITE_TIERS, strictest

CONFIG = pathlib.Path(".flockguard") / "config.toml"
CACHE = pathlib.Path(".flockguard") / "state" / "config.cache"
FILE = "policy.toml"


def write(repo: pathlib.Path, relative: str) -> HookResult:
    return run_hook(repo, claude(repo, "Write", file_path=f"{repo}/{relative}", content="x\n"))


def read(repo: pathlib.Path, relative: str) -> HookResult:
    return run_hook(repo, claude(repo, "Read", file_path=f"{repo}/{relative}"))


def names_key(message: str, key: str) -> bool:
    """Whether ``message`` names exactly ``key`` (not a longer or shorter key path)."""
    return re.search(rf"(?<![\w.\[]){re.escape(key)}(?![\w.\[])", message) is not None


# ---- the default policy -------------------------------------------------------------------------


def test_default_policy_compiles() -> None:
    data = configfile.parse_text(CONFIG_TOML, "default.toml")
    assert data["on_internal_error"] == "deny"
    assert data["stages"] == {"FG": ["enforce", ""]}
    assert data["outside_write"] == "checkpoint"
    assert [c["name"] for c in data["write"]] == [
        "flockguard", "agent-hooks", "git-internals", "secrets", "ci", "lockfiles",
    ]  # fmt: skip
    assert [c["tier"] for c in data["write"]] == [
        "block", "block", "block", "checkpoint", "checkpoint", "warn",
    ]  # fmt: skip
    assert [(c["name"], c["tier"]) for c in data["read"]] == [("secrets", "deny")]


def test_default_outside_allow_list(tmp_path: pathlib.Path) -> None:
    """Scratch space and the null devices are exempt from FG104; nothing else is."""
    allow = config_module.load_text(str(tmp_path), CONFIG_TOML).outside_allow
    for path in ("/tmp", "/tmp/x", "/tmp/a/b/c", "/var/tmp/x", "/dev/null", "/dev/stderr"):
        assert allow.match(path.lstrip("/")), path
    for path in (
        "/etc/passwd",
        "/home/me/tmp/x",
        "/home/me/x",
        "/tmpfoo/x",
        "/dev/sda",
        "/usr/tmp",
    ):
        assert not allow.match(path.lstrip("/")), path


def test_default_policy_is_what_init_writes(repo: pathlib.Path) -> None:
    assert (repo / CONFIG).read_text() == CONFIG_TOML


def test_default_policy_protects_itself(tmp_path: pathlib.Path) -> None:
    policy = config_module.load_text(str(tmp_path), CONFIG_TOML)
    root = str(tmp_path)
    for raw in (".flockguard/config.toml", ".claude/settings.json", ".git/config"):
        hit = strictest(resolve(raw, root, root), policy.write, WRITE_TIERS)
        assert hit is not None, raw
        assert hit[0].tier == "block", raw


def test_minimal_policies_are_valid() -> None:
    empty = configfile.parse_text("", FILE)
    assert empty["write"] == []
    assert empty["read"] == []
    assert empty["on_internal_error"] == "deny"
    assert configfile.parse_text("version = 1\n", FILE)["stages"] == {}
    allow = configfile.parse_text('on_internal_error = "allow"\n', FILE)
    assert allow["on_internal_error"] == "allow"


def test_empty_outside_allow_list_is_accepted() -> None:
    data = configfile.parse_text('[outside_repo]\nwrite = "block"\nallow = []\n', FILE)
    assert data["outside_allow"] == []
    assert data["outside_write"] == "block"


def test_stage_with_observe_until_compiles() -> None:
    data = configfile.parse_text(
        '[stages]\nFG = "enforce"\nFG2 = { stage = "warn", observe_until = 2027-01-31 }\n', FILE
    )
    assert data["stages"] == {"FG": ["enforce", ""], "FG2": ["warn", "2027-01-31"]}


# ---- invalid policies name the file and the key path --------------------------------------------

CLASS = '[write.x]\ntier = "block"\npatterns = ["a"]\n'

INVALID = {
    "unknown top-level key": ('colour = "blue"\n', "colour"),
    "unknown key in a class": ('[write.x]\ntier = "block"\npatern = ["a"]\n', "write.x.patern"),
    "bad tier": ('[write.x]\ntier = "blok"\npatterns = ["a"]\n', "write.x.tier"),
    "read tier on a write class": ('[read.x]\ntier = "block"\npatterns = ["a"]\n', "read.x.tier"),
    "missing tier": ('[write.x]\npatterns = ["a"]\n', "write.x.tier"),
    "missing patterns": ('[write.x]\ntier = "block"\n', "write.x.patterns"),
    "empty pattern list": ('[write.x]\ntier = "block"\npatterns = []\n', "write.x.patterns"),
    "patterns not a list": ('[write.x]\ntier = "block"\npatterns = "a"\n', "write.x.patterns"),
    "non-string pattern": (
        '[read.secrets]\ntier = "deny"\npatterns = [".env", "*.pem", 3]\n',
        "read.secrets.patterns[2]",
    ),
    "pattern matching nothing": (
        '[write.x]\ntier = "block"\npatterns = ["a", "# a comment"]\n',
        "write.x.patterns[1]",
    ),
    "empty pattern": ('[write.x]\ntier = "block"\npatterns = [""]\n', "write.x.patterns[0]"),
    "message not a string": (CLASS + "message = 3\n", "write.x.message"),
    "adr not a string": (CLASS + "adr = true\n", "write.x.adr"),
    "bad class name": ('[write.Secrets]\ntier = "block"\npatterns = ["a"]\n', "write.Secrets"),
    "class not a table": ('[write]\nx = "block"\n', "write.x"),
    "write not a table": ("write = 3\n", "write"),
    "bad stage value": ('[stages]\nFG1 = "enforced"\n', "stages.FG1"),
    "bad stage key": ('[stages]\nXY = "monitor"\n', "stages.XY"),
    "stage key too long": ('[stages]\nFG1011 = "monitor"\n', "stages.FG1011"),
    "lowercase stage key": ('[stages]\nfg1 = "monitor"\n', "stages.fg1"),
    "bad stage in a table": ('[stages]\nFG2 = { stage = "monitr" }\n', "stages.FG2.stage"),
    "stage table without stage": (
        "[stages]\nFG2 = { observe_until = 2027-01-31 }\n",
        "stages.FG2.stage",
    ),
    "unknown key in a stage table": (
        '[stages]\nFG2 = { stage = "warn", until = 2027-01-31 }\n',
        "stages.FG2.until",
    ),
    "observe_until a string": (
        '[stages]\nFG2 = { stage = "monitor", observe_until = "2027-01-31" }\n',
        "stages.FG2.observe_until",
    ),
    "observe_until a datetime": (
        '[stages]\nFG2 = { stage = "monitor", observe_until = 2027-01-31T00:00:00 }\n',
        "stages.FG2.observe_until",
    ),
    "stages not a table": ('stages = "enforce"\n', "stages"),
    "FG9 cannot be staged": ('[stages]\nFG9 = "monitor"\n', "stages.FG9"),
    "FG90 cannot be staged": ('[stages]\nFG = "monitor"\nFG90 = "warn"\n', "stages.FG90"),
    "FG901 cannot be staged": ('[stages]\nFG901 = { stage = "monitor" }\n', "stages.FG901"),
    "on_internal_error maybe": ('on_internal_error = "maybe"\n', "on_internal_error"),
    "relative outside allow pattern": (
        '[outside_repo]\nallow = ["/tmp/**", "scratch/**"]\n',
        "outside_repo.allow[1]",
    ),
    "non-string outside allow pattern": (
        '[outside_repo]\nallow = ["/tmp/**", 5]\n',
        "outside_repo.allow[1]",
    ),
    "bad outside tier": ('[outside_repo]\nwrite = "ask"\n', "outside_repo.write"),
    "unknown outside key": ("[outside_repo]\nallowed = []\n", "outside_repo.allowed"),
    "bad shell outcome": ('[shell]\ndynamic = "allow"\n', "shell.dynamic"),
    "unknown shell key": ('[shell]\nparse = "deny"\n', "shell.parse"),
    "unsupported version": ("version = 2\n", "version"),
    "version as a string": ('version = "1"\n', "version"),
}


@pytest.mark.parametrize(("text", "key"), list(INVALID.values()), ids=list(INVALID))
def test_invalid_policy_names_file_and_key(text: str, key: str) -> None:
    with pytest.raises(FlockguardError) as caught:
        configfile.parse_text(text, FILE)
    error = caught.value
    assert error.reference == "config-invalid"
    assert FILE in str(error)
    assert names_key(str(error), key), str(error)


@pytest.mark.parametrize("value", ["true", "1.0"])
def test_version_must_be_the_integer_1(value: str) -> None:
    """TOML `true` and `1.0` equal 1 in Python; they are still not version 1."""
    with pytest.raises(FlockguardError) as caught:
        configfile.parse_text(f"version = {value}\n", FILE)
    assert names_key(str(caught.value), "version")


def test_toml_syntax_error_names_file_and_line() -> None:
    with pytest.raises(FlockguardError) as caught:
        configfile.parse_text('version = 1\n[write.x\ntier = "block"\n', FILE)
    message = str(caught.value)
    assert caught.value.reference == "config-invalid"
    assert FILE in message
    assert "line 2" in message


def test_duplicate_key_is_a_syntax_error() -> None:
    with pytest.raises(FlockguardError) as caught:
        configfile.parse_text('[stages]\nFG = "enforce"\nFG = "monitor"\n', FILE)
    assert FILE in str(caught.value)
    assert "line 3" in str(caught.value)


def test_non_utf8_policy_names_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / FILE
    path.write_bytes(b'version = 1\n# caf\xe9\n[stages]\nFG = "enforce"\n')
    with pytest.raises(FlockguardError) as caught:
        configfile.load_file(str(path))
    assert caught.value.reference == "config-invalid"
    assert str(path) in str(caught.value)
    assert "UTF-8" in str(caught.value)


def test_unreadable_policy_names_the_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FlockguardError) as caught:
        config_module.load(str(tmp_path))
    assert caught.value.reference == "config-unreadable"
    assert str(tmp_path / CONFIG) in str(caught.value)


def test_hook_with_invalid_policy_denies_naming_file_and_key(repo: pathlib.Path) -> None:
    path = repo / CONFIG
    path.write_text(path.read_text().replace('tier = "block"', 'tier = "blok"', 1))
    result = write(repo, "ordinary.txt")
    assert result.code == 0
    assert result.decision == "deny"
    assert str(path) in result.reason
    assert names_key(result.reason, "write.flockguard.tier"), result.reason
    assert [f["code"] for f in audit(repo)[-1]["findings"]] == ["FG901"]


def test_hook_with_invalid_policy_and_on_internal_error_allow(repo: pathlib.Path) -> None:
    path = repo / CONFIG
    text = path.read_text().replace('on_internal_error = "deny"', 'on_internal_error = "allow"')
    path.write_text(text + "\nbogus = 1\n")
    result = write(repo, "ordinary.txt")
    assert result.code == 0
    assert result.decision is None
    assert "bogus" in result.json["systemMessage"]


def test_hook_with_non_utf8_policy_answers_fg901(repo: pathlib.Path) -> None:
    """A policy that is not UTF-8 is an invalid policy (FG901), not a hook crash (FG903)."""
    path = repo / CONFIG
    path.write_bytes(path.read_bytes() + b"\n# caf\xe9\n")
    result = write(repo, "ordinary.txt")
    assert result.decision == "deny"
    assert [f["code"] for f in audit(repo)[-1]["findings"]] == ["FG901"]
    assert not (repo / ".flockguard" / "state" / "crash.log").exists()


# ---- the compiled cache ------------------------------------------------------------------------

DOCS_CLASS = '\n[write.docs]\ntier = "block"\npatterns = ["{pattern}"]\n'


def load_cache(repo: pathlib.Path) -> dict[str, Any]:
    with (repo / CACHE).open("rb") as handle:
        data = marshal.load(handle)
    assert isinstance(data, dict)
    return data


def keyed_by(cached: dict[str, Any], stat: os.stat_result) -> bool:
    """Whether the cache's key records this stat of the policy file (layout left open)."""
    key = cached["key"]
    return all(part in key for part in (stat.st_mtime_ns, stat.st_size, stat.st_ino))


def assert_denied(result: HookResult, code: str = "FG101") -> None:
    assert result.code == 0, result.stderr
    assert result.decision == "deny", result.stdout
    assert code in result.reason


def assert_allowed(result: HookResult) -> None:
    assert result.code == 0, result.stderr
    assert result.json == {}, result.stdout


def test_first_hook_run_writes_the_cache(repo: pathlib.Path) -> None:
    (repo / CACHE).unlink(missing_ok=True)
    assert_allowed(write(repo, "docs/x.md"))
    assert (repo / CACHE).is_file()
    cached = load_cache(repo)
    stat = (repo / CONFIG).stat()
    assert keyed_by(cached, stat)
    assert cached["config"]["write"][0]["name"] == "flockguard"


def test_cache_is_used_when_the_policy_is_unchanged(repo: pathlib.Path) -> None:
    assert_allowed(write(repo, "docs/x.md"))
    before = (repo / CACHE).stat()
    assert_denied(read(repo, ".env"), "FG201")
    after = (repo / CACHE).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_edit_takes_effect_on_the_next_run(repo: pathlib.Path) -> None:
    assert_allowed(write(repo, "docs/x.md"))
    path = repo / CONFIG
    path.write_text(path.read_text() + DOCS_CLASS.format(pattern="docs/**"))
    assert_denied(write(repo, "docs/x.md"))
    assert keyed_by(load_cache(repo), path.stat())
    # and back
    path.write_text(CONFIG_TOML)
    assert_allowed(write(repo, "docs/x.md"))


def test_same_size_edit_takes_effect_on_the_next_run(repo: pathlib.Path) -> None:
    """An in-place edit that keeps size and inode, right after the cache was built."""
    path = repo / CONFIG
    path.write_text(CONFIG_TOML + DOCS_CLASS.format(pattern="dock/**"))
    assert_allowed(write(repo, "docs/x.md"))
    before = path.stat()
    with path.open("r+") as handle:  # in place: same inode
        handle.write(CONFIG_TOML + DOCS_CLASS.format(pattern="docs/**"))
    after = path.stat()
    assert (after.st_size, after.st_ino) == (before.st_size, before.st_ino)
    assert_denied(write(repo, "docs/x.md"))


def test_same_size_editor_save_with_same_mtime_takes_effect(repo: pathlib.Path) -> None:
    """An editor's save (temp file renamed over) with the old mtime: the inode tells."""
    path = repo / CONFIG
    path.write_text(CONFIG_TOML + DOCS_CLASS.format(pattern="dock/**"))
    assert_allowed(write(repo, "docs/x.md"))
    before = path.stat()
    tmp = path.with_name("config.toml.tmp")
    tmp.write_text(CONFIG_TOML + DOCS_CLASS.format(pattern="docs/**"))
    os.utime(tmp, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(tmp, path)
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert_denied(write(repo, "docs/x.md"))


def test_same_size_in_place_edit_with_same_mtime_takes_effect(repo: pathlib.Path) -> None:
    """Same size, same inode, mtime set back (os.utime, a restore tool): still seen."""
    path = repo / CONFIG
    path.write_text(CONFIG_TOML + DOCS_CLASS.format(pattern="dock/**"))
    assert_allowed(write(repo, "docs/x.md"))
    before = path.stat()
    with path.open("r+") as handle:
        handle.write(CONFIG_TOML + DOCS_CLASS.format(pattern="docs/**"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    key = (after.st_mtime_ns, after.st_size, after.st_ino)
    assert key == (before.st_mtime_ns, before.st_size, before.st_ino)
    assert_denied(write(repo, "docs/x.md"))


def _random(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


CORRUPT: dict[str, Any] = {
    "empty": b"",
    "one byte": b"\x00",
    "random 7": _random(1, 7),
    "random 64": _random(2, 64),
    "random 4096": _random(3, 4096),
    "random 65536": _random(4, 65536),
    "text": b"not a cache\n",
    "marshal list": marshal.dumps([1, 2, 3]),
    "marshal dict without key": marshal.dumps({"config": {}}),
    "marshal huge length": b"s\xff\xff\xff\x7f",
}


@pytest.mark.parametrize("content", list(CORRUPT.values()), ids=list(CORRUPT))
def test_corrupt_cache_is_ignored_and_rebuilt(repo: pathlib.Path, content: bytes) -> None:
    assert_allowed(write(repo, "docs/x.md"))
    (repo / CACHE).write_bytes(content)
    assert_denied(read(repo, ".env"), "FG201")
    assert_allowed(write(repo, "docs/x.md"))
    cached = load_cache(repo)
    stat = (repo / CONFIG).stat()
    assert keyed_by(cached, stat)
    assert not (repo / ".flockguard" / "state" / "crash.log").exists()


def test_truncated_cache_is_ignored_and_rebuilt(repo: pathlib.Path) -> None:
    assert_allowed(write(repo, "docs/x.md"))
    data = (repo / CACHE).read_bytes()
    for cut in (1, len(data) // 2, len(data) - 1):
        (repo / CACHE).write_bytes(data[:cut])
        assert_denied(write(repo, ".flockguard/config.toml"))
        assert (repo / CACHE).read_bytes() == data
    assert not (repo / ".flockguard" / "state" / "crash.log").exists()


def test_cache_with_matching_key_and_unusable_body_is_rebuilt(repo: pathlib.Path) -> None:
    """A cache from a build with another layout but the same key must not crash the hook."""
    assert_allowed(write(repo, "docs/x.md"))
    key = load_cache(repo)["key"]
    for body in ({}, {"write": 3}, []):
        (repo / CACHE).write_bytes(marshal.dumps({"key": key, "config": body}))
        assert_denied(write(repo, ".flockguard/config.toml"))
        assert load_cache(repo)["config"]["write"]
    assert not (repo / ".flockguard" / "state" / "crash.log").exists()


def test_cache_that_is_a_directory_does_not_break_the_hook(repo: pathlib.Path) -> None:
    (repo / CACHE).unlink(missing_ok=True)
    (repo / CACHE).mkdir()
    assert_denied(read(repo, ".env"), "FG201")
    assert_allowed(write(repo, "docs/x.md"))


# ---- gitignore semantics -----------------------------------------------------------------------


def path_class(tmp_path: pathlib.Path, *patterns: str) -> config_module.PathClass:
    listed = ", ".join(f'"{p}"' for p in patterns)
    policy = config_module.load_text(
        str(tmp_path), f'[read.x]\ntier = "deny"\npatterns = [{listed}]\n'
    )
    return policy.read[0]


GITIGNORE: list[tuple[tuple[str, ...], dict[str, bool]]] = [
    (
        (".env", ".env.*", "!.env.example"),
        {
            ".env": True, ".env.local": True, "sub/.env": True, "a/b/.env.prod": True,
            ".env.example": False, "sub/.env.example": False, ".environment": False,
            "env": False, "x.env": False,
        },
    ),
    # the last matching pattern decides: a later include re-includes
    ((".env.*", "!.env.example", ".env.e*"), {".env.example": True, ".env.local": True}),
    (
        ("docs/**",),
        {
            "docs/x.md": True, "docs/a/b.md": True, "docs": False, "sub/docs/x.md": False,
            "docsx/y.md": False, "xdocs/y.md": False,
        },
    ),
    (
        ("/build",),
        {"build": True, "build/out.o": True, "src/build": False, "src/build/o": False,
         "builds": False},
    ),
    (
        ("build",),
        {"build": True, "build/out.o": True, "src/build": True, "src/build/o": True,
         "builds": False, "rebuild": False},
    ),
    (
        ("config/secret.yml",),
        {"config/secret.yml": True, "app/config/secret.yml": False, "config/secret.yml.bak": False},
    ),
    (("logs/",), {"logs/x": True, "a/logs/x": True, "logs": False}),
    (
        ("**/.ssh/**", "!**/.ssh/known_hosts"),
        {".ssh/id": True, "home/u/.ssh/id": True, "home/u/.ssh/known_hosts": False,
         "home/u/ssh/id": False},
    ),
    (("a/**/b",), {"a/b": True, "a/x/b": True, "a/x/y/b": True, "c/a/b": False}),
    (("*.pem",), {"c.pem": True, "a/b/c.pem": True, "c.pem.txt": False, "c.PEM": False}),
    (("id_rsa*", "!*.pub"), {"id_rsa": True, "x/id_rsa_old": True, "id_rsa.pub": False}),
    (("secret?.txt",), {"secret1.txt": True, "secret.txt": False, "secret12.txt": False}),
    (("[Ss]ecrets.txt",), {"secrets.txt": True, "Secrets.txt": True, "xecrets.txt": False}),
    (("backup[0-9][0-9][0-9]",), {"backup123": True, "backupabc": False}),
    (("key[_-]material",), {"key_material": True, "key-material": True, "keymaterial": False}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("patterns", "expected"), GITIGNORE, ids=[" ".join(p) for p, _ in GITIGNORE]
)
def test_gitignore_semantics(
    tmp_path: pathlib.Path, patterns: tuple[str, ...], expected: dict[str, bool]
) -> None:
    pc = path_class(tmp_path, *patterns)
    got = {path: bool(pc.match(path)) for path in expected}
    assert got == expected


def test_directory_pattern_protects_the_directory_itself(tmp_path: pathlib.Path) -> None:
    """`docs/**` does not match `docs`, but the guards judge a directory also as `docs/`."""
    (tmp_path / "docs").mkdir()
    policy = config_module.load_text(
        str(tmp_path), '[write.docs]\ntier = "block"\npatterns = ["docs/**"]\n'
    )
    root = str(tmp_path)
    assert strictest(resolve("docs", root, root), policy.write, WRITE_TIERS) is not None
    assert strictest(resolve("docsfile", root, root), policy.write, WRITE_TIERS) is None


def test_strictest_class_wins(tmp_path: pathlib.Path) -> None:
    policy = config_module.load_text(
        str(tmp_path),
        '[read.soft]\ntier = "ask"\npatterns = ["*.key"]\n'
        '[read.hard]\ntier = "deny"\npatterns = ["prod.key"]\n',
    )
    root = str(tmp_path)
    hit = strictest(resolve("prod.key", root, root), policy.read, READ_TIERS)
    assert hit is not None
    assert (hit[0].name, hit[1]) == ("hard", "prod.key")
    hit = strictest(resolve("dev.key", root, root), policy.read, READ_TIERS)
    assert hit is not None
    assert (hit[0].name, hit[1]) == ("soft", "*.key")


BRACKETS = [
    (("*.[pP][eE][mM]",), {"cert.pem": True, "cert.PEM": True, "cert.txt": False}),
    (("v[0-9][0-9][0-9]",), {"v123": True, "vabc": False}),
    (("[xyz]",), {"x": True, "a/y": True, "w": False}),
    (("[!a]b",), {"xb": True, "ab": False}),
]


@pytest.mark.parametrize(("patterns", "expected"), BRACKETS, ids=[" ".join(p) for p, _ in BRACKETS])
def test_gitignore_character_classes(
    tmp_path: pathlib.Path, patterns: tuple[str, ...], expected: dict[str, bool]
) -> None:
    """The literal prefilter must not take a bracket expression's characters as literal text."""
    pc = path_class(tmp_path, *patterns)
    assert {path: bool(pc.match(path)) for path in expected} == expected


def test_gitignore_trailing_space_is_ignored(tmp_path: pathlib.Path) -> None:
    """gitignore drops unescaped trailing spaces; the literal prefilter must too."""
    pc = path_class(tmp_path, ".env ")
    assert pc.match(".env")
    assert pc.match("sub/.env")


def test_literal_hint_never_hides_a_match_of_the_default_policy(tmp_path: pathlib.Path) -> None:
    """For every default pattern, the prefilter agrees with the pattern's own regex."""
    policy = config_module.load_text(str(tmp_path), CONFIG_TOML)
    paths = [
        ".env", "a/.env.local", ".env.example", "k.pem", "a/b.key", "x.p12", "y.pfx", "id_rsa",
        "id_rsa.pub", "id_ed25519", "home/u/.ssh/config", "home/u/.ssh/id",
        "home/u/.aws/credentials",
        ".netrc", "t.tfstate", "t.tfstate.backup", ".git-credentials", ".pgpass", ".git/config",
        ".claude/settings.json", ".claude/settings.local.json", ".github/workflows/ci.yml",
        ".flockguard/config.toml", "uv.lock", "src/main.py", "tmp/x", "dev/null",
    ]  # fmt: skip
    for pc in (*policy.write, *policy.read, policy.outside_allow):
        for source, regex, include, _hint in pc.patterns:
            single = config_module.PathClass("one", pc.tier, ((source, regex, include, _hint),))
            for path in paths:
                by_regex = bool(re.match(regex, path)) and include
                assert bool(single.match(path)) == by_regex, (source, path)


def test_hook_gitignore_semantics_end_to_end(repo: pathlib.Path) -> None:
    path = repo / CONFIG
    path.write_text(
        path.read_text()
        + '\n[write.anchored]\ntier = "block"\npatterns = ["/build"]\n'
        + '\n[write.anywhere]\ntier = "warn"\npatterns = ["scratch"]\n'
        + '\n[write.middle]\ntier = "block"\npatterns = ["config/secret.yml"]\n'
        + '\n[write.tree]\ntier = "block"\npatterns = ["vendor/**", "!vendor/README.md"]\n'
    )
    assert_denied(write(repo, "build"))
    assert_denied(write(repo, "build/out.o"))
    assert_allowed(write(repo, "src/build"))
    warned = write(repo, "src/scratch/notes.md")
    assert warned.decision is None
    assert "FG103" in warned.json["hookSpecificOutput"]["additionalContext"]
    assert_denied(write(repo, "config/secret.yml"))
    assert_allowed(write(repo, "app/config/secret.yml"))
    assert_denied(write(repo, "vendor/lib/x.py"))
    assert_allowed(write(repo, "vendor/README.md"))
    assert_denied(read(repo, "sub/.env.local"), "FG201")
    assert_allowed(read(repo, "sub/.env.example"))
