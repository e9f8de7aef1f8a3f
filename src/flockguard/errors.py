"""The one error type flockguard raises on purpose; imports nothing from flockguard."""

from __future__ import annotations


class FlockguardError(Exception):
    """A failure a person can act on.

    ``reference`` is a stable kebab-case name, ``message`` says what is wrong (naming the file,
    key or value), ``hint`` says what to do about it.
    """

    def __init__(self, reference: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.reference = reference
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.reference}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class InputError(FlockguardError):
    """The hook's input is unusable; ``kind`` is the action kind as far as it could be told."""

    def __init__(self, message: str, kind: str = "unknown") -> None:
        super().__init__("hook-input-invalid", message, "check the agent's hook wiring")
        self.kind = kind
