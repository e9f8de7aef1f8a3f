"""Whole-process latency of `flockguard-hook claude-code` on a typical Write payload.

Baseline, in the same run and interleaved: `python -c pass` with the same interpreter. Also
shown: `python -c "import json"` (the floor a JSON-speaking hook cannot go below) and a denied
write and a shell command. Prints medians and ratios to the baseline.

    python bench/hook_latency.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BIN = pathlib.Path(sys.executable).parent


def timed(command: list[str], stdin: bytes, cwd: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, input=stdin, capture_output=True, cwd=cwd, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 2):
        sys.exit(f"{command} failed: {proc.stderr.decode()}")
    return elapsed


def payload(repo: str, tool: str, **tool_input: str) -> bytes:
    return json.dumps(
        {
            "session_id": "bench",
            "transcript_path": "/tmp/bench.jsonl",
            "cwd": repo,
            "permission_mode": "default",
            "hook_event_name": "PreToolUse",
            "tool_name": tool,
            "tool_input": tool_input,
            "tool_use_id": "toolu_bench",
        }
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    runs = parser.parse_args().runs
    hook = str(BIN / "flockguard-hook")
    base = tempfile.mkdtemp(prefix="fg-bench-")
    repo = os.path.join(base, "repo")
    subprocess.run(["git", "init", "-q", repo], check=True)
    subprocess.run(
        [str(BIN / "flockguard"), "init", "--repo", repo], check=True, capture_output=True
    )
    cases = {
        "python -c pass (baseline)": ([sys.executable, "-c", "pass"], b""),
        'python -c "import json" (floor)': ([sys.executable, "-c", "import json"], b""),
        "hook: Write src/app.py (allowed)": (
            [hook, "claude-code"],
            payload(repo, "Write", file_path=f"{repo}/src/app.py", content="x = 1\n"),
        ),
        "hook: Write .flockguard/config.toml (denied)": (
            [hook, "claude-code"],
            payload(repo, "Write", file_path=f"{repo}/.flockguard/config.toml", content=""),
        ),
        "hook: Bash `pytest -q 2>&1 | tail`": (
            [hook, "claude-code"],
            payload(repo, "Bash", command="pytest -q 2>&1 | tail -n 20"),
        ),
    }
    for command, stdin in cases.values():  # warm caches: config cache, page cache, .pyc
        for _ in range(3):
            timed(command, stdin, repo)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):  # interleaved, so drift in machine load hits every case alike
        for name, (command, stdin) in cases.items():
            samples[name].append(timed(command, stdin, repo))
    baseline = statistics.median(samples["python -c pass (baseline)"])
    print(f"{runs} runs each, interleaved; Python {sys.version.split()[0]}; medians")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:<46} {median * 1000:7.2f} ms  {median / baseline:5.2f}x")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
