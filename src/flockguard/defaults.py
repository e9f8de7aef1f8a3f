"""The policy ``flockguard init`` writes: commented, so a person can read and adapt it."""

from __future__ import annotations

CONFIG_TOML = """\
# flockguard policy. Committed with the repository; agents cannot edit it (it is in a block-tier
# class below). Patterns are gitignore-style, relative to the repository root; a pattern without a
# slash matches at any depth, `!pattern` excludes. Docs for every rule: docs/rules/FG###.md.
version = 1

# What the hook answers when flockguard itself fails (bad config, crash): "deny" refuses
# file actions (reads, writes, shell) until a human fixes it; "allow" lets them through.
on_internal_error = "deny"

# Rollout stage per rule code prefix: monitor (allow, record what it would do), warn (allow and
# show the message), enforce. The longest prefix wins. A stage may carry a date after which it
# enforces: FG2 = { stage = "warn", observe_until = 2027-01-31 }
[stages]
FG = "enforce"

# Writes to paths outside the repository (FG104): block | checkpoint | warn | allow.
# `allow` lists absolute patterns exempt from it (a directory covers what is under it).
[outside_repo]
write = "checkpoint"
allow = [
  "/tmp", "/var/tmp", "/private/tmp", "/private/var/tmp",
  "/dev/null", "/dev/stdout", "/dev/stderr",
]

# Shell commands whose targets cannot be known before they run (FG301) and commands that cannot
# be parsed (FG302): ask (deny where the agent cannot ask) | deny | warn.
[shell]
dynamic = "ask"
unparsable = "deny"

# Orchestrator locks between agents (`flockguard lock …`, `flockguard status`). auto_claim: an
# agent's edit of a file takes a short write lease on it (renewed by each edit), so a second
# agent's edit of the same file is refused while the first works on it.
[locks]
auto_claim = true
claim_ttl = 120      # seconds an edit's lease lasts
default_ttl = 300    # seconds a `flockguard lock acquire` lease lasts unless --ttl
promote_after = 30   # a waiter moves up one priority class per this many seconds waited

# ---- write guard: block (refused) | checkpoint (human approval) | warn (allowed, audited) ----

# A class may name the decision record behind it; every refusal from it then cites it:
# adr = "docs/adr/0007-write-guard.md"
[write.flockguard]
tier = "block"
patterns = [".flockguard/**"]
message = "flockguard's own policy and state: only a person changes them."

[write.agent-hooks]
tier = "block"
patterns = [
  ".claude/settings*.json", ".cursor/hooks.json",
  ".gemini/settings.json", ".windsurf/hooks.json", ".codex/**", ".github/hooks/**",
  ".kiro/hooks/**", ".clinerules/hooks/**", ".opencode/plugins/**",
]
message = "Agent hook wiring: changing it would switch the guard off."

[write.git-internals]
tier = "block"
patterns = [".git/**"]
message = "Git's internals: use git commands, which keep them consistent."

[write.secrets]
tier = "checkpoint"
patterns = [
  ".env", ".env.*", "!.env.example", "!.env.sample", "!.env.template",
  "*.pem", "*.key", "id_rsa*", "id_ed25519*", "id_ecdsa*", "**/.ssh/**", "**/.aws/credentials",
  ".netrc", "*.tfstate", "*.tfstate.backup",
]
message = "Credentials and key material."

[write.ci]
tier = "checkpoint"
patterns = [".github/workflows/**", ".gitlab-ci.yml", ".ci/**", ".circleci/**"]
message = "CI definitions run with the project's secrets."

[write.lockfiles]
tier = "warn"
patterns = [
  "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "uv.lock",
  "Cargo.lock", "go.sum", "Gemfile.lock",
]
message = "Dependency lock files: regenerate them with the package manager instead of editing."

# ---- read guard: deny (refused) | ask (human approval) ----

[read.secrets]
tier = "deny"
patterns = [
  ".env", ".env.*", "!.env.example", "!.env.sample", "!.env.template",
  "*.pem", "*.key", "*.p12", "*.pfx", "id_rsa*", "id_ed25519*", "id_ecdsa*", "id_dsa*",
  "**/.ssh/**", "!*.pub", "!**/.ssh/known_hosts", "!**/.ssh/config", "**/.aws/credentials",
  ".netrc", "*.tfstate", "*.tfstate.backup", ".git-credentials", ".pgpass",
]
message = "Credential and key material must not reach an agent's context."
"""
