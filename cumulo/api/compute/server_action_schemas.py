"""Request bodies of ``POST /servers/{server_id}/action``, as Nova's schemas declare
them: one entry per action, the ``os-migrateLive`` one per microversion range.

A body names exactly one action; :func:`body_schema` is the schema of the whole body
at a microversion, so an unknown action, a second one or a bad value of the one
named is a 400 naming the field."""

from __future__ import annotations

from typing import Any

from ..validation import Schema
from .microversions import (
    LIVE_MIGRATE_AUTO_BLOCK,
    LIVE_MIGRATE_FORCE,
    MIN_VERSION,
    Change,
    Microversion,
    since,
)
from .schemas import for_version

ANYTHING: dict[str, Any] = {}
"""Nova reads nothing from the value of ``os-start``, ``pause``...: any value goes."""

BOOLEAN: dict[str, Any] = {
    "type": ["boolean", "string"],
    "enum": [
        True,
        "True",
        "TRUE",
        "true",
        "1",
        "ON",
        "On",
        "on",
        "YES",
        "Yes",
        "yes",
        False,
        "False",
        "FALSE",
        "false",
        "0",
        "OFF",
        "Off",
        "off",
        "NO",
        "No",
        "no",
    ],
}
"""Nova's ``parameter_types.boolean``: a JSON boolean or one of its spellings."""

HOST: dict[str, Any] = {
    "type": ["string", "null"],
    "minLength": 1,
    "maxLength": 255,
    "pattern": r"^[a-zA-Z0-9-._]*$",
}

REBOOT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["HARD", "Hard", "hard", "SOFT", "Soft", "soft"]}
    },
    "required": ["type"],
    "additionalProperties": False,
}

LOCK: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {},
    "additionalProperties": False,
}
"""``locked_reason`` comes with 2.73, above the advertised maximum."""

CONSOLE_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "length": {
            "type": ["integer", "string", "null"],
            "pattern": r"^-?[0-9]+$",
            "minimum": -1,
        }
    },
    "additionalProperties": False,
}
"""``length`` -1 or null: every line the host keeps."""


def _live_migrate(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_BLOCK_OR_AUTO: dict[str, Any] = {**BOOLEAN, "enum": [*BOOLEAN["enum"], "auto"]}

LIVE_MIGRATE: tuple[tuple[Change | None, dict[str, Any]], ...] = (
    (
        LIVE_MIGRATE_FORCE,
        _live_migrate(
            {"host": HOST, "block_migration": _BLOCK_OR_AUTO, "force": BOOLEAN},
            ["block_migration", "host"],
        ),
    ),
    (
        LIVE_MIGRATE_AUTO_BLOCK,
        _live_migrate(
            {"host": HOST, "block_migration": _BLOCK_OR_AUTO}, ["block_migration", "host"]
        ),
    ),
    (
        None,
        _live_migrate(
            {"host": HOST, "block_migration": BOOLEAN, "disk_over_commit": BOOLEAN},
            ["block_migration", "disk_over_commit", "host"],
        ),
    ),
)
"""``os-migrateLive``, newest first (``force`` leaves again at 2.68, above our maximum)."""

SIMPLE_ACTIONS = ("os-start", "os-stop", "pause", "unpause", "suspend", "resume", "unlock")


def actions_at(version: Microversion) -> dict[str, dict[str, Any]]:
    """Every action a request at ``version`` may name, with its value's schema."""
    live_migrate = next(s for c, s in LIVE_MIGRATE if c is None or since(version, c))
    return {
        **{name: ANYTHING for name in SIMPLE_ACTIONS},
        "reboot": REBOOT,
        "lock": LOCK,
        "os-getConsoleOutput": CONSOLE_OUTPUT,
        "os-migrateLive": live_migrate,
    }


def _body(version: Microversion) -> Schema:
    return Schema(
        {
            "type": "object",
            "properties": actions_at(version),
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
            "description": "exactly one action",
        }
    )


_BY_RANGE: tuple[tuple[Change | None, Schema], ...] = tuple(
    (change, _body(change.version if change else MIN_VERSION)) for change, _ in LIVE_MIGRATE
)


def body_schema(version: Microversion) -> Schema:
    """The schema of an action body at ``version`` (compiled once per range)."""
    return for_version(_BY_RANGE, version)
