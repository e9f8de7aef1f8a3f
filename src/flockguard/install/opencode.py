"""OpenCode: a shim plugin ``.opencode/plugins/flockguard.js`` (hook-protocols.md §10.1).

OpenCode has no command hooks; it loads every ``.js``/``.ts`` file of ``.opencode/plugins/``
as an in-process plugin. Ours is a small ES module, written whole and marked by its first line,
that runs the installed ``flockguard-hook opencode`` for each tool call with the payload
described in ``flockguard.platforms.opencode`` and throws (which blocks the call, the message
going to the model) when the hook says ``block`` — or when the hook cannot be run or answers
anything it does not understand (fail closed). Session events are passed on so locks are
released when a session is deleted; their answers are ignored.

Uninstall deletes the file only when it carries the marker, and never a person's own plugin of
that name: install refuses to overwrite one. A plugin that fails to load is silently absent in
OpenCode (§10.6), so ``flockguard doctor`` is the way to check it is in place.
"""

from __future__ import annotations

import contextlib
import json
import os

from flockguard.errors import FlockguardError
from flockguard.install import jsonfile

NAME = "opencode"
MARKER = "// flockguard:managed"
TIMEOUT_MS = 30_000

PLUGIN = """\
{marker} (written by `flockguard init`; `flockguard uninstall` removes it)
// Runs flockguard-hook before each OpenCode tool call; a refusal throws, which blocks the call.
import {{ spawnSync }} from "node:child_process"

const HOOK = {hook}
const TIMEOUT_MS = {timeout}

function runHook(payload) {{
  const proc = spawnSync(HOOK, ["{name}"], {{
    input: JSON.stringify(payload),
    encoding: "utf8",
    cwd: payload.cwd || undefined,
    timeout: TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  }})
  if (proc.error) throw new Error(`flockguard: cannot run ${{HOOK}}: ${{proc.error.message}}`)
  const lines = (proc.stdout || "").split("\\n").filter((line) => line.trim())
  let answer = null
  try {{
    answer = JSON.parse(lines[lines.length - 1])
  }} catch {{
    answer = null
  }}
  if (
    (proc.status !== 0 && proc.status !== 2) ||
    answer === null ||
    typeof answer !== "object" ||
    typeof answer.block !== "boolean"
  ) {{
    const detail = ((proc.stderr || "") + (proc.stdout || "")).trim().slice(0, 2000)
    const how = proc.signal ? `signal ${{proc.signal}}` : `exit ${{proc.status}}`
    throw new Error(
      `flockguard: ${{HOOK}} gave no usable answer (${{how}})` + (detail ? `: ${{detail}}` : "")
    )
  }}
  return answer
}}

export const FlockguardPlugin = async ({{ directory, worktree }}) => ({{
  "tool.execute.before": async (input, output) => {{
    const answer = runHook({{
      event: "tool.execute.before",
      tool: input.tool,
      sessionID: input.sessionID,
      callID: input.callID,
      cwd: directory || worktree || process.cwd(),
      args: (output && output.args) || {{}},
    }})
    if (answer.block) throw new Error(answer.message || "blocked by flockguard")
  }},
  "tool.execute.after": async (input) => {{
    try {{
      runHook({{
        event: "tool.execute.after",
        tool: input.tool,
        sessionID: input.sessionID,
        callID: input.callID,
        cwd: directory || worktree || process.cwd(),
        args: input.args || {{}},
      }})
    }} catch {{
      // already done: nothing to block
    }}
  }},
  event: async ({{ event }}) => {{
    if (!event || (event.type !== "session.created" && event.type !== "session.deleted")) return
    const props = event.properties || {{}}
    const sessionID = (props.info && props.info.id) || props.sessionID || ""
    try {{
      runHook({{ event: event.type, sessionID, cwd: directory || worktree || process.cwd() }})
    }} catch {{
      // a session event cannot be refused
    }}
  }},
}})
"""


def settings_path(root: str) -> str:
    return os.path.join(root, ".opencode", "plugins", "flockguard.js")


def plugin(hook: str) -> str:
    return PLUGIN.format(marker=MARKER, hook=json.dumps(hook), timeout=TIMEOUT_MS, name=NAME)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FlockguardError("config-unreadable", f"{path}: cannot be read: {exc}") from exc


def is_ours(text: str | None) -> bool:
    return (text or "").startswith(MARKER)


def install(root: str, hook: str) -> bool:
    path = settings_path(root)
    current = _read(path)
    if current is not None and not is_ours(current):
        raise FlockguardError(
            "agent-config-conflict",
            f"{path}: an OpenCode plugin that is not flockguard's; left unchanged",
            f"move it away and run the command again, or have it run `{hook} {NAME}` with the "
            "payload of `flockguard.platforms.opencode` on stdin",
        )
    wanted = plugin(hook)
    if current == wanted:
        return False
    directory = os.path.dirname(path)
    for folder in (os.path.dirname(directory), directory):
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise FlockguardError(
                "agent-config-conflict",
                f"{folder} is a file, so the OpenCode plugin cannot live in {directory}; "
                "left unchanged",
                "move the file away, then run the command again",
            )
    os.makedirs(directory, exist_ok=True)
    jsonfile.write(path, wanted, mode=0o644)
    return True


def uninstall(root: str) -> bool:
    path = settings_path(root)
    if not is_ours(_read(path)):
        return False
    os.unlink(path)
    directory = os.path.dirname(path)
    for folder in (directory, os.path.dirname(directory)):
        with contextlib.suppress(OSError):  # left alone when it holds anything else
            os.rmdir(folder)
    return True
