"""Locks: L1 flock on coordination files, and (later) the orchestrator lock manager."""
