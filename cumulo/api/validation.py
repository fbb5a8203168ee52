"""Request bodies checked against JSON Schemas (jsonschema, Draft 2020-12): a bad
body is a 400 naming the field and saying what was expected, like msgspec's
``Expected int, got str - at $.flavor.vcpus``. Values of secret fields
(passwords) are never repeated in a message, nor are long values."""

from __future__ import annotations

import base64
import binascii
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from .errors import ValidationFailed

SECRET_FIELDS = frozenset({"password", "original_password", "adminPass", "user_data"})
_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


FORMATS = FormatChecker(["uuid", "ipv4", "ipv6"])
"""The ``format`` keywords checked (jsonschema only annotates them otherwise)."""


@FORMATS.checks("base64", raises=(binascii.Error, ValueError))
def _is_base64(value: object) -> bool:
    if isinstance(value, str):
        base64.b64decode(value, validate=True)
    return True


class Schema:
    """A compiled schema; ``validate(body)`` raises ``ValidationFailed``."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        Draft202012Validator.check_schema(schema)
        self.schema = schema
        self._validator = Draft202012Validator(schema, format_checker=FORMATS)

    def validate(self, instance: Any) -> None:
        error = best_match(self._validator.iter_errors(instance))
        if error is not None:
            raise ValidationFailed(field_of(error), problem_of(error))


def field_of(error: ValidationError) -> str:
    """The dotted path of the bad value; for a missing or unknown property, the path
    of that property."""
    path = list(error.absolute_path)
    # jsonschema types these as "maybe unset"; on an error they are set.
    instance: Any = error.instance
    expected: Any = error.validator_value
    schema: Any = error.schema
    if error.validator == "required" and isinstance(instance, dict):
        missing = [name for name in expected if name not in instance]
        path.extend(missing[:1])
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(schema.get("properties", {}))
        unknown = sorted(name for name in instance if name not in known)
        path.extend(unknown[:1])
    return _dotted(path) or "(body)"


def problem_of(error: ValidationError) -> str:
    """What was expected, in a few words."""
    kind = error.validator
    expected: Any = error.validator_value
    if kind == "required":
        return "is required"
    if kind == "additionalProperties":
        return "is not a known field"
    if kind == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {wanted}, got {_json_type(error.instance)}"
    if kind == "maxLength":
        return f"expected at most {expected} characters"
    if kind == "minLength":
        return f"expected at least {expected} character{'s' if expected != 1 else ''}"
    if kind in ("enum", "const"):
        choices = expected if kind == "enum" else [expected]
        return f"expected one of {', '.join(repr(c) for c in choices)}"
    if kind == "pattern":
        return f"expected a value matching {expected}"
    if kind in ("minProperties", "maxProperties"):
        schema_: Any = error.schema
        if isinstance(schema_, dict) and "description" in schema_:
            return f"expected {schema_['description']}"
        bound = "at least" if kind == "minProperties" else "at most"
        return f"expected {bound} {expected} key{'s' if expected != 1 else ''}"
    if kind in ("minItems", "maxItems"):
        return f"expected {'at least' if kind == 'minItems' else 'at most'} {expected} items"
    if kind in ("anyOf", "oneOf"):
        schema: Any = error.schema
        if isinstance(schema, dict) and "description" in schema:
            return f"expected {schema['description']}"
        if _only_required(expected):
            alternatives = [" and ".join(s["required"]) for s in expected]
            return f"expected {' or '.join(alternatives)}"
        return f"matches none of the {len(expected)} accepted forms"
    if SECRET_FIELDS & {str(p) for p in error.absolute_path} or len(error.message) > 200:
        return f"does not match the schema ({kind})"
    return str(error.message)


def _only_required(schemas: Iterable[Any]) -> bool:
    return all(isinstance(s, dict) and set(s) == {"required"} for s in schemas)


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _dotted(path: list[Any] | deque[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
