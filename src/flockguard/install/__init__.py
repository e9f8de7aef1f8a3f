"""Wiring flockguard into each agent's config: one module per platform.

Each module provides ``NAME``, ``settings_path(root)``, ``install(root, hook)`` and
``uninstall(root)``, both returning whether they changed the file.
"""

from __future__ import annotations

INSTALLERS: dict[str, str] = {
    "claude-code": "flockguard.install.claude_code",
    "gemini-cli": "flockguard.install.gemini_cli",
    "windsurf": "flockguard.install.windsurf",
    "cursor": "flockguard.install.cursor",
    "codex": "flockguard.install.codex",
    "copilot": "flockguard.install.copilot",
    "cline": "flockguard.install.cline",
    "kiro": "flockguard.install.kiro",
    "opencode": "flockguard.install.opencode",
}
