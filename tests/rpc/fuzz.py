"""Hypothesis strategies for bodies a conductor may be sent (random bytes, random
JSON, valid requests mutated, deep nesting), and the check that each one gets a
reply; shared by the inproc:// and the amqp:// fuzz tests."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from hypothesis import strategies as st

from cumulo.conductor.rpcapi import API_VERSION, TOPIC
from cumulo.model import Instance
from cumulo.rpc import MessagingTimeout, RequestContext, Target, Transport
from cumulo.rpc.admin import API_VERSION as ADMIN_VERSION
from cumulo.rpc.admin import NAMESPACE as ADMIN_NAMESPACE
from cumulo.rpc.wire import Failure, Result

CONDUCTOR = Target(topic=TOPIC)

REPLY_WITHIN = 10.0
"""How long a fuzzed call may wait for its reply (a healthy one takes milliseconds)."""


def _context() -> dict[str, Any]:
    return RequestContext(user_id="fuzz", project_id="fuzz", roles=["member"]).to_dict()


VALID: list[dict[str, Any]] = [
    {"method": "ping", "args": {"arg": 42}, "context": _context(), "version": API_VERSION},
    {
        "method": "object_class_action_versions",
        "args": {
            "objname": "Instance",
            "objmethod": "get_by_uuid",
            "object_versions": Instance.obj_tree_get_versions(),
            "args": [str(uuid.UUID(int=7))],
            "kwargs": {},
        },
        "context": _context(),
        "version": API_VERSION,
        "heartbeat": 5.0,
    },
    {
        "method": "metrics",
        "args": {},
        "context": _context(),
        "namespace": ADMIN_NAMESPACE,
        "version": ADMIN_VERSION,
    },
]
"""Requests a conductor serves (a ping, a class action, the admin metrics)."""

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

_KEYS = st.sampled_from(
    ["method", "args", "context", "version", "namespace", "heartbeat", "roles", "user_id",
     "request_id", "is_admin", "objname", "objmethod", "object_versions", "kwargs", "arg"]
)  # fmt: skip


def _containers(value: Any) -> list[dict[str, Any]]:
    """Every dict in ``value`` (the places a mutation may edit)."""
    found: list[dict[str, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


@st.composite
def mutated_requests(draw: st.DrawFn) -> bytes:
    """A valid request with one to three fields dropped, replaced, renamed or
    nested, then perhaps truncated or with a byte changed."""
    body = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        container = draw(st.sampled_from(_containers(body)))
        kind = draw(st.sampled_from(["drop", "replace", "add", "nest"]))
        key = draw(st.sampled_from(sorted(container)) if container else _KEYS)
        if kind == "drop":
            container.pop(key, None)
        elif kind == "replace":
            container[key] = draw(json_values)
        elif kind == "add":
            container[draw(_KEYS | st.text(max_size=8))] = draw(json_values)
        else:
            value: Any = container.get(key)
            for _ in range(draw(st.integers(1, 80))):
                value = [value]
            container[key] = value
    text = json.dumps(body).encode()
    damage = draw(st.sampled_from(["none", "none", "truncate", "byte"]))
    if damage == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == "byte":
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + bytes([draw(st.integers(0, 255))]) + text[at + 1 :]
    return text


deep_bodies = st.integers(60, 5000).map(
    lambda depth: (
        '{"method": "ping", "args": {"arg": ' + "[" * depth + "]" * depth + '}, "context": {}}'
    ).encode()
)

bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    mutated_requests(),
    deep_bodies,
)
"""Anything a peer (or an attacker on the bus) might send a conductor."""


def call_raw(transport: Transport, body: bytes) -> Result | Failure:
    """``body`` sent as a call to the conductor, bypassing the client's checks.

    Fails the test when no reply comes within :data:`REPLY_WITHIN`.
    """
    channel = transport.reply_channel()
    try:
        return channel.call(CONDUCTOR, body, REPLY_WITHIN, lambda: f"a call of {body[:60]!r}")
    except MessagingTimeout as exc:
        raise AssertionError(f"no reply to {body[:200]!r}: {exc}") from None
    finally:
        channel.close()


def assert_still_serving(transport: Transport) -> None:
    """A good call still gets its result."""
    body = json.dumps(VALID[0]).encode()
    reply = call_raw(transport, body)
    assert reply == Result({"service": "conductor", "arg": 42}), reply
