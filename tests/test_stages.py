"""Staged rollout: monitor -> warn -> enforce per code prefix, longest prefix wins,
``observe_until`` dates, preview rules, and FG9xx (flockguard's own failures) never staged away.
"""

from __future__ import annotations

import datetime
import pathlib
from typing import Any

import pytest

from conftest import HookResult, audit, claude, run_hook
from flockguard import config as config_module
from flockguard import rules
from flockguard.engine import evaluate, staged
from flockguard.model import ASK, DENY, ENFORCE, MONITOR, WARN, WRITE, Action, Finding
from flockguard.rules import PREVIEW, RULES, Rule, stage_for

CONFIG = pathlib.Path(".flockguard") / "config.toml"
DEFAULT_STAGES = '[stages]\nFG = "enforce"\n'
TODAY = datetime.date.today()
YESTERDAY = (TODAY - datetime.timedelta(days=1)).isoformat()
TOMORROW = (TODAY + datetime.timedelta(days=1)).isoformat()


def set_stages(repo: pathlib.Path, body: str) -> None:
    """Replace the policy's `[stages]` table (as `flockguard init` wrote it) with ``body``."""
    path = repo / CONFIG
    text = path.read_text()
    assert DEFAULT_STAGES in text, "flockguard init no longer writes [stages] FG = enforce"
    path.write_text(text.replace(DEFAULT_STAGES, "[stages]\n" + body.strip() + "\n"))


def write(repo: pathlib.Path, relative: str) -> HookResult:
    return run_hook(repo, claude(repo, "Write", file_path=f"{repo}/{relative}", content="x\n"))


def read(repo: pathlib.Path, relative: str) -> HookResult:
    return run_hook(repo, claude(repo, "Read", file_path=f"{repo}/{relative}"))


def last_record(repo: pathlib.Path) -> dict[str, Any]:
    records = audit(repo)
    assert records, "the hook wrote no audit record"
    return records[-1]


def only_finding(record: dict[str, Any]) -> dict[str, Any]:
    assert len(record["findings"]) == 1, record["findings"]
    finding: dict[str, Any] = record["findings"][0]
    return finding


def assert_monitored(result: HookResult, repo: pathlib.Path, code: str, would: str) -> None:
    """Allowed and silent, with the audit record saying what enforcement would have done."""
    assert result.code == 0, result.stderr
    assert result.json == {}, result.stdout
    record = last_record(repo)
    assert record["outcome"] == "allow"
    assert record["would"] == would
    assert record["would_deny"] is (would == DENY)
    finding = only_finding(record)
    assert finding["code"] == code
    assert finding["stage"] == MONITOR
    assert finding["outcome"] == would
    assert finding["effective"] == "allow"


def assert_warned(result: HookResult, repo: pathlib.Path, code: str, would: str) -> None:
    """No permission decision; the message reaches the model and the person."""
    assert result.code == 0, result.stderr
    document = result.json
    assert result.decision is None, result.stdout
    specific = document["hookSpecificOutput"]
    assert specific["hookEventName"] == "PreToolUse"
    assert code in specific["additionalContext"]
    assert code in document["systemMessage"]
    record = last_record(repo)
    assert record["outcome"] == WARN
    assert record["would"] == would
    assert record["would_deny"] is (would == DENY)
    finding = only_finding(record)
    assert finding["code"] == code
    assert finding["stage"] == WARN
    assert finding["effective"] == WARN


def assert_enforced(result: HookResult, repo: pathlib.Path, code: str, decision: str) -> None:
    assert result.code == 0, result.stderr
    assert result.decision == decision, result.stdout
    assert code in result.reason
    record = last_record(repo)
    assert record["outcome"] == decision
    assert record["would_deny"] is False
    finding = only_finding(record)
    assert finding["code"] == code
    assert finding["stage"] == ENFORCE
    assert finding["effective"] == decision


# ---- end to end ----------------------------------------------------------------------------------


def test_default_policy_enforces(repo: pathlib.Path) -> None:
    assert_enforced(write(repo, ".claude/settings.json"), repo, "FG101", DENY)
    assert_enforced(read(repo, ".env"), repo, "FG201", DENY)
    assert_enforced(write(repo, ".env"), repo, "FG102", ASK)


@pytest.mark.parametrize("target", [".claude/settings.json", ".git/config"])
def test_monitor_allows_and_records_would_deny(repo: pathlib.Path, target: str) -> None:
    set_stages(repo, 'FG = "enforce"\nFG1 = "monitor"')
    assert_monitored(write(repo, target), repo, "FG101", DENY)


def test_monitor_of_write_guard_leaves_read_guard_enforced(repo: pathlib.Path) -> None:
    set_stages(repo, 'FG = "enforce"\nFG1 = "monitor"')
    assert_monitored(write(repo, ".env"), repo, "FG102", ASK)
    assert_enforced(read(repo, ".env"), repo, "FG201", DENY)


def test_monitor_records_would_ask_without_would_deny(repo: pathlib.Path) -> None:
    set_stages(repo, 'FG102 = "monitor"')
    result = write(repo, ".env")
    assert_monitored(result, repo, "FG102", ASK)
    assert last_record(repo)["would_deny"] is False


def test_warn_caps_a_deny(repo: pathlib.Path) -> None:
    set_stages(repo, 'FG = "enforce"\nFG101 = "warn"')
    result = write(repo, ".claude/settings.json")
    assert_warned(result, repo, "FG101", DENY)
    assert "`.claude/settings.json`" in result.json["hookSpecificOutput"]["additionalContext"]
    # the neighbours are untouched
    assert_enforced(write(repo, ".env"), repo, "FG102", ASK)


def test_warn_caps_an_ask(repo: pathlib.Path) -> None:
    set_stages(repo, 'FG102 = "warn"')
    assert_warned(write(repo, ".env"), repo, "FG102", ASK)


def test_longest_prefix_wins(repo: pathlib.Path) -> None:
    set_stages(repo, 'FG = "monitor"\nFG1 = "warn"\nFG101 = "enforce"')
    assert_enforced(write(repo, ".claude/settings.json"), repo, "FG101", DENY)  # FG101
    assert_warned(write(repo, ".env"), repo, "FG102", ASK)  # FG1
    assert_monitored(read(repo, ".env"), repo, "FG201", DENY)  # FG


def test_longest_prefix_wins_whatever_the_order(repo: pathlib.Path) -> None:
    set_stages(repo, 'FG101 = "enforce"\nFG1 = "warn"\nFG = "monitor"')
    assert_enforced(write(repo, ".claude/settings.json"), repo, "FG101", DENY)
    assert_warned(write(repo, ".env"), repo, "FG102", ASK)
    assert_monitored(read(repo, ".env"), repo, "FG201", DENY)


def test_observe_until_in_the_past_enforces(repo: pathlib.Path) -> None:
    set_stages(repo, f'FG = "enforce"\nFG2 = {{ stage = "monitor", observe_until = {YESTERDAY} }}')
    assert_enforced(read(repo, ".env"), repo, "FG201", DENY)


def test_observe_until_in_the_future_monitors(repo: pathlib.Path) -> None:
    set_stages(repo, f'FG = "enforce"\nFG2 = {{ stage = "monitor", observe_until = {TOMORROW} }}')
    assert_monitored(read(repo, ".env"), repo, "FG201", DENY)


def test_observe_until_past_also_ends_warn(repo: pathlib.Path) -> None:
    set_stages(repo, f'FG1 = {{ stage = "warn", observe_until = {YESTERDAY} }}')
    assert_enforced(write(repo, ".git/config"), repo, "FG101", DENY)


def test_observe_until_of_a_shorter_prefix_does_not_leak(repo: pathlib.Path) -> None:
    set_stages(repo, f'FG = {{ stage = "monitor", observe_until = {YESTERDAY} }}\nFG2 = "monitor"')
    assert_monitored(read(repo, ".env"), repo, "FG201", DENY)  # FG2 wins, it has no date
    assert_enforced(write(repo, ".git/config"), repo, "FG101", DENY)  # FG, past its date


# ---- FG9xx cannot be staged away ---------------------------------------------------------------

# Every way a policy could try to stage FG9xx: all of them must leave it failing closed, whether
# the schema refuses the key (the policy is then invalid: FG901) or the stage is ignored.
FG9_ATTEMPTS = {
    "FG monitor": 'FG = "monitor"',
    "FG9 monitor": 'FG = "monitor"\nFG9 = "monitor"',
    "FG90 warn": 'FG = "monitor"\nFG90 = "warn"',
    "FG902 monitor": 'FG = "monitor"\nFG902 = "monitor"',
}
BROKEN_INPUT = {
    "empty": b"",
    "not json": b"not json",
    "array": b"[1, 2]",
    "no event": b'{"tool_name": "Write"}',
}


@pytest.mark.parametrize("stages", list(FG9_ATTEMPTS.values()), ids=list(FG9_ATTEMPTS))
@pytest.mark.parametrize("payload", list(BROKEN_INPUT.values()), ids=list(BROKEN_INPUT))
def test_fg9_broken_input_fails_closed_whatever_the_stages(
    repo: pathlib.Path, stages: str, payload: bytes
) -> None:
    set_stages(repo, stages)
    result = run_hook(repo, payload)
    assert result.code == 2
    assert result.decision == DENY
    assert "FG902" in result.stderr
    record = last_record(repo)
    assert record["outcome"] == DENY
    assert [f["code"] for f in record["findings"]] == ["FG902"]
    assert record["findings"][0]["stage"] == ENFORCE


@pytest.mark.parametrize("stages", list(FG9_ATTEMPTS.values()), ids=list(FG9_ATTEMPTS))
def test_fg9_write_without_tool_input_fails_closed(repo: pathlib.Path, stages: str) -> None:
    set_stages(repo, stages)
    document = claude(repo, "Write")
    del document["tool_input"]
    result = run_hook(repo, document)
    assert result.code == 2
    assert result.decision == DENY
    assert [f["code"] for f in last_record(repo)["findings"]] == ["FG902"]


@pytest.mark.parametrize("stages", list(FG9_ATTEMPTS.values()), ids=list(FG9_ATTEMPTS))
def test_fg9_nul_byte_in_path_fails_closed(repo: pathlib.Path, stages: str) -> None:
    set_stages(repo, stages)
    result = run_hook(repo, claude(repo, "Write", file_path="a\x00b", content=""))
    assert result.decision == DENY, result.stdout
    record = last_record(repo)
    assert record["outcome"] == DENY
    codes = [f["code"] for f in record["findings"]]
    assert len(codes) == 1
    assert codes[0].startswith("FG9"), codes
    assert record["findings"][0]["stage"] == ENFORCE


def test_fg9_stage_key_makes_the_policy_invalid(repo: pathlib.Path) -> None:
    """Staging FG9 is refused by the schema: every file action fails closed, naming the key."""
    set_stages(repo, FG9_ATTEMPTS["FG9 monitor"])
    result = write(repo, "ok.txt")
    assert result.decision == DENY, result.stdout
    assert "stages.FG9" in result.reason
    assert [f["code"] for f in last_record(repo)["findings"]] == ["FG901"]


def test_fg900_is_not_staged(tmp_path: pathlib.Path) -> None:
    """A path the engine cannot analyse is FG900, enforced even under FG = monitor."""
    policy = config_module.load_text(str(tmp_path), '[stages]\nFG = "monitor"\n')
    action = Action(platform="test", event="PreToolUse", kind=WRITE, writes=("a\x00b",))
    decision = evaluate(action, policy, today="2026-01-01")
    assert [f.code for f in decision.findings] == ["FG900"]
    assert decision.findings[0].stage == ENFORCE
    assert decision.outcome == DENY


def test_fg900_follows_on_internal_error_allow(tmp_path: pathlib.Path) -> None:
    policy = config_module.load_text(
        str(tmp_path), 'on_internal_error = "allow"\n[stages]\nFG = "enforce"\n'
    )
    action = Action(platform="test", event="PreToolUse", kind=WRITE, writes=("a\x00b",))
    decision = evaluate(action, policy, today="2026-01-01")
    assert [f.code for f in decision.findings] == ["FG900"]
    assert decision.outcome == WARN


def test_invalid_stage_fails_closed_naming_the_key(repo: pathlib.Path) -> None:
    set_stages(repo, 'FG = "monitor"\nFG1 = "sleep"')
    result = write(repo, "ok.txt")
    assert result.decision == DENY, result.stdout
    assert "stages.FG1" in result.reason
    assert [f["code"] for f in last_record(repo)["findings"]] == ["FG901"]


@pytest.mark.parametrize("case", ["FG901", "FG902"])
def test_fg9_deny_messages_name_the_rule(repo: pathlib.Path, case: str) -> None:
    """DESIGN §2: each deny says the rule code and name."""
    if case == "FG901":
        set_stages(repo, 'FG = "sleep"')
        result = write(repo, "ok.txt")
    else:
        result = run_hook(repo, b"not json")
    assert result.decision == DENY
    assert [f["code"] for f in last_record(repo)["findings"]] == [case]
    assert f"{case} {RULES[case].name}" in result.reason, result.reason


def test_fg900_message_names_the_rule(tmp_path: pathlib.Path) -> None:
    policy = config_module.load_text(str(tmp_path), "")
    action = Action(platform="test", event="PreToolUse", kind=WRITE, writes=("a\x00b",))
    (finding,) = evaluate(action, policy, today="2026-01-01").findings
    assert f"FG900 {RULES['FG900'].name}" in finding.message


# ---- unit: stage_for ---------------------------------------------------------------------------


def settings(**stages: str | tuple[str, str]) -> dict[str, tuple[str, str]]:
    return {k: v if isinstance(v, tuple) else (v, "") for k, v in stages.items()}


def test_stage_for_without_settings_uses_the_rule_default() -> None:
    for code, rule in RULES.items():
        assert stage_for(code, {}, "2026-01-01") == rule.default_stage, code
    assert stage_for("FG555", {}, "2026-01-01") == ENFORCE  # unregistered: enforce


def test_stage_for_longest_prefix() -> None:
    stages = settings(FG=MONITOR, FG1=WARN, FG101=ENFORCE, FG20="warn")
    day = "2026-01-01"
    assert stage_for("FG101", stages, day) == ENFORCE
    assert stage_for("FG102", stages, day) == WARN
    assert stage_for("FG104", stages, day) == WARN
    assert stage_for("FG201", stages, day) == WARN  # FG20 is longer than FG
    assert stage_for("FG301", stages, day) == MONITOR
    assert stage_for("FG555", stages, day) == MONITOR  # unregistered codes follow prefixes too
    reversed_stages = dict(reversed(list(stages.items())))
    for code in ("FG101", "FG102", "FG201", "FG301"):
        assert stage_for(code, reversed_stages, day) == stage_for(code, stages, day)


def test_stage_for_prefix_is_a_prefix_not_a_substring() -> None:
    stages = settings(FG=ENFORCE, FG10=MONITOR, FG01=WARN)
    assert stage_for("FG101", stages, "2026-01-01") == MONITOR
    assert stage_for("FG110", stages, "2026-01-01") == ENFORCE  # FG10 is not a prefix of FG110
    assert stage_for("FG201", stages, "2026-01-01") == ENFORCE  # "01" inside, not a prefix


def test_stage_for_observe_until() -> None:
    for stage in (MONITOR, WARN):
        stages = settings(FG2=(stage, "2026-06-30"))
        assert stage_for("FG201", stages, "2026-06-29") == stage
        assert stage_for("FG201", stages, "2026-06-30") == stage  # the last day still observes
        assert stage_for("FG201", stages, "2026-07-01") == ENFORCE
        assert stage_for("FG201", stages, "2027-01-01") == ENFORCE
    assert stage_for("FG201", settings(FG2=(ENFORCE, "2026-06-30")), "2026-01-01") == ENFORCE


def test_stage_for_observe_until_belongs_to_its_prefix() -> None:
    stages = settings(FG=(MONITOR, "2000-01-01"), FG2=MONITOR)
    assert stage_for("FG201", stages, "2026-01-01") == MONITOR
    assert stage_for("FG101", stages, "2026-01-01") == ENFORCE


@pytest.mark.parametrize("code", ["FG900", "FG901", "FG902", "FG903", "FG999"])
def test_stage_for_fg9_is_always_enforced(code: str) -> None:
    stages = settings(FG=MONITOR, FG9=MONITOR, FG90=WARN, **{code: MONITOR})
    assert stage_for(code, stages, "2026-01-01") == ENFORCE


@pytest.fixture
def preview_rule(monkeypatch: pytest.MonkeyPatch) -> str:
    """A preview rule registered for the test (RULES has only stable rules today)."""
    code = "FG199"
    assert code not in RULES
    rule = Rule(code, "preview-probe", "write_guard", "A test-only preview rule.", maturity=PREVIEW)
    monkeypatch.setitem(rules.RULES, code, rule)  # type: ignore[index]
    return code


def test_stage_for_preview_rule_stays_in_monitor(preview_rule: str) -> None:
    day = "2026-01-01"
    assert stage_for(preview_rule, {}, day) == MONITOR
    assert stage_for(preview_rule, settings(FG=ENFORCE, FG1=ENFORCE, FG19=ENFORCE), day) == MONITOR
    # only naming its exact code moves it
    assert stage_for(preview_rule, settings(FG199=ENFORCE), day) == ENFORCE
    assert stage_for(preview_rule, settings(FG=MONITOR, FG199=WARN), day) == WARN
    assert stage_for(preview_rule, settings(FG199=(MONITOR, "2025-12-31")), day) == ENFORCE
    # its stable neighbours are unaffected
    assert stage_for("FG101", settings(FG1=WARN), day) == WARN


def test_stage_for_rule_default_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    code = "FG198"
    rule = Rule(code, "warn-by-default", "write_guard", "A test-only rule.", default_stage=WARN)
    monkeypatch.setitem(rules.RULES, code, rule)  # type: ignore[index]
    assert stage_for(code, {}, "2026-01-01") == WARN
    assert stage_for(code, settings(FG=ENFORCE), "2026-01-01") == ENFORCE


def test_registered_rules_are_stable() -> None:
    """If a preview rule is ever registered, the e2e tests above should cover it too."""
    assert all(rule.maturity == rules.STABLE for rule in RULES.values())


# ---- unit: engine.staged -----------------------------------------------------------------------


def staged_config(tmp_path: pathlib.Path, stages: str) -> config_module.Config:
    return config_module.load_text(str(tmp_path), f"[stages]\n{stages}\n")


@pytest.mark.parametrize(
    ("stage", "outcome", "effective"),
    [
        (MONITOR, DENY, "allow"),
        (MONITOR, ASK, "allow"),
        (MONITOR, WARN, "allow"),
        (WARN, DENY, WARN),
        (WARN, ASK, WARN),
        (WARN, WARN, WARN),
        (ENFORCE, DENY, DENY),
        (ENFORCE, ASK, ASK),
        (ENFORCE, WARN, WARN),
    ],
)
def test_staged(tmp_path: pathlib.Path, stage: str, outcome: str, effective: str) -> None:
    config = staged_config(tmp_path, f'FG1 = "{stage}"')
    finding = staged(Finding("FG101", outcome, "message"), config, "2026-01-01")
    assert finding.stage == stage
    assert finding.outcome == outcome  # what enforcement would do is kept
    assert finding.effective == effective
