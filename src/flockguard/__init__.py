"""flockguard: guards and locks for several AI coding agents working in one checkout."""

from __future__ import annotations

from flockguard._version import __version__

__all__ = ["__version__"]
