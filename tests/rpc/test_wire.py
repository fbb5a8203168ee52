"""The envelopes: requests, results, failures and heartbeats as msgspec JSON."""

from __future__ import annotations

import pytest

from cumulo.rpc import InvalidMessage
from cumulo.rpc.wire import (
    HEARTBEAT_BODY,
    HEARTBEAT_TEXT,
    Failure,
    Heartbeat,
    Request,
    Result,
    decode_reply,
    decode_request,
    encode_reply,
    encode_request,
)


def test_request_round_trip_and_defaults_left_out():
    request = Request("reboot", {"instance": {"uuid": "u"}}, {"user_id": "a"}, version="5.1")
    body = encode_request(request)
    assert b"namespace" not in body and b"heartbeat" not in body
    assert decode_request(body) == request
    assert decode_request(body.decode()) == request


def test_unknown_request_fields_from_newer_peers_are_ignored():
    body = b'{"method":"m","args":{},"context":{},"priority":"high"}'
    assert decode_request(body) == Request("m", {}, {})


def test_replies_are_tagged():
    for reply in (Result({"a": 1}), Result(None), Failure("m.E", "boom", "tb", ["boom"], {"x": 1})):
        assert decode_reply(encode_reply(reply)) == reply
    assert decode_reply(HEARTBEAT_BODY) == Heartbeat()
    assert HEARTBEAT_BODY.decode() == HEARTBEAT_TEXT


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "malformed reply envelope: Expected `object`, got `array` - at $"),
        (b'{"kind": "maybe"}', "malformed reply envelope: Invalid value 'maybe' - at $.kind"),
        (b"{", "reply is not valid JSON"),
    ],
)
def test_bad_replies_are_invalid_messages(body, message):
    with pytest.raises(InvalidMessage, match="^" + message.replace("$", r"\$").replace("[", r"\[")):
        decode_reply(body)


def test_a_result_that_cannot_be_encoded_becomes_a_failure():
    reply = decode_reply(encode_reply(Result(object())))
    assert isinstance(reply, Failure)
    assert reply.type == "cumulo.rpc.exceptions.InvalidMessage"
    assert "the result cannot be sent back" in reply.message
