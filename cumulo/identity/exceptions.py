"""Errors of the identity service, one root (:class:`IdentityError`); the API maps
each family to one HTTP error (``cumulo/api/errors.py``).

Messages are safe to show to the client that made the request: they name what it
asked for, never a password, a hash or another user's data.
"""

from __future__ import annotations

from typing import Any


class IdentityError(Exception):
    """Base class of every error raised by ``cumulo.identity``."""


class NotFound(IdentityError, LookupError):
    """A lookup matched nothing. ``what`` names the record, ``key`` what was asked."""

    what = "record"

    def __init__(self, **key: Any) -> None:
        self.key = key
        described = ", ".join(f"{name}={value}" for name, value in key.items())
        super().__init__(f"Could not find {self.what}: {described}" if described else self.what)


class DomainNotFound(NotFound):
    what = "domain"


class ProjectNotFound(NotFound):
    what = "project"


class UserNotFound(NotFound):
    what = "user"


class RoleNotFound(NotFound):
    what = "role"


class AssignmentNotFound(NotFound):
    what = "role assignment"


class Conflict(IdentityError):
    """A create or update would duplicate a unique name."""


class InvalidValue(IdentityError, ValueError):
    """A value the request schema cannot rule out (a domain that does not exist, a
    default project in another domain...). ``field`` names it, as the schema errors do."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"Invalid input for field '{field}': {message}")


class Unauthorized(IdentityError):
    """Authentication failed or a token is not (or no longer) valid: HTTP 401.

    ``str(error)`` is what the client is told; ``reason`` is what the log is told
    (which check failed), so a client learns nothing about which users exist."""

    public_message = "The request you have made requires authentication."

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or self.public_message)


class AuthenticationFailed(Unauthorized):
    """Wrong user, password or scope."""


class TokenInvalid(Unauthorized):
    """A token that does not decrypt, is malformed, or whose subject changed since
    (user disabled or deleted, password changed, role or project gone)."""

    public_message = "The token is not valid."


class TokenExpired(TokenInvalid):
    """A token past its ``expires_at``."""

    public_message = "The token has expired."


class KeyRepositoryError(IdentityError):
    """The token key repository is missing, unreadable or holds a bad key."""
