"""Rule docs and the rule registry stay in sync: one page per code, fixed headings, an index."""

from __future__ import annotations

import pathlib
import re

import pytest

from flockguard.rules import RULES

DOCS = pathlib.Path(__file__).parent.parent / "docs" / "rules"
INDEX = DOCS / "README.md"
HEADINGS = (
    "## What it does",
    "## Why it matters",
    "## Example",
    "## What to do instead",
    "## Configuration",
    "## Default stage",
    "## Known false positives",
    "## References",
)
CODES = sorted(RULES)
PAGES = sorted(path.name for path in DOCS.glob("*.md") if path != INDEX)
PLACEHOLDERS = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b|lorem ipsum", re.IGNORECASE)
INDEX_ROW = re.compile(r"^\|\s*\[?`?(FG\d{3})`?\]?(?:\([^)]*\))?\s*\|\s*`?([a-z0-9-]+)`?\s*\|")


def page(code: str) -> str:
    path = DOCS / f"{code}.md"
    if not path.is_file():
        pytest.fail(f"{code} {RULES[code].name} has no page {path.relative_to(DOCS.parent.parent)}")
    return path.read_text(encoding="utf-8")


def outside_fences(text: str) -> list[str]:
    """The lines of ``text`` that are not inside a fenced code block."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def sections(text: str) -> dict[str, str]:
    """Level-2 heading -> the text under it, code blocks included."""
    found: dict[str, list[str]] = {}
    current, fenced = "", False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            current = line.strip()
            found[current] = []
        elif current:
            found[current].append(line)
    return {heading: "\n".join(body).strip() for heading, body in found.items()}


def index_rows() -> dict[str, str]:
    """Code -> name for every table row of the index that starts with a rule code."""
    rows = {}
    for line in INDEX.read_text(encoding="utf-8").splitlines():
        match = INDEX_ROW.match(line)
        if match:
            rows[match[1]] = match[2]
    return rows


@pytest.mark.parametrize("code", CODES)
def test_every_rule_has_a_page(code: str) -> None:
    assert (DOCS / f"{code}.md").is_file(), f"{code} {RULES[code].name} has no page"


@pytest.mark.parametrize("name", PAGES)
def test_every_page_names_a_registered_rule(name: str) -> None:
    code = name.removesuffix(".md")
    assert code in RULES, f"docs/rules/{name} documents no code registered in RULES"


@pytest.mark.parametrize("code", CODES)
def test_page_title_is_code_and_name(code: str) -> None:
    lines = page(code).splitlines()
    assert lines, f"{code}: the page is empty"
    assert lines[0] == f"# {code} {RULES[code].name}"


@pytest.mark.parametrize("code", CODES)
def test_page_has_the_headings_in_order(code: str) -> None:
    headings = [line.rstrip() for line in outside_fences(page(code)) if line.startswith("## ")]
    assert headings == list(HEADINGS), f"{code}: headings {headings}"


@pytest.mark.parametrize("code", CODES)
def test_page_sections_have_content(code: str) -> None:
    for heading, body in sections(page(code)).items():
        assert body, f"{code}: section {heading!r} is empty"
        assert not PLACEHOLDERS.search(body), f"{code}: section {heading!r} has a placeholder"


@pytest.mark.parametrize("code", CODES)
def test_page_example_shows_a_payload_and_an_answer(code: str) -> None:
    example = sections(page(code)).get("## Example", "")
    if RULES[code].validator == "precommit":  # not a hook rule: a command and its output
        assert "```console" in example and "$ " in example, f"{code}: no command shown"
    else:
        assert '"hook_event_name"' in example or "stdin" in example, f"{code}: no payload"
    assert "exit" in example, f"{code}: the example does not show the answer"


@pytest.mark.parametrize("code", CODES)
def test_index_lists_the_rule(code: str) -> None:
    rows = index_rows()
    assert code in rows, f"{code} is missing from docs/rules/README.md"
    assert rows[code] == RULES[code].name, f"{code}: index says {rows[code]!r}"


def test_index_lists_only_registered_rules() -> None:
    unknown = sorted(set(index_rows()) - set(RULES))
    assert not unknown, f"docs/rules/README.md lists unregistered codes {unknown}"
