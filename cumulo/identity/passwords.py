"""Password hashing with argon2id (argon2-cffi), in the PHC string format.

The parameters are argon2-cffi's defaults (RFC 9106's low-memory profile); a hash
made with older parameters still verifies and is re-hashed at the next successful
login (:meth:`PasswordHasher.needs_rehash`). A lookup of a user that does not exist
verifies against a dummy hash, so a wrong user name costs as much as a wrong
password and timing tells nothing about which users exist.
"""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

MAX_PASSWORD_LENGTH = 4096
"""Longest password accepted (the request schemas refuse longer ones)."""


class PasswordHasher:
    """Hashes and verifies passwords; thread-safe (no state besides parameters)."""

    def __init__(self, hasher: argon2.PasswordHasher | None = None) -> None:
        self._hasher = hasher or argon2.PasswordHasher()
        self._dummy = self._hasher.hash("cumulo: a password nobody has")

    def hash(self, password: str) -> str:
        """The PHC string (``$argon2id$v=19$m=...``) of ``password``."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches ``password_hash``. ``None`` (a user without a
        password, or none found) never matches but costs one verification all the same."""
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether ``password_hash`` was made with parameters other than this hasher's."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
