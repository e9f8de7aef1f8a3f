"""Every labelled command in tests/shell_corpus/ is analysed as labelled (see its README)."""

from __future__ import annotations

import pytest

from flockguard.shell import analyze
from shell_corpus import labels

CASES = [
    pytest.param(kind, row, id=row["_where"]) for kind in labels.KINDS for row in labels.load(kind)
]


def test_corpus_is_large_enough() -> None:
    sizes = {kind: len(labels.load(kind)) for kind in labels.KINDS}
    assert sizes["writes"] >= 300 and sizes["reads"] >= 150 and sizes["benign"] >= 400, sizes


def test_corpus_has_no_duplicates() -> None:
    commands = [row["cmd"] for kind in labels.KINDS for row in labels.load(kind)]
    assert len(commands) == len(set(commands))


@pytest.mark.parametrize(("kind", "row"), CASES)
def test_label(kind: str, row: dict) -> None:
    analysis = analyze(row["cmd"])
    assert labels.problems(kind, row, analysis) == [], row["cmd"]
