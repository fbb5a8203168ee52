"""Bad requests and what a server must answer to each, shared by the inproc:// unit
tests and the amqp:// integration tests.

The server they are sent to serves :class:`Endpoint` (version 1.2, objects of
``sample_objects``' ``NEW`` registry) on a transport with the default limits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cumulo.rpc import Target
from tests.rpc.sample_objects import SERIAL_NAMESPACE, Widget


class Endpoint:
    """A conductor-style endpoint: plain values and versioned objects."""

    target = Target(version="1.2")

    def echo(self, ctx, value):
        return value

    def rename(self, ctx, widget: Widget, name: str) -> Widget:
        widget.name = name
        return widget

    def huge(self, ctx, size: int) -> str:
        return "x" * size

    def _secret(self, ctx):
        return "never served"


CONTEXT = {"user_id": "u1", "project_id": "p1", "roles": ["member"], "request_id": "req-bad"}


def envelope(**fields: Any) -> bytes:
    """A request envelope with ``fields`` changed (``None`` removes a field)."""
    body: dict[str, Any] = {
        "method": "echo",
        "args": {"value": 1},
        "context": dict(CONTEXT),
        "version": "1.0",
    }
    for name, value in fields.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return json.dumps(body).encode()


def raw(text: str) -> bytes:
    return text.encode()


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def widget_primitive(**data: Any) -> dict[str, Any]:
    return {
        f"{SERIAL_NAMESPACE}.name": "Widget",
        f"{SERIAL_NAMESPACE}.namespace": "cumulo_rpc_test",
        f"{SERIAL_NAMESPACE}.version": "1.1",
        f"{SERIAL_NAMESPACE}.data": data,
    }


@dataclass(frozen=True)
class Case:
    id: str
    body: bytes
    error: str
    """The remote exception's class name."""
    says: str
    """A fragment of its message (what was wrong and where)."""


CASES = [
    Case("empty", b"", "InvalidMessage", "empty request"),
    Case("blank", b" \n\t", "InvalidMessage", "empty request"),
    Case("not-json", b"{method: echo", "InvalidMessage", "request is not valid JSON"),
    Case("binary", b"\x00\xff\xfe garbage", "InvalidMessage", "request is not valid JSON"),
    Case("truncated", envelope()[:-3], "InvalidMessage", "request is not valid JSON"),
    Case("array", b"[1, 2]", "InvalidMessage", "Expected `object`, got `array` - at $"),
    Case("null", b"null", "InvalidMessage", "Expected `object`, got `null` - at $"),
    Case("string", b'"echo"', "InvalidMessage", "Expected `object`, got `str` - at $"),
    Case("no-method", envelope(method=None), "InvalidMessage", "missing required field `method`"),
    Case("method-int", envelope(method=3), "InvalidMessage", "got `int` - at $.method"),
    Case("method-empty", envelope(method=""), "InvalidMessage", "length >= 1 - at $.method"),
    Case("method-long", envelope(method="m" * 300), "InvalidMessage", "<= 255 - at $.method"),
    Case("no-args", envelope(args=None), "InvalidMessage", "missing required field `args`"),
    Case("args-list", envelope(args=[1]), "InvalidMessage", "got `array` - at $.args"),
    Case("context-str", envelope(context="admin"), "InvalidMessage", "at $.context"),
    Case("version-int", envelope(version=1), "InvalidMessage", "got `int` - at $.version"),
    Case("version-bad", envelope(version="1"), "InvalidTarget", "invalid RPC version '1'"),
    Case("version-digits", envelope(version="\u00b2.0"), "InvalidTarget", "invalid RPC version"),
    Case("version-new", envelope(version="1.3"), "UnsupportedVersion", "RPC version 1.3"),
    Case("version-major", envelope(version="2.0"), "UnsupportedVersion", "RPC version 2.0"),
    Case("namespace-int", envelope(namespace=7), "InvalidMessage", "at $.namespace"),
    Case("namespace-unknown", envelope(namespace="nope"), "UnsupportedVersion", "namespace nope"),
    Case("no-such-method", envelope(method="nope"), "NoSuchMethod", "method 'nope'"),
    Case("private-method", envelope(method="_secret"), "NoSuchMethod", "method '_secret'"),
    Case("heartbeat-negative", envelope(heartbeat=-1), "InvalidMessage", "at $.heartbeat"),
    Case(
        "context-roles",
        envelope(context={**CONTEXT, "roles": "admin"}),
        "InvalidMessage",
        "malformed request context: Expected `array`, got `str` - at $.context.roles",
    ),
    Case(
        "missing-argument",
        envelope(args={}),
        "InvalidArguments",
        "bad arguments for echo(): missing a required argument: 'value' - at $.args",
    ),
    Case(
        "unexpected-argument",
        envelope(args={"value": 1, "colour": "red"}),
        "InvalidArguments",
        "unexpected keyword argument 'colour' - at $.args",
    ),
    Case(
        "object-bad-field",
        envelope(method="rename", args={"widget": widget_primitive(name=5), "name": "w"}),
        "DeserializationError",
        "- at $.args.widget.name",
    ),
    Case(
        "object-unknown",
        envelope(
            method="rename",
            args={"widget": {**widget_primitive(name="w"), f"{SERIAL_NAMESPACE}.name": "Nope"}},
        ),
        "UnsupportedObjectError",
        "- at $.args.widget",
    ),
    Case(
        "deep-args",
        raw('{"method": "echo", "args": {"value": ' + nested(1000) + '}, "context": {}}'),
        "MessageTooDeep",
        "request is nested more than 64 levels deep (the transport URL's max_depth) - at "
        "$.args.value[0][0][0][0]...",
    ),
    Case(
        "deep-context",
        raw('{"method": "echo", "args": {}, "context": {"x": ' + nested(100_000) + "}}"),
        "MessageTooDeep",
        "- at $.context.x[0][0][0][0]...",
    ),
    Case(
        "deep-objects",
        raw('{"method": "echo", "args": {"value": ' + '{"a": ' * 70 + "1" + "}" * 70 + "}}"),
        "MessageTooDeep",
        "- at $.args.value.a.a.a.a...",
    ),
    Case("deep-unclosed", b"[" * 200_000, "MessageTooDeep", "at $[0][0][0][0][0][0]..."),
    Case(
        "brackets-in-strings-then-deep",
        raw('{"method": "echo", "args": {"s": "[[[[\\"[[", "v": ' + nested(70) + "}}"),
        "MessageTooDeep",
        "- at $.args.v[0]",
    ),
]
