"""Agent identity: the whole session (conversation, trajectory, task) id, for every host.

Hosts hand out time-ordered ids: Codex and others UUIDv7, OpenCode ``ses_`` + a time prefix,
Cline's extension ``Date.now()``. Two sessions started in the same second share their first
characters, so an agent id built from a prefix made them one agent: both could edit one file,
and either one's end released the other's locks. Every test here drives the installed
``flockguard-hook <host>`` as a subprocess with that host's payload shape, in a repository on
which ``flockguard init`` ran (``[locks] auto_claim = true``: an allowed write leases the file).

A host that sends no id is told apart by its process (``@proc-<boot>-<pid>-<start>``); a session
id spelled like such a label is hashed (``@`` is not a plain character), so it cannot become that
host's agent. Not handled: any agent can name itself anything with ``FLOCKGUARD_AGENT`` in the
shell (``flockguard lock ...``). Ids are compared as given: ``ABC`` and ``abc`` are two agents.
"""

from __future__ import annotations

import json
import pathlib
import re
import secrets
import string
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

import pytest

from conftest import PAYLOADS, HookResult, audit, installed, run_fg, run_hook

TARGET = "src/shared.py"
PLAIN = frozenset(string.ascii_letters + string.digits + "-_.")
BASE62 = string.digits + string.ascii_letters


# ---- ids as the hosts make them -----------------------------------------------------------


def uuid7(ms: int) -> str:
    """A UUIDv7 (RFC 9562): 48-bit millisecond time, version, 74 random bits."""
    value = (
        (ms & (1 << 48) - 1) << 80
        | 0x7 << 76
        | secrets.randbits(12) << 64
        | 0b10 << 62
        | secrets.randbits(62)
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def opencode_id(ms: int, counter: int) -> str:
    """OpenCode's session id (Identifier.descending): ``ses_``, 12 hex digits of the inverted
    ``ms * 0x1000 + counter``, 14 random base62 characters."""
    time_part = ~(ms * 0x1000 + counter) & (1 << 48) - 1
    return f"ses_{time_part:012x}" + "".join(secrets.choice(BASE62) for _ in range(14))


def same_second(make: Callable[[int, int], str], count: int = 3) -> list[str]:
    """``count`` distinct ids made in one millisecond (counter 1, 2, ...)."""
    ms = int(time.time() * 1000)
    ids = [make(ms, n) for n in range(1, count + 1)]
    assert len(set(ids)) == count
    return ids


def cline_ids(ms: int, counter: int) -> str:
    # the extension's taskId is Date.now().toString(): same second, other milliseconds
    return str(ms - ms % 1000 + 100 * counter)


def uuid_ids(ms: int, counter: int) -> str:
    return uuid7(ms)


# ---- each host: its payloads and its dialect ------------------------------------------------


def fixture(host: str, name: str, repo: pathlib.Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (PAYLOADS / host / f"{name}.json").read_text().replace("{repo}", str(repo))
    )
    return document


def claude_write(repo: pathlib.Path, session: str) -> dict[str, Any]:
    document = fixture("claude-code", "pre-write", repo)
    document["tool_input"]["file_path"] = str(repo / TARGET)
    return document | {"session_id": session}


def gemini_write(repo: pathlib.Path, session: str) -> dict[str, Any]:
    document = fixture("gemini-cli", "before-tool-write-file", repo)
    document["tool_input"]["file_path"] = str(repo / TARGET)
    return document | {"session_id": session}


def generation() -> str:
    # a fresh one per call, as Cursor sends: one generation fired twice is audited once
    return uuid7(int(time.time() * 1000))


def cursor_write(repo: pathlib.Path, session: str) -> dict[str, Any]:
    document = fixture("cursor", "pre-write", repo)
    document["tool_input"]["file_path"] = str(repo / TARGET)
    return document | {"conversation_id": session, "session_id": session,
                       "generation_id": generation()}  # fmt: skip


def windsurf_write(repo: pathlib.Path, session: str) -> dict[str, Any]:
    document = fixture("windsurf", "pre-write-code", repo)
    document["tool_info"]["file_path"] = str(repo / TARGET)
    return document | {"trajectory_id": session}


def codex_write(repo: pathlib.Path, session: str) -> dict[str, Any]:
    document = fixture("codex", "pre-apply-patch", repo)
    patch = f"*** Begin Patch\n*** Add File: {TARGET}\n+x = 1\n*** End Patch\n"
    return document | {"session_id": session, "tool_input": {"command": patch}}


def copilot_write(repo: pathlib.Path, session: str) -> dict[str, Any]:
    document = fixture("copilot", "pre-create", repo)
    args = json.dumps({"path": str(repo / TARGET), "file_text": "x = 1\n"})
    return document | {"sessionId": session, "toolArgs": args}


def cline_write(repo: pathlib.Path, session: str) -> dict[str, Any]:
    document = fixture("cline", "pre-write-to-file", repo)
    document["preToolUse"]["parameters"]["path"] = TARGET
    return document | {"taskId": session}


def kiro_write(repo: pathlib.Path, session: str) -> dict[str, Any]:
    document = fixture("kiro", "pre-fs-write", repo)
    document["tool_input"]["path"] = str(repo / TARGET)
    if not session:
        del document["session_id"]  # as Kiro CLI documents its payload: no session id
        return document
    return document | {"session_id": session}


def opencode_write(repo: pathlib.Path, session: str) -> dict[str, Any]:
    args = {"filePath": str(repo / TARGET), "content": "x = 1\n"}
    return {"event": "tool.execute.before", "tool": "write", "sessionID": session,
            "callID": "call_1", "cwd": str(repo), "args": args}  # fmt: skip


def claude_end(repo: pathlib.Path, session: str) -> dict[str, Any]:
    return fixture("claude-code", "session-end", repo) | {"session_id": session}


def gemini_end(repo: pathlib.Path, session: str) -> dict[str, Any]:
    return fixture("gemini-cli", "session-end", repo) | {"session_id": session}


def cursor_end(repo: pathlib.Path, session: str) -> dict[str, Any]:
    return fixture("cursor", "session-end", repo) | {
        "conversation_id": session, "session_id": session, "generation_id": generation(),
    }  # fmt: skip


def codex_end(repo: pathlib.Path, session: str) -> dict[str, Any]:
    return fixture("codex", "session-end", repo) | {"session_id": session}


def copilot_end(repo: pathlib.Path, session: str) -> dict[str, Any]:
    return fixture("copilot", "session-end", repo) | {"sessionId": session}


def cline_end(repo: pathlib.Path, session: str) -> dict[str, Any]:
    document = fixture("cline", "task-complete", repo)
    document["taskComplete"]["taskMetadata"]["taskId"] = session
    return document | {"taskId": session}


def opencode_end(repo: pathlib.Path, session: str) -> dict[str, Any]:
    return {"event": "session.deleted", "sessionID": session, "cwd": str(repo)}


def _json(result: HookResult) -> dict[str, Any]:
    """The one JSON object the host reads (Copilot's progress lines stripped)."""
    kept = [
        line for line in result.stdout.splitlines() if not line.startswith('{"type": "progress"')
    ]
    document = json.loads("\n".join(kept))
    assert isinstance(document, dict), result.stdout
    return document


def claude_verdict(result: HookResult) -> str | None:
    assert result.code == 0, result.stderr  # a refusal is JSON on exit 0; exit 2 is a crash
    specific = _json(result).get("hookSpecificOutput", {})
    if specific.get("permissionDecision") == "deny":
        return str(specific["permissionDecisionReason"])
    assert "permissionDecision" not in specific, specific
    return None


def gemini_verdict(result: HookResult) -> str | None:
    assert result.code == 0, result.stderr
    document = _json(result)
    if document.get("decision") == "deny":
        return str(document["reason"])
    assert "decision" not in document, document
    return None


def cursor_verdict(result: HookResult) -> str | None:
    assert result.code == 0, result.stderr
    document = _json(result)
    if document["permission"] == "deny":
        assert document["agent_message"] == document["user_message"]
        return str(document["user_message"])
    assert document["permission"] == "allow", document
    return None


def exit_code_verdict(result: HookResult) -> str | None:
    """Windsurf and Kiro: exit 2 refuses, stderr reaching the agent; exit 0 lets it be."""
    if result.code == 2:
        assert result.stderr.strip()
        return result.stderr
    assert result.code == 0, result.stderr
    return None


def codex_verdict(result: HookResult) -> str | None:
    assert result.code == 0, result.stderr
    if not result.stdout.strip():
        return None  # an allowed call gets no output at all
    specific = _json(result).get("hookSpecificOutput", {})
    if specific:
        assert specific["permissionDecision"] == "deny", specific
        return str(specific["permissionDecisionReason"])
    return None


def copilot_verdict(result: HookResult) -> str | None:
    assert result.code == 0, result.stderr
    document = _json(result)
    if document.get("permissionDecision") == "deny":
        return str(document["permissionDecisionReason"])
    assert "permissionDecision" not in document, document
    return None


def cline_verdict(result: HookResult) -> str | None:
    assert result.code == 0, result.stderr
    document = _json(result)
    if document["cancel"] is True:
        return str(document["errorMessage"])
    assert document["cancel"] is False, document
    return None


def opencode_verdict(result: HookResult) -> str | None:
    assert result.code == 0, result.stderr
    assert result.stdout.count("\n") == 1, result.stdout  # one JSON line for the plugin
    document = _json(result)
    assert set(document) == {"block", "message"}, document
    return str(document["message"]) if document["block"] is True else None


@dataclass(frozen=True)
class Host:
    name: str
    make: Callable[[int, int], str]
    write: Callable[[pathlib.Path, str], dict[str, Any]]
    verdict: Callable[[HookResult], str | None]  # the refusal's reason, None when let through
    end: Callable[[pathlib.Path, str], dict[str, Any]] | None  # None: the host has no end event

    def run(self, repo: pathlib.Path, document: dict[str, Any]) -> HookResult:
        result = run_hook(repo, document, platform=self.name)
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        return result

    def writes(self, repo: pathlib.Path, session: str) -> str | None:
        return self.verdict(self.run(repo, self.write(repo, session)))

    def ends(self, repo: pathlib.Path, session: str) -> None:
        assert self.end is not None
        result = self.run(repo, self.end(repo, session))
        assert result.code == 0, result.stderr
        record = audit(repo)[-1]
        assert (record["kind"], record["outcome"], record["session"]) == (
            "session-end", "allow", session,
        )  # fmt: skip


HOSTS = [
    Host("claude-code", uuid_ids, claude_write, claude_verdict, claude_end),
    Host("gemini-cli", uuid_ids, gemini_write, gemini_verdict, gemini_end),
    Host("cursor", uuid_ids, cursor_write, cursor_verdict, cursor_end),
    Host("windsurf", uuid_ids, windsurf_write, exit_code_verdict, None),  # no session events
    Host("codex", uuid_ids, codex_write, codex_verdict, codex_end),
    Host("copilot", uuid_ids, copilot_write, copilot_verdict, copilot_end),
    Host("cline", cline_ids, cline_write, cline_verdict, cline_end),
    Host("kiro", uuid_ids, kiro_write, exit_code_verdict, None),  # `stop` ends a turn only
    Host("opencode", opencode_id, opencode_write, opencode_verdict, opencode_end),
]
BY_NAME = {host.name: host for host in HOSTS}
ENDING = [host for host in HOSTS if host.end is not None]


def refused_by(host: Host, repo: pathlib.Path, session: str, holder: str) -> None:
    """``session``'s write of TARGET is refused with FG701, naming ``holder`` as the holder."""
    reason = host.writes(repo, session)
    assert reason is not None, f"{host.name}: {session}'s write went through"
    assert "FG701" in reason and f"`{TARGET}`" in reason, reason
    assert holder in reason, reason


def holders(repo: pathlib.Path) -> list[tuple[str, str]]:
    status = json.loads(run_fg("status", "--json", cwd=repo).stdout)
    return [(h["agent"], h["resource"]) for h in status["holders"]]


def hashed(host: str, session: str) -> str:
    """The documented hash form: the first 16 plain characters, ``~``, BLAKE2b-96 of it all."""
    digest = blake2b(session.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()
    return f"{host}:{''.join(c for c in session if c in PLAIN)[:16]}~{digest}"


def long_stem(host: Host) -> str:
    """Over 64 characters, made of ids the host makes (a host that nests or joins ids)."""
    ids = "-".join(same_second(host.make, 2)) + "-"
    return ids * (1 + 64 // len(ids))


# ---- same-second sessions are two agents ------------------------------------------------------


@pytest.mark.parametrize("host", HOSTS, ids=[h.name for h in HOSTS])
def test_sessions_started_in_one_second_are_two_agents(host: Host, repo: pathlib.Path) -> None:
    first, second, _ = same_second(host.make)
    assert first[:10] == second[:10], (first, second)  # more than a prefix id looked at
    before = len(audit(repo))
    assert host.writes(repo, first) is None  # and leases the file to the first session
    refused_by(host, repo, second, f"{host.name}:{first}")
    assert host.writes(repo, first) is None  # its own lease does not stop it
    records = audit(repo)[before:]
    assert [(r["session"], r["agent"], r["outcome"]) for r in records] == [
        (first, f"{host.name}:{first}", "allow"),
        (second, f"{host.name}:{second}", "deny"),
        (first, f"{host.name}:{first}", "allow"),
    ]
    assert holders(repo) == [(f"{host.name}:{first}", TARGET)]


@pytest.mark.parametrize("host", ENDING, ids=[h.name for h in ENDING])
def test_one_sessions_end_does_not_release_anothers_lease(host: Host, repo: pathlib.Path) -> None:
    first, second, third = same_second(host.make)
    agent = f"{host.name}:{first}"
    assert host.writes(repo, first) is None
    host.ends(repo, second)  # a session started the same second ends
    assert holders(repo) == [(agent, TARGET)]
    refused_by(host, repo, third, agent)  # the first session still holds it
    host.ends(repo, first)  # its own end releases it
    assert holders(repo) == []
    assert host.writes(repo, third) is None
    assert holders(repo) == [(f"{host.name}:{third}", TARGET)]


# ---- long and odd ids are hashed, whole -------------------------------------------------------


@pytest.mark.parametrize("host", HOSTS, ids=[h.name for h in HOSTS])
def test_long_ids_differing_in_their_last_character_are_two_agents(
    host: Host, repo: pathlib.Path
) -> None:
    stem = long_stem(host)
    first, second = stem + "a", stem + "b"
    assert len(first) > 64
    before = len(audit(repo))
    assert host.writes(repo, first) is None
    refused_by(host, repo, second, hashed(host.name, first))
    assert host.writes(repo, first) is None  # the same long id is the same agent again
    agents = [(r["session"], r["agent"]) for r in audit(repo)[before:]]
    assert agents == [
        (first, hashed(host.name, first)),
        (second, hashed(host.name, second)),
        (first, hashed(host.name, first)),
    ]
    assert hashed(host.name, first) != hashed(host.name, second)


ODD = ["sess one", "team/alpha/1", "line\nbreak", "tab\there", "ünïcode-ß", "a:b", "x" * 65]


@pytest.mark.parametrize("host", HOSTS, ids=[h.name for h in HOSTS])
def test_ids_with_odd_characters_are_hashed(host: Host, repo: pathlib.Path) -> None:
    before = len(audit(repo))
    for session in ODD:
        host.run(repo, host.write(repo, session))
    records = audit(repo)[before:]
    assert [r["session"] for r in records] == ODD  # the session is still recorded whole
    for record, session in zip(records, ODD, strict=True):
        agent = record["agent"]
        assert agent == hashed(host.name, session)
        assert re.fullmatch(rf"{re.escape(host.name)}:[A-Za-z0-9._-]{{0,16}}~[0-9a-f]{{24}}", agent)
    assert len({r["agent"] for r in records}) == len(ODD)


@pytest.mark.parametrize("host", HOSTS, ids=[h.name for h in HOSTS])
def test_an_id_spelled_as_a_hash_form_is_not_that_agent(host: Host, repo: pathlib.Path) -> None:
    """A session id crafted to equal another session's hash form: ``~`` is not a plain
    character, so the crafted id is hashed in turn and names another agent."""
    long_id = long_stem(host)
    victim = hashed(host.name, long_id)
    forged = victim.partition(":")[2]
    assert host.writes(repo, long_id) is None
    refused_by(host, repo, forged, victim)
    assert audit(repo)[-1]["agent"] == hashed(host.name, forged) != victim


# ---- Claude Code subagents --------------------------------------------------------------------


def test_a_subagent_is_its_own_agent_under_its_session(repo: pathlib.Path) -> None:
    host = BY_NAME["claude-code"]
    session = uuid7(int(time.time() * 1000))
    parent = f"claude-code:{session}"
    assert host.writes(repo, session) is None
    for subagent, suffix in [
        ("a41f2c9e7b", "a41f2c9e7b"),
        ("task/../x y", hashed("claude-code", "task/../x y").partition(":")[2]),
    ]:
        document = claude_write(repo, session) | {"agent_id": subagent, "agent_type": "Explore"}
        reason = host.verdict(host.run(repo, document))
        assert reason is not None and "FG701" in reason and parent in reason
        assert audit(repo)[-1]["agent"] == f"{parent}/{suffix}"
    assert audit(repo)[-1]["agent"].count("/") == 1  # the subagent's own slash was hashed away


# ---- Kiro: no session id, so the host process tells agents apart -----------------------------

PARENT = """\
import json, subprocess, sys, time
hook = sys.argv[1]
time.sleep(0.5)  # a host is up a while before its first hook (a quicker one looks like a wrapper)
for path in sys.stdin:
    proc = subprocess.run(["sh", "-c", '"$0" kiro < "$1"', hook, path.strip()],
                          capture_output=True, text=True, check=False)
    print(json.dumps([proc.returncode, proc.stdout, proc.stderr]), flush=True)
"""


class KiroHost:
    """A stand-in for one Kiro process: it stays alive and runs the hook through ``sh -c``."""

    def __init__(self, repo: pathlib.Path, spool: pathlib.Path) -> None:
        self.spool = spool
        self.runs = 0
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PARENT, installed("flockguard-hook")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=repo,
        )

    def run(self, document: dict[str, Any]) -> HookResult:
        self.runs += 1
        path = self.spool / f"{self.proc.pid}-{self.runs}.json"
        path.write_text(json.dumps(document))
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        code, out, err = json.loads(self.proc.stdout.readline())
        return HookResult(subprocess.CompletedProcess([], code, out, err))

    def close(self) -> None:
        self.proc.communicate(timeout=30)  # end of input: the loop ends, the pipes close


@pytest.fixture
def kiro_hosts(repo: pathlib.Path, tmp_path: pathlib.Path) -> Any:
    started = [KiroHost(repo, tmp_path), KiroHost(repo, tmp_path)]
    yield started
    for host in started:
        host.close()


def test_kiro_without_session_ids_tells_hosts_apart(
    repo: pathlib.Path, kiro_hosts: list[KiroHost]
) -> None:
    one, two = kiro_hosts
    document = kiro_write(repo, "")
    assert "session_id" not in document
    assert exit_code_verdict(one.run(document)) is None
    first = audit(repo)[-1]["agent"]
    assert re.fullmatch(rf"kiro:@proc-[0-9a-f]{{8}}-{one.proc.pid}-\d+", first), first
    reason = exit_code_verdict(two.run(document))
    assert reason is not None and "FG701" in reason and first in reason
    second = audit(repo)[-1]["agent"]
    assert re.fullmatch(rf"kiro:@proc-[0-9a-f]{{8}}-{two.proc.pid}-\d+", second), second
    assert exit_code_verdict(one.run(document)) is None  # the same host: the same agent
    assert audit(repo)[-1]["agent"] == first
    assert [r["session"] for r in audit(repo)[-3:]] == ["", "", ""]


def test_a_session_id_shaped_like_a_host_label_is_not_that_host(
    repo: pathlib.Path, kiro_hosts: list[KiroHost]
) -> None:
    one, two = kiro_hosts
    assert exit_code_verdict(one.run(kiro_write(repo, ""))) is None
    label = audit(repo)[-1]["agent"].partition(":")[2]
    for spelling in (label, label.lstrip("@")):
        # another Kiro process sends the label as its session id: it is not host one
        assert exit_code_verdict(two.run(kiro_write(repo, spelling))) is not None
        assert audit(repo)[-1]["agent"] != f"kiro:{label}"
