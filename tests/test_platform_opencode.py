"""OpenCode end to end: the installed hook with the shim plugin's payloads, and the plugin itself.

Hook runs are the real ``flockguard-hook opencode`` with a payload on stdin, in a fresh repository
on which ``flockguard init`` has run. The plugin tests load the installed
``.opencode/plugins/flockguard.js`` into node and call its ``tool.execute.before`` as OpenCode
would.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
from typing import Any

import pytest

from conftest import HookResult, audit, git_init, installed, run_fg, run_hook
from flockguard.errors import FlockguardError
from flockguard.install import opencode as installer

SESSION = "ses_4f2a9c1d7e6b"
AGENT = f"opencode:{SESSION}"  # the whole session id, never a prefix
APPROVE = re.compile(r"flockguard approve ([0-9a-f]{8})")
NEEDLES = ("`.flockguard/config.toml`", "FG101 write-blocked", "docs/rules/FG101.md")
NODE = shutil.which("node")


def tool(repo: pathlib.Path, name: str, event: str = "tool.execute.before", **args: Any) -> Any:
    return {
        "event": event,
        "tool": name,
        "sessionID": SESSION,
        "callID": "call_1",
        "cwd": str(repo),
        "args": args,
    }


def hook(repo: pathlib.Path, document: Any) -> HookResult:
    result = run_hook(repo, document, platform="opencode")
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def answer(result: HookResult) -> dict[str, Any]:
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1, result.stdout
    document = result.json
    assert set(document) == {"block", "message"}, document
    assert isinstance(document["block"], bool) and isinstance(document["message"], str)
    return document


def refused(result: HookResult, *needles: str) -> str:
    assert result.code == 0, (result.code, result.stderr)
    document = answer(result)
    assert document["block"] is True
    reason: str = document["message"]
    assert reason.strip()
    for needle in needles:
        assert needle in reason, f"{needle!r} not in {reason!r}"
    return reason


def allowed(result: HookResult) -> str:
    assert result.code == 0, result.stderr
    document = answer(result)
    assert document["block"] is False
    message: str = document["message"]
    return message


# ---- the hook ---------------------------------------------------------------------------------

PATCH = "*** Begin Patch\n*** Update File: {path}\n@@\n-a\n+b\n*** End Patch\n"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("write", {"filePath": "{repo}/.flockguard/config.toml", "content": "x"}),
        ("edit", {"filePath": "{repo}/.flockguard/config.toml", "oldString": "a",
                  "newString": "b"}),
        ("edit", {"filePath": ".flockguard/config.toml", "oldString": "a", "newString": "b"}),
        ("apply_patch", {"patchText": PATCH.format(path=".flockguard/config.toml")}),
        ("patch", {"patchText": PATCH.format(path="{repo}/.flockguard/config.toml")}),
    ],
)  # fmt: skip
def test_write_to_policy_is_refused(name: str, args: dict[str, str], repo: pathlib.Path) -> None:
    args = {k: v.replace("{repo}", str(repo)) for k, v in args.items()}
    refused(hook(repo, tool(repo, name, **args)), *NEEDLES)


def test_unprotected_write_passes_silently(repo: pathlib.Path) -> None:
    for name in ("write", "edit"):
        path = str(repo / "src" / "app.py")
        assert allowed(hook(repo, tool(repo, name, filePath=path, content="x"))) == ""
    assert allowed(hook(repo, tool(repo, "read", filePath="src/app.py"))) == ""
    assert allowed(hook(repo, tool(repo, "bash", command="git status"))) == ""
    assert allowed(hook(repo, tool(repo, "grep", pattern="TODO", include="*.py"))) == ""
    assert allowed(hook(repo, tool(repo, "task", prompt="look around"))) == ""


def test_env_write_needs_an_approval_id_then_passes_once(repo: pathlib.Path) -> None:
    document = tool(repo, "write", filePath=str(repo / ".env"), content="A=1\n")
    reason = refused(hook(repo, document), "FG102", "`.env`")
    match = APPROVE.search(reason)
    assert match, reason
    approval = match.group(1)
    listed = run_fg("approve", "--list", cwd=repo).stdout
    assert approval in listed and AGENT in listed
    assert approval in refused(hook(repo, document))  # the same id until approved
    assert json.loads(run_fg("approve", approval, cwd=repo).stdout) == {"approved": approval}
    allowed(hook(repo, document))
    refused(hook(repo, document), "FG102", approval)  # once only


@pytest.mark.parametrize("name", ["bash", "shell"])
def test_shell_reading_env_is_refused(name: str, repo: pathlib.Path) -> None:
    refused(hook(repo, tool(repo, name, command="cat .env")), "`.env`", "FG201 read-denied")


def test_shell_workdir_is_its_cwd(repo: pathlib.Path) -> None:
    (repo / "sub").mkdir()
    document = tool(repo, "bash", command="cat ../.env", workdir=str(repo / "sub"))
    refused(hook(repo, document), "`.env`", "FG201")


def test_read_of_secret_is_refused(repo: pathlib.Path) -> None:
    refused(hook(repo, tool(repo, "read", filePath=str(repo / ".env"))), "`.env`", "FG201")


def test_lockfile_edit_passes_with_a_warning(repo: pathlib.Path) -> None:
    path = str(repo / "package-lock.json")
    message = allowed(hook(repo, tool(repo, "edit", filePath=path, oldString="a", newString="b")))
    assert "FG103 write-audited" in message and "`package-lock.json`" in message


def test_session_events(repo: pathlib.Path) -> None:
    start = {"event": "session.created", "sessionID": SESSION, "cwd": str(repo)}
    assert AGENT in allowed(hook(repo, start))
    end = {"event": "session.deleted", "sessionID": SESSION, "cwd": str(repo)}
    allowed(hook(repo, end))
    other = {"event": "session.idle", "sessionID": SESSION, "cwd": str(repo)}
    assert allowed(hook(repo, other)) == ""
    kinds = [r["kind"] for r in audit(repo)[-3:]]
    assert kinds == ["session-start", "session-end", "other"]


def test_tool_after_is_recorded_not_judged(repo: pathlib.Path) -> None:
    before = len(audit(repo))
    path = str(repo / ".flockguard" / "config.toml")
    allowed(hook(repo, tool(repo, "write", event="tool.execute.after", filePath=path)))
    [record] = audit(repo)[before:]
    assert record["kind"] == "post" and record["outcome"] == "allow"


BAD = [
    b"",
    b"{not json",
    b"[1]",
    json.dumps({"tool": "write", "sessionID": "s", "args": {"filePath": "x"}}).encode(),
    json.dumps({"event": "tool.execute.before", "sessionID": "s", "args": {}}).encode(),
    json.dumps({"event": "tool.execute.before", "tool": "write", "args": {}}).encode(),
    json.dumps({"event": "tool.execute.before", "tool": "bash", "args": "ls"}).encode(),
    json.dumps(
        {"event": "tool.execute.before", "tool": "apply_patch", "args": {"patchText": "hi"}}
    ).encode(),
]


@pytest.mark.parametrize("data", BAD)
def test_bad_input_is_refused_with_exit_2(data: bytes, repo: pathlib.Path) -> None:
    before = len(audit(repo))
    result = hook(repo, data)
    assert result.code == 2
    document = answer(result)
    assert document["block"] is True and "FG902" in document["message"]
    [record] = audit(repo)[before:]
    assert record["outcome"] == "deny"
    assert [f["code"] for f in record["findings"]] == ["FG902"]


def test_audit_names_the_agent(repo: pathlib.Path) -> None:
    before = len(audit(repo))
    hook(repo, tool(repo, "write", filePath=str(repo / ".flockguard" / "config.toml")))
    hook(repo, tool(repo, "bash", command="cat .env"))
    records = audit(repo)[before:]
    assert len(records) == 2
    for record in records:
        assert record["platform"] == "opencode"
        assert record["agent"] == AGENT
        assert record["session"] == SESSION
        assert record["cwd"] == str(repo)
        assert record["outcome"] == "deny"
    assert [r["kind"] for r in records] == ["write", "shell"]
    assert records[0]["paths"] == {"write": [".flockguard/config.toml"]}


# ---- the installer ----------------------------------------------------------------------------


@pytest.fixture
def bare(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "work"
    root.mkdir()
    git_init(root)
    return root


def test_install_is_idempotent_and_uninstall_removes_exactly_ours(bare: pathlib.Path) -> None:
    hook_bin = installed("flockguard-hook")
    plugin = bare / ".opencode" / "plugins" / "flockguard.js"
    assert installer.settings_path(str(bare)) == str(plugin)
    assert installer.install(str(bare), hook_bin) is True
    text = plugin.read_text()
    assert text.startswith("// flockguard:managed")
    assert json.dumps(hook_bin) in text and "spawnSync" in text
    assert installer.install(str(bare), hook_bin) is False
    assert plugin.read_text() == text
    assert installer.uninstall(str(bare)) is True
    assert not (bare / ".opencode").exists()
    assert installer.uninstall(str(bare)) is False


def test_uninstall_keeps_a_folder_with_other_content(bare: pathlib.Path) -> None:
    other = bare / ".opencode" / "plugins" / "mine.ts"
    other.parent.mkdir(parents=True)
    other.write_text("export const Mine = async () => ({})\n")
    installer.install(str(bare), installed("flockguard-hook"))
    assert installer.uninstall(str(bare)) is True
    assert other.read_text().startswith("export const Mine")
    assert sorted(p.name for p in other.parent.iterdir()) == ["mine.ts"]


def test_a_persons_plugin_of_that_name_is_left_alone(bare: pathlib.Path) -> None:
    plugin = bare / ".opencode" / "plugins" / "flockguard.js"
    plugin.parent.mkdir(parents=True)
    foreign = "export const Flockguard = async () => ({})\n"
    plugin.write_text(foreign)
    with pytest.raises(FlockguardError) as caught:
        installer.install(str(bare), installed("flockguard-hook"))
    assert "not flockguard's" in str(caught.value.args) or "not flockguard's" in repr(caught.value)
    assert installer.uninstall(str(bare)) is False
    assert plugin.read_text() == foreign


def test_init_wires_opencode(bare: pathlib.Path) -> None:
    proc = run_fg("init", "--agents", "opencode", cwd=bare, check=False)
    assert (bare / ".opencode" / "plugins" / "flockguard.js").exists()
    assert proc.returncode == 0, proc.stderr


# ---- the plugin, run by node ------------------------------------------------------------------

DRIVER = """\
const [plugin, directory, tool, args] = process.argv.slice(2)
const mod = await import(new URL("file://" + plugin).href)
const hooks = await mod.FlockguardPlugin({ directory, worktree: directory })
try {
  await hooks["tool.execute.before"](
    { tool, sessionID: "s1", callID: "c1" }, { args: JSON.parse(args) })
  console.log(JSON.stringify({ threw: false }))
} catch (error) {
  console.log(JSON.stringify({ threw: true, message: String(error.message) }))
}
"""


def drive(tmp_path: pathlib.Path, plugin: pathlib.Path, repo: pathlib.Path, name: str,
          **args: Any) -> dict[str, Any]:  # fmt: skip
    if NODE is None:
        pytest.skip("node is not installed: the OpenCode plugin cannot be loaded")
    driver = tmp_path / "driver.mjs"
    driver.write_text(DRIVER)
    proc = subprocess.run(
        [NODE, str(driver), str(plugin), str(repo), name, json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    document: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return document


def test_plugin_blocks_by_throwing(repo: pathlib.Path, tmp_path: pathlib.Path) -> None:
    installer.install(str(repo), installed("flockguard-hook"))
    plugin = pathlib.Path(installer.settings_path(str(repo)))
    policy = str(repo / ".flockguard" / "config.toml")
    result = drive(tmp_path, plugin, repo, "write", filePath=policy, content="x")
    assert result["threw"] is True
    assert "FG101" in result["message"] and "`.flockguard/config.toml`" in result["message"]
    assert drive(tmp_path, plugin, repo, "write", filePath=str(repo / "src" / "app.py")) == {
        "threw": False
    }
    result = drive(tmp_path, plugin, repo, "bash", command="cat .env")
    assert result["threw"] is True and "FG201" in result["message"]
    assert audit(repo)[-1]["agent"] == "opencode:s1"


def test_plugin_fails_closed(repo: pathlib.Path, tmp_path: pathlib.Path) -> None:
    """A hook that cannot run, or answers garbage, blocks the call."""
    missing = tmp_path / "no-such-flockguard-hook"
    installer.install(str(repo), str(missing))
    plugin = pathlib.Path(installer.settings_path(str(repo)))
    result = drive(tmp_path, plugin, repo, "write", filePath=str(repo / "src" / "app.py"))
    assert result["threw"] is True and "cannot run" in result["message"]
    garbage = tmp_path / "garbage-hook"
    garbage.write_text("#!/bin/sh\ncat >/dev/null\necho hello\n")
    garbage.chmod(0o755)
    installer.uninstall(str(repo))
    installer.install(str(repo), str(garbage))
    result = drive(tmp_path, plugin, repo, "write", filePath=str(repo / "src" / "app.py"))
    assert result["threw"] is True and "no usable answer" in result["message"]
