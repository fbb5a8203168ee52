"""RPCServer: lifecycle, bad messages, and failures of casts."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from cumulo.rpc import (
    InvalidTarget,
    MessagingTimeout,
    RequestContext,
    RPCClient,
    RPCServer,
    Target,
)
from cumulo.rpc.transport.base import Incoming
from cumulo.rpc.wire import Failure, Request, Result, decode_reply, encode_request


class Endpoint:
    def __init__(self) -> None:
        self.started = threading.Event()
        self.cast_done = threading.Event()

    def echo(self, ctx, value):
        return value

    def slow(self, ctx, seconds):
        self.started.set()
        time.sleep(seconds)
        return "finished"

    def explode(self, ctx):
        self.cast_done.set()
        raise RuntimeError("cast went wrong")


class Captured(Incoming):
    """An incoming call whose reply is kept, to feed the server raw bytes."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.replies: list[bytes] = []

    @property
    def expects_reply(self) -> bool:
        return True

    def reply(self, body: bytes) -> None:
        self.replies.append(body)

    def heartbeat(self) -> None:
        pass


def process(server: RPCServer, body: bytes) -> Result | Failure:
    incoming = Captured(body)
    server.process(incoming)
    (reply,) = incoming.replies
    decoded = decode_reply(reply)
    assert not isinstance(decoded, type(None))
    return decoded  # type: ignore[return-value]


@pytest.fixture
def server(transport):
    return RPCServer(transport, Target("compute"), [Endpoint()])


def test_garbage_bytes_get_a_clear_failure(server):
    reply = process(server, b"\x00\xffnot json")
    assert isinstance(reply, Failure)
    assert reply.type == "cumulo.rpc.exceptions.InvalidMessage"
    assert "request is not valid JSON" in reply.message


def test_a_malformed_envelope_names_the_bad_field(server):
    reply = process(server, b'{"method": 3, "args": {}, "context": {}}')
    assert isinstance(reply, Failure)
    assert reply.message == "malformed request envelope: Expected `str`, got `int` - at $.method"


def test_a_malformed_context_names_the_bad_field(server):
    body = encode_request(Request("echo", {"value": 1}, {"roles": "admin"}))
    reply = process(server, body)
    assert isinstance(reply, Failure)
    assert "malformed request context" in reply.message
    assert "at $.context.roles" in reply.message


def test_a_good_request_processed_directly(server):
    body = encode_request(Request("echo", {"value": [1]}, RequestContext().to_dict()))
    assert process(server, body) == Result([1])


def test_a_failing_cast_is_logged_not_raised(transport, serve, ctx, caplog):
    endpoint = Endpoint()
    serve(transport, Target("compute"), [endpoint])
    client = RPCClient(transport, Target("compute"))
    with caplog.at_level(logging.ERROR, logger="cumulo.rpc.server"):
        client.cast(ctx, "explode")
        assert endpoint.cast_done.wait(5)
        assert client.call(ctx, "echo", value=1) == 1  # the server goes on
        deadline = time.monotonic() + 5
        while "cast explode() on" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.01)
    assert ctx.request_id in caplog.text and "cast went wrong" in caplog.text


def test_stop_takes_no_new_calls_and_wait_finishes_the_running_ones(pooled_transport, ctx):
    endpoint = Endpoint()
    server = RPCServer(pooled_transport, Target("compute"), [endpoint]).start()
    client = RPCClient(pooled_transport, Target("compute"), timeout=5)
    results: list[object] = []
    running = threading.Thread(target=lambda: results.append(client.call(ctx, "slow", seconds=0.3)))
    running.start()
    assert endpoint.started.wait(5)
    server.stop()
    with pytest.raises(MessagingTimeout, match="no server listens"):
        client.prepare(timeout=0.1).call(ctx, "echo", value=1)
    server.wait()
    running.join(5)
    assert results == ["finished"]


def test_a_server_can_be_restarted_and_used_as_a_context_manager(transport, ctx):
    server = RPCServer(transport, Target("compute"), [Endpoint()])
    client = RPCClient(transport, Target("compute"), timeout=5)
    for _ in range(2):
        with server:
            assert client.call(ctx, "echo", value="up") == "up"
    assert server.start() is server.start()  # starting twice is harmless
    server.stop()
    server.wait()


def test_a_server_needs_a_topic(transport):
    with pytest.raises(InvalidTarget, match="needs a topic"):
        RPCServer(transport, Target(server="h1"), [Endpoint()])


def test_casts_sent_before_the_server_starts_are_delivered_when_it_does(transport, ctx):
    endpoint = Endpoint()
    RPCClient(transport, Target("compute")).cast(ctx, "explode")
    with RPCServer(transport, Target("compute"), [endpoint]):
        assert endpoint.cast_done.wait(5)
