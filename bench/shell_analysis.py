"""Shell analysis: recall on the labelled writes and reads, false positives on benign commands,
and throughput against tree-sitter's bare parse of the same commands, in the same run.

    python bench/shell_analysis.py [--rounds N]
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))

from flockguard.shell import analyze
from flockguard.shell.parser import parse
from shell_corpus import labels


def rate(function: object, commands: list[str], rounds: int) -> float:
    """Median commands per second over ``rounds`` passes."""
    speeds = []
    for _ in range(rounds):
        started = time.perf_counter()
        for command in commands:
            function(command)  # type: ignore[operator]
        speeds.append(len(commands) / (time.perf_counter() - started))
    return statistics.median(speeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    rows = {kind: labels.load(kind) for kind in labels.KINDS}
    for kind, title in (("writes", "recall, writes"), ("reads", "recall, reads")):
        missed = [r for r in rows[kind] if labels.problems(kind, r, analyze(r["cmd"]))]
        share = 1 - len(missed) / len(rows[kind])
        print(f"{title:<26} {share:7.2%}  ({len(rows[kind]) - len(missed)}/{len(rows[kind])})")
        for row in missed[:5]:
            print(f"    missed {row['_where']}: {row['cmd'][:70]!r}")
    flagged = [r for r in rows["benign"] if labels.problems("benign", r, analyze(r["cmd"]))]
    share = len(flagged) / len(rows["benign"])
    print(f"{'false positives, benign':<26} {share:7.2%}  ({len(flagged)}/{len(rows['benign'])})")
    for row in flagged[:5]:
        print(f"    flagged {row['_where']}: {row['cmd'][:70]!r}")
    commands = [row["cmd"] for kind in labels.KINDS for row in rows[kind]]
    parse(commands[0])  # load the grammar outside the timing
    bare = rate(parse, commands, rounds)
    full = rate(analyze, commands, rounds)
    print(f"{len(commands)} commands, median of {rounds} passes")
    print(f"  tree-sitter parse only    {bare:10,.0f} commands/s  1.00x")
    print(f"  flockguard analyze        {full:10,.0f} commands/s  {full / bare:.2f}x of bare parse")


if __name__ == "__main__":
    main()
