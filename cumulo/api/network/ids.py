"""Neutron's UUIDs for objects whose keys are integers (security groups and their
rules): the integer is written into a UUID of a fixed prefix, one prefix per kind,
so the mapping needs no table and never changes; anything else names nothing."""

from __future__ import annotations

import uuid

_GROUP = "5ec9a0a0-0000-4000-8000-"
_RULE = "5ec9a0a1-0000-4000-8000-"
_DIGITS = 12


def _encode(prefix: str, key: int) -> str:
    return f"{prefix}{key:0{_DIGITS}x}"


def _decode(prefix: str, text: str) -> int | None:
    try:
        canonical = str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        return None
    if not canonical.startswith(prefix):
        return None
    return int(canonical[len(prefix) :], 16)


def group_uuid(group_id: int) -> str:
    return _encode(_GROUP, group_id)


def group_id_of(text: str) -> int | None:
    """The security group a UUID names, or ``None`` (not one of ours)."""
    return _decode(_GROUP, text)


def rule_uuid(rule_id: int) -> str:
    return _encode(_RULE, rule_id)


def rule_id_of(text: str) -> int | None:
    """The rule a UUID names, or ``None``."""
    return _decode(_RULE, text)
