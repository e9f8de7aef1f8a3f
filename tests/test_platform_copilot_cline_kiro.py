"""GitHub Copilot, Cline and Kiro end to end: the installed hook, exact answers, installers.

Every hook run is the real ``flockguard-hook <platform>`` with a fixture payload on stdin, in a
fresh repository on which ``flockguard init`` has run, under the default policy. Installer tests
run the configured command (or script) exactly as the agent would.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
from typing import Any

import pytest

from conftest import PAYLOADS, HookResult, audit, git_init, run_fg, run_hook

PLATFORMS = ("copilot", "cline", "kiro")
FIXTURES = [(p, f.stem) for p in PLATFORMS for f in sorted((PAYLOADS / p).glob("*.json"))]
# the fixtures' whole session ids: the agent id carries all of it, never a prefix
SESSIONS = {
    "copilot": "b8c53b29-32f8-4f6d-a06b-81fa66c68072",
    "cline": "7c1d9e42-5b3a-4f60-8e21-9a0b1c2d3e4f",
    "kiro": "5e8a1f3c-2d4b-4a6e-9c7d-0f1e2a3b4c5d",
}
# platform -> (write fixture, read fixture, shell fixture, the tool-args key of each)
WRITE = {"copilot": "pre-create", "cline": "pre-write-to-file", "kiro": "pre-fs-write"}
SHELL = {"copilot": "pre-bash", "cline": "pre-execute-command", "kiro": "pre-execute-bash"}
EDIT = {"copilot": "pre-edit", "cline": "pre-editor", "kiro": "pre-fs-write-str-replace"}
APPROVE = re.compile(r"flockguard approve ([0-9a-f]{8})")


def fixture(platform: str, name: str, repo: pathlib.Path, **args: Any) -> dict[str, Any]:
    """Fixture payload ``name`` for ``repo``; keyword arguments override its tool arguments."""
    text = (PAYLOADS / platform / f"{name}.json").read_text()
    document: dict[str, Any] = json.loads(text.replace("{repo}", str(repo)))
    if not args:
        return document
    if platform == "copilot":
        document["toolArgs"] = json.dumps({**json.loads(document["toolArgs"]), **args})
    elif platform == "cline":
        if "tool_call" in document:
            document["tool_call"]["input"].update(args)
        for key in ("preToolUse", "postToolUse"):
            if key in document:  # the legacy dialect sends every value as a string
                strings = {k: v if isinstance(v, str) else json.dumps(v) for k, v in args.items()}
                document[key]["parameters"].update(strings)
    else:
        document["tool_input"].update(args)
    return document


def hook(repo: pathlib.Path, platform: str, document: Any) -> HookResult:
    result = run_hook(repo, document, platform=platform)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def copilot_answer(result: HookResult) -> dict[str, Any]:
    """The one JSON object Copilot parses: progress lines stripped, the rest one document."""
    kept = []
    for line in result.stdout.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            item = None
        if not (isinstance(item, dict) and item.get("type") == "progress"):
            kept.append(line)
    document = json.loads("\n".join(kept))
    assert isinstance(document, dict)
    return document


def progress(result: HookResult) -> list[str]:
    return [
        json.loads(line)["message"]
        for line in result.stdout.splitlines()
        if line.startswith('{"type": "progress"')
    ]


def refused(platform: str, result: HookResult, *needles: str) -> str:
    """Assert the platform's exact refusal; returns the reason the model sees."""
    if platform == "copilot":
        assert result.code == 0, result.stderr
        document = copilot_answer(result)
        assert set(document) == {"permissionDecision", "permissionDecisionReason"}, document
        assert document["permissionDecision"] == "deny"
        reason = document["permissionDecisionReason"]
    elif platform == "cline":
        assert result.code == 0, result.stderr
        document = result.json
        assert set(document) == {"cancel", "errorMessage"}, document
        assert document["cancel"] is True
        reason = document["errorMessage"]
    else:
        assert result.code == 2, (result.code, result.stdout)
        assert result.stdout == ""
        reason = result.stderr
    assert isinstance(reason, str) and reason.strip()
    for needle in needles:
        assert needle in reason, f"{needle!r} not in {reason!r}"
    return reason


def allowed(platform: str, result: HookResult) -> None:
    """Assert the platform's exact "no objection" answer."""
    assert result.code == 0, result.stderr
    if platform == "copilot":
        assert result.stdout == "{}\n"  # never "allow": Copilot's own permission flow decides
    elif platform == "cline":
        assert result.json == {"cancel": False}
    else:
        assert result.stdout == "" and result.stderr == ""


# ---- every fixture ----------------------------------------------------------------------------


def test_fixture_sets() -> None:
    names = {p: {n for q, n in FIXTURES if q == p} for p in PLATFORMS}
    assert {
        "pre-bash", "pre-view", "pre-create", "pre-edit", "pre-apply-patch", "post-edit",
        "user-prompt-submitted", "session-start", "session-end",
    } <= names["copilot"]  # fmt: skip
    assert {
        "pre-read-file", "pre-read-files", "pre-editor", "pre-write-to-file",
        "pre-run-commands", "pre-execute-command", "task-start",
    } <= names["cline"]  # fmt: skip
    assert {"pre-execute-bash", "pre-fs-read", "pre-fs-write"} <= names["kiro"]


@pytest.mark.parametrize(("platform", "name"), FIXTURES)
def test_every_fixture_gets_a_valid_answer(platform: str, name: str, repo: pathlib.Path) -> None:
    result = hook(repo, platform, fixture(platform, name, repo))
    assert result.code == 0, result.stderr
    if platform == "copilot":
        document = copilot_answer(result)
        assert document.get("permissionDecision") is None  # nothing here is refused or asked
    elif platform == "cline":
        assert result.json["cancel"] is False
    else:
        assert result.stderr == ""


@pytest.mark.parametrize(("platform", "name"), [f for f in FIXTURES if f[1].startswith("pre-")])
def test_unprotected_tool_use_passes(platform: str, name: str, repo: pathlib.Path) -> None:
    allowed(platform, hook(repo, platform, fixture(platform, name, repo)))


# ---- deny -------------------------------------------------------------------------------------

NEEDLES = ("`.flockguard/config.toml`", "FG101 write-blocked", "docs/rules/FG101.md")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_write_to_policy_is_refused(platform: str, repo: pathlib.Path) -> None:
    path = str(repo / ".flockguard" / "config.toml")
    refused(platform, hook(repo, platform, fixture(platform, WRITE[platform], repo, path=path)))
    refused(platform, hook(repo, platform, fixture(platform, EDIT[platform], repo, path=path)))


@pytest.mark.parametrize(
    ("platform", "name", "args"),
    [
        ("copilot", "pre-str-replace-editor", {"path": "{repo}/.flockguard/config.toml"}),
        ("copilot", "pre-edit", {"path": ".flockguard/config.toml"}),  # relative to cwd
        ("cline", "pre-write-to-file", {"path": ".flockguard/config.toml"}),  # workspace root
        ("cline", "pre-replace-in-file", {"path": ".flockguard/config.toml"}),
        ("cline", "pre-apply-patch", {"input": "*** Begin Patch\n*** Update File: "
                                      ".flockguard/config.toml\n@@\n-a\n+b\n*** End Patch\n"}),
        ("kiro", "pre-fs-write", {"path": "{repo}/.flockguard/config.toml"}),
    ],
)  # fmt: skip
def test_every_write_tool_is_guarded(
    platform: str, name: str, args: dict[str, str], repo: pathlib.Path
) -> None:
    args = {k: v.replace("{repo}", str(repo)) for k, v in args.items()}
    refused(platform, hook(repo, platform, fixture(platform, name, repo, **args)), *NEEDLES)


def test_copilot_apply_patch_is_guarded(repo: pathlib.Path) -> None:
    document = fixture("copilot", "pre-apply-patch", repo)
    document["toolArgs"] = document["toolArgs"].replace("src/app.py", ".flockguard/config.toml")
    refused("copilot", hook(repo, "copilot", document), *NEEDLES)
    # a unified diff, and toolArgs as an object (some builds)
    diff = "--- a/.flockguard/config.toml\n+++ b/.flockguard/config.toml\n@@ -1 +1 @@\n-a\n+b\n"
    document["toolArgs"] = {"input": diff}
    refused("copilot", hook(repo, "copilot", document), *NEEDLES)


def test_copilot_tool_args_object_is_read(repo: pathlib.Path) -> None:
    document = fixture("copilot", "pre-create", repo)
    document["toolArgs"] = {"path": str(repo / ".flockguard" / "config.toml"), "file_text": "x"}
    refused("copilot", hook(repo, "copilot", document), *NEEDLES)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_read_of_secret_is_refused(platform: str, repo: pathlib.Path) -> None:
    if platform == "copilot":
        document = fixture(platform, "pre-view", repo, path=str(repo / ".env"))
    elif platform == "cline":
        document = fixture(platform, "pre-read-files", repo, files=[{"path": ".env"}])
    else:
        document = fixture(platform, "pre-fs-read", repo)
        document["tool_input"]["operations"][0]["path"] = str(repo / ".env")
    refused(platform, hook(repo, platform, document), "`.env`", "FG201 read-denied")


# ---- shell ------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_shell_reading_env_is_refused(platform: str, repo: pathlib.Path) -> None:
    document = fixture(platform, SHELL[platform], repo, command="cat .env")
    refused(platform, hook(repo, platform, document), "`.env`", "FG201 read-denied")


def test_cline_run_commands_checks_every_command(repo: pathlib.Path) -> None:
    for name in ("pre-run-commands", "pre-sdk-run-commands"):
        document = fixture("cline", name, repo, commands=["git status", "cat .env"])
        refused("cline", hook(repo, "cline", document), "`.env`", "FG201")


# ---- checkpoint -------------------------------------------------------------------------------


def test_copilot_asks_a_person_for_env_write(repo: pathlib.Path) -> None:
    result = hook(repo, "copilot", fixture("copilot", "pre-create", repo, path=str(repo / ".env")))
    assert result.code == 0, result.stderr
    document = copilot_answer(result)
    assert set(document) == {"permissionDecision", "permissionDecisionReason"}
    assert document["permissionDecision"] == "ask"
    assert "FG102 write-needs-approval" in document["permissionDecisionReason"]
    assert "flockguard approve" not in document["permissionDecisionReason"]


@pytest.mark.parametrize("platform", ["cline", "kiro"])
def test_env_write_needs_an_approval_id_then_passes_once(platform: str, repo: pathlib.Path) -> None:
    document = fixture(platform, WRITE[platform], repo, path=str(repo / ".env"))
    reason = refused(platform, hook(repo, platform, document), "FG102", "`.env`")
    match = APPROVE.search(reason)
    assert match, reason
    approval = match.group(1)
    listed = run_fg("approve", "--list", cwd=repo).stdout
    assert approval in listed and f"{platform}:{SESSIONS[platform]}" in listed
    # the same refusal again before approval: the same id
    assert approval in refused(platform, hook(repo, platform, document))
    assert json.loads(run_fg("approve", approval, cwd=repo).stdout) == {"approved": approval}
    retry = hook(repo, platform, document)
    assert retry.code == 0, retry.stderr
    if platform == "cline":
        assert retry.json["cancel"] is False
    refused(platform, hook(repo, platform, document), "FG102", approval)  # once only


# ---- warn -------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_lockfile_edit_passes_with_a_warning(platform: str, repo: pathlib.Path) -> None:
    path = "package-lock.json" if platform == "cline" else str(repo / "package-lock.json")
    result = hook(repo, platform, fixture(platform, EDIT[platform], repo, path=path))
    assert result.code == 0, result.stderr
    if platform == "copilot":
        assert copilot_answer(result) == {}
        [text] = progress(result)
    elif platform == "cline":
        document = result.json
        assert set(document) == {"cancel", "contextModification"} and not document["cancel"]
        text = document["contextModification"]
    else:
        assert result.stdout == ""
        text = result.stderr
    assert "FG103 write-audited" in text and "`package-lock.json`" in text


# ---- other events -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "name"),
    [("copilot", "session-start"), ("cline", "task-start"), ("kiro", "agent-spawn")],
)
def test_session_start_briefs_the_agent(platform: str, name: str, repo: pathlib.Path) -> None:
    result = hook(repo, platform, fixture(platform, name, repo))
    assert result.code == 0, result.stderr
    if platform == "copilot":
        text = result.json["additionalContext"]
    elif platform == "cline":
        assert result.json["cancel"] is False
        text = result.json["contextModification"]
    else:
        text = result.stdout
    assert f"{platform}:{SESSIONS[platform]}" in text and "flockguard" in text


@pytest.mark.parametrize(
    ("platform", "name"),
    [("copilot", "post-edit"), ("cline", "post-tool-use"), ("kiro", "post-fs-write")],
)
def test_post_tool_use_is_recorded_not_judged(platform: str, name: str, repo: pathlib.Path) -> None:
    before = len(audit(repo))
    path = str(repo / ".flockguard" / "config.toml")
    result = hook(repo, platform, fixture(platform, name, repo, path=path))
    assert result.code == 0, result.stderr
    [record] = audit(repo)[before:]
    assert record["kind"] == "post" and record["outcome"] == "allow"


def test_copilot_event_comes_from_the_handler_env(repo: pathlib.Path) -> None:
    """A payload whose shape says nothing: the installer's env names the event."""
    document = {"sessionId": "s" * 12, "timestamp": 1, "cwd": str(repo)}
    result = run_hook(repo, document, platform="copilot", env={"FLOCKGUARD_COPILOT_EVENT": "x"})
    assert result.code == 0 and "Traceback" not in result.stderr
    env = {"FLOCKGUARD_COPILOT_EVENT": "preToolUse"}
    result = run_hook(repo, document, platform="copilot", env=env)
    assert result.code == 2  # unreadable: exit 2 denies whatever the JSON says
    answer = copilot_answer(result)
    assert answer["permissionDecision"] == "deny"
    assert "no 'toolName'" in answer["permissionDecisionReason"]


# ---- bad input --------------------------------------------------------------------------------

BAD = {
    "copilot": [
        b"",
        b"{not json",
        b"[1]",
        json.dumps({"sessionId": "s", "cwd": "/", "toolName": "create", "toolArgs": "{"}).encode(),
        json.dumps({"sessionId": "s", "cwd": "/", "toolName": "edit", "toolArgs": "{}"}).encode(),
        json.dumps({"sessionId": "s", "cwd": "/"}).encode(),
    ],
    "cline": [
        b"",
        b"{not json",
        json.dumps({"taskId": "t", "workspaceRoots": ["/"]}).encode(),
        json.dumps({"hookName": "PreToolUse", "taskId": "t"}).encode(),
        json.dumps(
            {"hookName": "PreToolUse", "preToolUse": {"toolName": "write_to_file"}}
        ).encode(),
    ],
    "kiro": [
        b"",
        b"{not json",
        json.dumps({"cwd": "/", "tool_name": "fs_write"}).encode(),
        json.dumps({"hook_event_name": "preToolUse", "cwd": "/"}).encode(),
        json.dumps(
            {"hook_event_name": "preToolUse", "tool_name": "fs_write", "tool_input": {}}
        ).encode(),
    ],
}


@pytest.mark.parametrize(("platform", "data"), [(p, d) for p, items in BAD.items() for d in items])
def test_bad_input_is_refused_without_a_traceback(
    platform: str, data: bytes, repo: pathlib.Path
) -> None:
    before = len(audit(repo))
    result = hook(repo, platform, data)
    if platform == "copilot":
        # exit 2 denies a tool call whatever the JSON says; the JSON carries the reason
        assert result.code == 2 and result.stderr.strip()
        assert copilot_answer(result)["permissionDecision"] == "deny"
        assert "FG902" in copilot_answer(result)["permissionDecisionReason"]
    else:
        refused(platform, result, "FG902")
    [record] = audit(repo)[before:]
    assert record["outcome"] == "deny"
    assert [f["code"] for f in record["findings"]] == ["FG902"]


# ---- audit ------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_audit_names_the_agent(platform: str, repo: pathlib.Path) -> None:
    before = len(audit(repo))
    path = str(repo / ".flockguard" / "config.toml")
    hook(repo, platform, fixture(platform, WRITE[platform], repo, path=path))
    hook(repo, platform, fixture(platform, SHELL[platform], repo, command="cat .env"))
    records = audit(repo)[before:]
    assert len(records) == 2
    for record in records:
        assert record["platform"] == platform
        assert record["agent"] == f"{platform}:{SESSIONS[platform]}"
        assert record["session"] == SESSIONS[platform]
        assert record["cwd"] == str(repo)
        assert record["outcome"] == "deny"
    assert [r["kind"] for r in records] == ["write", "shell"]
    assert records[0]["paths"] == {"write": [".flockguard/config.toml"]}


# ---- installers -------------------------------------------------------------------------------


@pytest.fixture
def bare(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "work"
    root.mkdir()
    git_init(root)
    return root


def init(root: pathlib.Path, platform: str) -> str:
    return run_fg("init", "--agents", platform, cwd=root).stdout


def snapshot(root: pathlib.Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {".git", ".flockguard"} & set(p.parts) and p.name != ".gitignore"
    }


def as_copilot(root: pathlib.Path, event: str, document: dict[str, Any]) -> HookResult:
    """Run our handler for ``event`` as Copilot does: bash, handler env, payload on stdin."""
    config = json.loads((root / ".github" / "hooks" / "flockguard.json").read_text())
    assert config["version"] == 1
    [handler] = [h for h in config["hooks"][event] if "flockguard:managed" in h["bash"]]
    assert handler["type"] == "command" and handler["timeoutSec"] > 0
    assert "matcher" not in handler
    proc = subprocess.run(
        ["bash", "-c", handler["bash"]],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, **handler["env"]},
        check=False,
    )
    return HookResult(proc)


def as_kiro(root: pathlib.Path, trigger: str, document: dict[str, Any]) -> HookResult:
    config = json.loads((root / ".kiro" / "hooks" / "flockguard.json").read_text())
    assert config["version"] == "v1"
    [entry] = [e for e in config["hooks"] if e["trigger"] == trigger]
    assert entry["enabled"] is True and entry["action"]["type"] == "command"
    if trigger == "PreToolUse":
        assert re.fullmatch(entry["matcher"], "fs_write")
    proc = subprocess.run(
        ["bash", "-c", entry["action"]["command"]],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    return HookResult(proc)


def as_cline(root: pathlib.Path, name: str, document: dict[str, Any]) -> HookResult:
    script = root / ".clinerules" / "hooks" / name
    assert os.access(script, os.X_OK)
    proc = subprocess.run(
        [str(script)],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    return HookResult(proc)


def test_copilot_install_guards_and_round_trips(bare: pathlib.Path) -> None:
    config = bare / ".github" / "hooks" / "flockguard.json"
    assert ".github/hooks/flockguard.json" in init(bare, "copilot")
    events = json.loads(config.read_text())["hooks"]
    assert sorted(events) == sorted(
        ["preToolUse", "postToolUse", "userPromptSubmitted", "sessionStart", "sessionEnd"]
    )
    path = str(bare / ".flockguard" / "config.toml")
    refused("copilot", as_copilot(bare, "preToolUse", fixture("copilot", "pre-create", bare,
                                                                path=path)), *NEEDLES)  # fmt: skip
    # the env names the event even for a payload with no tell-tale field
    start = {"sessionId": "abcdefgh-1", "timestamp": 1, "cwd": str(bare)}
    context = as_copilot(bare, "sessionStart", start).json["additionalContext"]
    assert "you are agent `copilot:abcdefgh-1`" in context
    first = config.read_bytes()
    assert "unchanged" in init(bare, "copilot")
    assert config.read_bytes() == first
    run_fg("uninstall", "--agents", "copilot", cwd=bare)
    assert not (bare / ".github").exists()


def test_copilot_uninstall_gives_back_a_foreign_file(bare: pathlib.Path) -> None:
    config = bare / ".github" / "hooks" / "flockguard.json"
    config.parent.mkdir(parents=True)
    foreign = (
        '{\n    "version": 1,\n'
        '    "hooks": {"preToolUse": [{"type": "command", "bash": "lint"}]}\n}'
    )
    config.write_text(foreign)
    init(bare, "copilot")
    pre = json.loads(config.read_text())["hooks"]["preToolUse"]
    assert pre[0] == {"type": "command", "bash": "lint"} and len(pre) == 2
    run_fg("uninstall", "--agents", "copilot", cwd=bare)
    assert config.read_bytes() == foreign.encode()


def test_kiro_install_guards_and_round_trips(bare: pathlib.Path) -> None:
    config = bare / ".kiro" / "hooks" / "flockguard.json"
    assert ".kiro/hooks/flockguard.json" in init(bare, "kiro")
    triggers = [e["trigger"] for e in json.loads(config.read_text())["hooks"]]
    assert triggers == ["PreToolUse", "PostToolUse", "UserPromptSubmit", "SessionStart"]
    path = str(bare / ".flockguard" / "config.toml")
    payload = fixture("kiro", "pre-fs-write", bare, path=path)
    refused("kiro", as_kiro(bare, "PreToolUse", payload), *NEEDLES)
    payload["hook_event_name"] = "PreToolUse"  # 3.0 may spell the trigger so
    refused("kiro", as_kiro(bare, "PreToolUse", payload), *NEEDLES)
    first = config.read_bytes()
    assert "unchanged" in init(bare, "kiro")
    assert config.read_bytes() == first
    run_fg("uninstall", "--agents", "kiro", cwd=bare)
    assert not (bare / ".kiro").exists()


def test_kiro_uninstall_gives_back_a_foreign_file(bare: pathlib.Path) -> None:
    config = bare / ".kiro" / "hooks" / "flockguard.json"
    config.parent.mkdir(parents=True)
    (bare / ".kiro" / "steering.md").write_text("keep me\n")
    foreign = json.dumps(
        {"version": "v1", "hooks": [{"name": "lint", "trigger": "PostFileSave",
                                     "action": {"type": "command", "command": "npm run lint"}}]},
        indent=4,
    )  # fmt: skip
    config.write_text(foreign)
    init(bare, "kiro")
    assert json.loads(config.read_text())["hooks"][0]["name"] == "lint"
    run_fg("uninstall", "--agents", "kiro", cwd=bare)
    assert config.read_bytes() == foreign.encode()
    assert (bare / ".kiro" / "steering.md").read_text() == "keep me\n"


def test_cline_install_guards_and_round_trips(bare: pathlib.Path) -> None:
    hooks = bare / ".clinerules" / "hooks"
    assert ".clinerules/hooks" in init(bare, "cline")
    names = sorted(p.name for p in hooks.iterdir())
    assert names == sorted(["PreToolUse", "PostToolUse", "UserPromptSubmit", "TaskStart",
                            "TaskResume", "TaskComplete", "TaskCancel"])  # fmt: skip
    text = (hooks / "PreToolUse").read_text()
    assert text.startswith("#!/bin/sh\n# flockguard:managed")
    assert text.rstrip().endswith(" cline") and "exec " in text
    payload = fixture("cline", "pre-write-to-file", bare, path=".flockguard/config.toml")
    refused("cline", as_cline(bare, "PreToolUse", payload), *NEEDLES)
    briefing = as_cline(bare, "TaskStart", fixture("cline", "task-start", bare)).json
    assert f"you are agent `cline:{SESSIONS['cline']}`" in briefing["contextModification"]
    first = snapshot(bare)
    assert "unchanged" in init(bare, "cline")
    assert snapshot(bare) == first
    run_fg("uninstall", "--agents", "cline", cwd=bare)
    assert not (bare / ".clinerules").exists()


def test_cline_leaves_foreign_scripts_alone(bare: pathlib.Path) -> None:
    hooks = bare / ".clinerules" / "hooks"
    hooks.mkdir(parents=True)
    (bare / ".clinerules" / "style.md").write_text("- tabs\n")
    mine = hooks / "Notify"
    mine.write_text("#!/bin/sh\necho '{\"cancel\": false}'\n")
    mine.chmod(0o755)
    before = snapshot(bare)
    init(bare, "cline")
    assert (hooks / "PreToolUse").exists()
    run_fg("uninstall", "--agents", "cline", cwd=bare)
    assert snapshot(bare) == before
    assert os.access(mine, os.X_OK)


def test_cline_refuses_to_overwrite_a_foreign_hook(bare: pathlib.Path) -> None:
    hooks = bare / ".clinerules" / "hooks"
    hooks.mkdir(parents=True)
    theirs = hooks / "PreToolUse"
    theirs.write_text("#!/bin/sh\necho '{\"cancel\": false}'\n")
    proc = run_fg("init", "--agents", "cline", cwd=bare, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "PreToolUse" in proc.stderr and "not flockguard's" in proc.stderr
    assert theirs.read_text() == "#!/bin/sh\necho '{\"cancel\": false}'\n"
    assert sorted(p.name for p in hooks.iterdir()) == ["PreToolUse"]  # nothing half-written
