"""Where the orchestrator's lock table lives: one module per backend, chosen by name."""

from __future__ import annotations

BACKENDS: dict[str, str] = {
    "sqlite": "flockguard.locking.backends.sqlite",
}
