"""The project's error hierarchy. Domain code raises these and says what went wrong; api/errors.py
alone maps them to HTTP statuses."""
from __future__ import annotations


def some_of(items, shown: int = 10, fmt=str) -> str:
    """The first ``shown`` items, comma-separated, and how many more: for messages that name what
    went wrong without listing thousands ("1, 2, 3 and 12 more")."""
    head = ", ".join(fmt(i) for i in items[:shown])
    return head + (f" and {len(items) - shown} more" if len(items) > shown else "")


class KBTriageError(Exception):
    """Base class: a problem a caller can act on, with a machine-readable code and field."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.retry_after = retry_after  # seconds after which the same request may succeed, if known
        if code:
            self.code = code


class ValidationError(KBTriageError):
    code = "invalid"


class NotFound(KBTriageError):
    code = "not_found"


class Conflict(KBTriageError):
    code = "conflict"


class NotReady(KBTriageError):
    """A model or index that the operation needs has not been built yet."""

    code = "not_ready"


class Unauthorized(KBTriageError):
    """No API key, or one that is unknown or revoked."""

    code = "unauthorized"


class Forbidden(KBTriageError):
    """A valid API key whose role does not allow the operation."""

    code = "forbidden"
