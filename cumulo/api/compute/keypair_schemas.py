"""Request bodies of ``/os-keypairs`` as Nova's schemas declare them, per
microversion (``type`` from 2.2, ``user_id`` from 2.10). The name allows only the
characters Nova's key pair API accepts before 2.92 (letters, digits, ``-``, ``_``
and inner spaces)."""

from __future__ import annotations

from typing import Any

from ..validation import Schema
from .microversions import KEYPAIR_TYPE, KEYPAIR_USER_ID, Change
from .schemas import _envelope

KEYPAIR_NAME: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^(?! )[a-zA-Z0-9 _-]+(?<! )$",
}
_CREATE_2_1: dict[str, Any] = {"name": KEYPAIR_NAME, "public_key": {"type": "string"}}
_CREATE_2_2 = {**_CREATE_2_1, "type": {"type": "string", "enum": ["ssh", "x509"]}}
_CREATE_2_10 = {**_CREATE_2_2, "user_id": {"type": "string"}}

CREATE: tuple[tuple[Change | None, Schema], ...] = (
    (KEYPAIR_USER_ID, Schema(_envelope("keypair", _CREATE_2_10, ["name"]))),
    (KEYPAIR_TYPE, Schema(_envelope("keypair", _CREATE_2_2, ["name"]))),
    (None, Schema(_envelope("keypair", _CREATE_2_1, ["name"]))),
)
"""``POST /os-keypairs``, newest first (see :func:`cumulo.api.compute.schemas.for_version`)."""
