"""Tests of cumulo/api/validation.py: a refused body names the field and what was
expected, never a secret."""

from __future__ import annotations

import pytest

from cumulo.api.errors import ValidationFailed
from cumulo.api.validation import Schema

SCHEMA = Schema(
    {
        "type": "object",
        "properties": {
            "user": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 5},
                    "password": {"type": "string", "maxLength": 8},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "kind": {"enum": ["a", "b"]},
                    "pin": {"type": "string", "pattern": "^[0-9]+$"},
                },
                "required": ["name"],
                "additionalProperties": False,
            },
            "scope": {
                "description": "a project or nothing",
                "anyOf": [{"type": "object"}, {"const": "none"}],
            },
            "ref": {"anyOf": [{"required": ["id"]}, {"required": ["name", "domain"]}]},
        },
        "required": ["user"],
        "additionalProperties": False,
    }
)


def refused(body) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as raised:
        SCHEMA.validate(body)
    return raised.value


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({}, "user", "is required"),
        ({"user": {}}, "user.name", "is required"),
        ({"user": {"name": 5}}, "user.name", "expected string, got integer"),
        ({"user": {"name": "x", "colour": 1}}, "user.colour", "is not a known field"),
        ({"user": {"name": "toolong"}}, "user.name", "expected at most 5 characters"),
        ({"user": {"name": ""}}, "user.name", "expected at least 1 character"),
        ({"user": {"name": "x", "tags": ["a", 3]}}, "user.tags[1]", "expected string, got integer"),
        ({"user": {"name": "x", "kind": "c"}}, "user.kind", "expected one of 'a', 'b'"),
        ({"user": {"name": "x", "pin": "12a"}}, "user.pin", "expected a value matching ^[0-9]+$"),
        ({"user": {"name": "x"}, "scope": 3}, "scope", "expected a project or nothing"),
        ({"user": {"name": "x"}, "ref": {"name": "n"}}, "ref", "expected id or name and domain"),
        ([], "(body)", "expected object, got array"),
    ],
)
def test_the_message_names_the_field_and_what_was_expected(body, field, problem):
    error = refused(body)
    assert (error.field, str(error)) == (field, f"Invalid input for field '{field}': {problem}")


def test_a_password_is_never_repeated():
    error = refused({"user": {"name": "x", "password": "hunter2-but-longer"}})
    assert error.field == "user.password" and "hunter2" not in str(error)


def test_a_valid_body_passes():
    SCHEMA.validate({"user": {"name": "x", "tags": ["a"]}, "scope": "none", "ref": {"id": "i"}})
