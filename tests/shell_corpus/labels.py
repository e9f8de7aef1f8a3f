"""Reading the labelled corpus and scoring an analysis against one label (tests and bench)."""

from __future__ import annotations

import json
import pathlib
from typing import Any

HERE = pathlib.Path(__file__).parent
KINDS = ("writes", "reads", "benign")


def load(kind: str) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate((HERE / f"{kind}.jsonl").read_text().splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            row["_where"] = f"{kind}.jsonl:{number}"
            rows.append(row)
    return rows


def problems(kind: str, row: dict[str, Any], analysis: Any) -> list[str]:
    """What the analysis gets wrong about this row ([] when it is right)."""
    found_writes = set(analysis.writes) | set(analysis.deletes)
    found_reads = set(analysis.reads)
    wanted_writes = set(row.get("writes", [])) | set(row.get("deletes", []))
    wanted_reads = set(row.get("reads", []))
    dynamic = bool(analysis.dynamic)
    wrong = []
    if analysis.parse_error:
        wrong.append(f"parse error: {analysis.parse_error}")
    if kind == "benign":
        if found_writes - wanted_writes:
            wrong.append(f"extra writes/deletes {sorted(found_writes - wanted_writes)}")
        if found_reads - wanted_reads:
            wrong.append(f"extra reads {sorted(found_reads - wanted_reads)}")
        if dynamic and not row.get("dynamic"):
            wrong.append(f"dynamic {list(analysis.dynamic)}")
    if wanted_writes - found_writes:
        wrong.append(f"missed writes/deletes {sorted(wanted_writes - found_writes)}")
    if wanted_reads - found_reads:
        wrong.append(f"missed reads {sorted(wanted_reads - found_reads)}")
    if row.get("dynamic") and not dynamic:
        wrong.append("missed dynamic target")
    return wrong
