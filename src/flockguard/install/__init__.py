"""Wiring flockguard into each agent's config: one module per platform.

Each module provides ``NAME``, ``settings_path(root)``, ``install(root, hook)`` and
``uninstall(root)``, both returning whether they changed the file.
"""

from __future__ import annotations

INSTALLERS: dict[str, str] = {
    "claude-code": "flockguard.install.claude_code",
}
