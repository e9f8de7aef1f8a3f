"""One module per validator: ``CODES`` and ``check(action, ctx) -> Iterable[Finding]``.

The registry with the action kinds each looks at is ``flockguard.engine.VALIDATORS``.
"""
