"""The domain error family.

Services raise these; the API maps them to problem+json and pages to form
errors, so no service ever builds an HTTP response.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule a service refuses to break."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    """Missing, or not visible to whoever asks (the two look the same)."""

    status = 404
    title = "Not found"


class NotPermitted(DomainError):
    """The caller may see the object but not do this to it."""

    status = 403
    title = "Forbidden"


class InvalidTransition(DomainError):
    """A status change the workflow does not allow."""

    status = 409
    title = "Invalid transition"


class Conflict(DomainError):
    """The change clashes with the current state (booking overlap, capacity...)."""

    status = 409
    title = "Conflict"


class InvalidInput(DomainError):
    """Input that breaks a rule; ``field`` names the culprit."""

    status = 422
    title = "Invalid input"
