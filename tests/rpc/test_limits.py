"""MessageLimits: sizes, nesting depth on raw JSON bytes, and where a body goes too deep."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cumulo.rpc import (
    MessageLimits,
    MessageTooDeep,
    MessageTooLarge,
    TransportURLError,
    get_transport,
)
from cumulo.rpc.limits import deep_path, deeper_than, nesting_depth, parse_size, printable


@pytest.mark.parametrize(
    ("text", "size"),
    [("100", 100), ("4MiB", 4 << 20), ("512 KiB", 512 << 10), ("1g", 1 << 30), ("2mb", 2 << 20)],
)
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-1", "1.5MiB", "4 TiB"])
def test_bad_sizes(text):
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'["[[[[", "\\"[[", "\\\\", [[]]]', 3),  # brackets in strings do not count
        (b"[" * 10_000, 10_000),  # not JSON, still bounded
    ],
)
def test_nesting_depth(body, depth):
    assert nesting_depth(body) == depth


def _nest(value, depth):
    for _ in range(depth):
        value = [value]
    return value


json_values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab,:', max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text('[]{}"\\', max_size=3), c),
    max_leaves=30,
)


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_the_depth_of_any_json_is_counted_exactly(value):
    assert nesting_depth(json.dumps(value).encode()) == _depth(value)


def test_the_path_of_a_too_deep_value():
    body = json.dumps({"method": "m", "args": {"a": 1, "instance": {"x": [0, _nest(1, 5)]}}})
    assert deep_path(body.encode(), 5) == "$.args.instance.x[1][0]"
    long = json.dumps({"args": {"v": _nest(1, 100)}}).encode()
    assert deep_path(long, 64) == "$.args.v[0][0][0][0]..."


def test_keys_in_paths_are_short_and_on_one_line():
    body = json.dumps({"k\ney" * 30: _nest(1, 5)}).encode()
    path = deep_path(body, 3)
    assert "\n" not in path and len(path) < 80


def test_check_refuses_over_the_limits():
    limits = MessageLimits(max_message_size=100, max_depth=4)
    limits.check(b"[[[[]]]]", "request")
    with pytest.raises(MessageTooDeep, match=r"reply is nested more than 4 levels deep.*at \$"):
        limits.check(b"[[[[[]]]]]", "reply")
    with pytest.raises(MessageTooLarge, match="request of 101 bytes is over the limit of 100"):
        limits.check(b" " * 101, "request")


def test_printable_escapes_and_truncates():
    assert printable("a\nb") == "a\\nb"
    assert printable("x" * 1000, 10) == "xxxxxxx..."


def test_inproc_urls_take_the_limits():
    transport = get_transport("inproc://limits?max_message_size=1MiB&max_depth=16")
    assert transport.limits == MessageLimits(1 << 20, 16)
    with pytest.raises(TransportURLError, match="max_message_size='big'"):
        get_transport("inproc://limits?max_message_size=big")
    with pytest.raises(TransportURLError, match="max_depth must be at least 2"):
        get_transport("inproc://limits?max_depth=0")


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(2, 12))
def test_deeper_than_agrees_with_the_exact_depth(value, limit):
    body = json.dumps(value).encode()
    assert deeper_than(body, limit) == (_depth(value) > limit)


@pytest.mark.parametrize("body", [b"][" * 50, b"[}" * 50, b"[[[" + b"]" * 100, b"}{" * 80])
def test_deeper_than_on_brackets_that_do_not_pair(body):
    assert deeper_than(body, 8) == (nesting_depth(body) > 8)
