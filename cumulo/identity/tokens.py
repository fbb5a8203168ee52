"""Stateless tokens, signed and encrypted like Keystone's Fernet tokens.

A token is a Fernet token (AES-128-CBC and HMAC-SHA256 under a key of the
:class:`~cumulo.identity.keys.KeyRepository`) whose plaintext is a MessagePack
array, the payload::

    [version, user_id, methods, project_id, issued_at, expires_at, audit_ids]

``user_id`` and ``project_id`` are 16 bytes when they are 32 hex digits (as
generated ids are), else text; ``methods`` is a bit mask (password 1, token 2);
``issued_at`` and ``expires_at`` are microseconds since the epoch (UTC);
``audit_ids`` are 16 random bytes each (the first names this token, a second the
token it was made from). The Fernet padding (``=``) is stripped, as Keystone does.

Nothing is stored: any API process holding the keys validates a token on its own.
Whether its subject still may use it (user enabled, password unchanged, role still
held) is for :class:`~cumulo.identity.manager.IdentityManager` to check.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from cryptography.fernet import InvalidToken

from .exceptions import TokenInvalid
from .keys import KeyRepository

PAYLOAD_VERSION = 1
METHOD_BITS = {"password": 1, "token": 2}
MAX_TOKEN_LENGTH = 1024
"""Longer strings are refused before any decryption (ours are about 200 characters)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ENCODER = msgspec.msgpack.Encoder()


def new_audit_id() -> str:
    """16 random bytes, URL-safe base64 without padding (22 characters), as Keystone's."""
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class TokenPayload:
    """What a token says: who, scoped to which project, how and when."""

    user_id: str
    project_id: str | None
    methods: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    audit_ids: tuple[str, ...]

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    @classmethod
    def new(
        cls,
        user_id: str,
        project_id: str | None,
        methods: tuple[str, ...],
        now: datetime,
        lifetime: timedelta,
        parent_audit_id: str | None = None,
    ) -> TokenPayload:
        """A payload issued at ``now`` (truncated to microseconds) for ``lifetime``."""
        audit = (new_audit_id(),) if parent_audit_id is None else (new_audit_id(), parent_audit_id)
        return cls(user_id, project_id, methods, now, now + lifetime, audit)


class TokenFormatter:
    """Turns payloads into token strings and back, with the keys of ``keys``."""

    def __init__(self, keys: KeyRepository) -> None:
        self.keys = keys

    def encode(self, payload: TokenPayload) -> str:
        """The token string of ``payload``, encrypted with the primary key."""
        unknown = [m for m in payload.methods if m not in METHOD_BITS]
        if unknown:
            raise ValueError(f"unknown authentication methods {unknown}")
        plaintext = _ENCODER.encode(
            [
                PAYLOAD_VERSION,
                _pack_id(payload.user_id),
                sum(METHOD_BITS[m] for m in set(payload.methods)),
                None if payload.project_id is None else _pack_id(payload.project_id),
                _microseconds(payload.issued_at),
                _microseconds(payload.expires_at),
                [_unb64(audit) for audit in payload.audit_ids],
            ]
        )
        fernet = self.keys.keyring().fernet
        token = fernet.encrypt_at_time(plaintext, int(payload.issued_at.timestamp()))
        return token.decode("ascii").rstrip("=")

    def decode(self, token: str) -> TokenPayload:
        """The payload of ``token``; raises ``TokenInvalid`` (with the reason for the
        log) if it does not decrypt under any key or is not a payload of ours."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise TokenInvalid(f"token of length {len(token)}")
        try:
            data = (token + "=" * (-len(token) % 4)).encode("ascii")
        except UnicodeEncodeError:
            raise TokenInvalid("token is not ASCII") from None
        try:
            plaintext = self.keys.keyring().fernet.decrypt(data)
        except InvalidToken:
            raise TokenInvalid("token does not decrypt under any key") from None
        try:
            return _unpack(msgspec.msgpack.decode(plaintext))
        except (msgspec.DecodeError, ValueError, TypeError, binascii.Error) as exc:
            raise TokenInvalid(f"token payload is malformed: {exc}") from None


def _unpack(fields: Any) -> TokenPayload:
    if not isinstance(fields, list) or len(fields) != 7 or fields[0] != PAYLOAD_VERSION:
        raise ValueError("not a version 1 payload")
    _, user, bits, project, issued, expires, audits = fields
    if not isinstance(bits, int) or not isinstance(issued, int) or not isinstance(expires, int):
        raise ValueError("methods, issued_at and expires_at must be integers")
    if not isinstance(audits, list) or not audits:
        raise ValueError("audit ids must be a non-empty list")
    methods = tuple(name for name, bit in METHOD_BITS.items() if bits & bit)
    if not methods:
        raise ValueError("no authentication method")
    return TokenPayload(
        user_id=_unpack_id(user),
        project_id=None if project is None else _unpack_id(project),
        methods=methods,
        issued_at=_datetime(issued),
        expires_at=_datetime(expires),
        audit_ids=tuple(_b64(audit) for audit in audits),
    )


def _pack_id(value: str) -> bytes | str:
    if len(value) == 32:
        try:
            packed = bytes.fromhex(value)
        except ValueError:
            return value
        # Only ids that round-trip (lower-case hex) are packed.
        if packed.hex() == value:
            return packed
    return value


def _unpack_id(value: Any) -> str:
    if isinstance(value, bytes) and len(value) == 16:
        return value.hex()
    if isinstance(value, str) and value:
        return value
    raise ValueError(f"bad id {value!r}")


def _microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _datetime(microseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=microseconds)


def _unb64(audit_id: str) -> bytes:
    return base64.urlsafe_b64decode(audit_id + "=" * (-len(audit_id) % 4))


def _b64(raw: Any) -> str:
    if not isinstance(raw, bytes) or not raw:
        raise ValueError("audit id must be bytes")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
