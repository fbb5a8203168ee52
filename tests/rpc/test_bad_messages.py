"""Every call gets a reply, whatever its body: bad requests over inproc:// (both
call modes) come back as typed errors naming what was wrong and where, are logged
once at warning without the body, and the server goes on serving."""

from __future__ import annotations

import logging
import uuid

import pytest

from cumulo.rpc import (
    InvalidArguments,
    MessageTooDeep,
    MessageTooLarge,
    ObjectSerializer,
    RequestContext,
    RPCClient,
    RPCServer,
    Target,
    Transport,
    get_transport,
)
from cumulo.rpc.remote_errors import exception_from_failure
from cumulo.rpc.wire import Failure, Request, Result, encode_request
from tests.rpc.bad_messages import CASES, CONTEXT, Case, Endpoint, envelope, nested
from tests.rpc.sample_objects import NewObject, Widget

TARGET = Target("svc")


def start(transport: Transport) -> RPCServer:
    return RPCServer(transport, TARGET, [Endpoint()], ObjectSerializer(NewObject)).start()


@pytest.fixture
def served(transport):
    server = start(transport)
    yield transport
    server.stop()
    server.wait()


def send_raw(transport: Transport, body: bytes, timeout: float = 5) -> Result | Failure:
    """``body`` as a call, bypassing the client's checks, and the reply it got."""
    return transport.reply_channel().call(TARGET, body, timeout, lambda: "a raw call")


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_request_gets_a_typed_error_naming_what_and_where(served, caplog, case: Case):
    with caplog.at_level(logging.WARNING, logger="cumulo.rpc"):
        reply = send_raw(served, case.body)
    assert isinstance(reply, Failure), reply
    assert reply.type.rsplit(".", 1)[1] == case.error
    assert case.says in reply.message
    # The caller gets what was wrong, not the server's stack.
    assert "File " not in reply.traceback
    (logged,) = warnings(caplog)
    assert "refused a request from a client in this process" in logged.getMessage()
    assert case.says[:40] in logged.getMessage() or case.error in logged.getMessage()
    # And the server serves the next good call.
    client = RPCClient(served, TARGET, timeout=5)
    assert client.call(RequestContext(), "echo", value="still here") == "still here"


def test_the_errors_are_typed_on_the_calling_side(served):
    reply = send_raw(served, envelope(args={}))
    assert isinstance(reply, Failure)
    exc = exception_from_failure(reply)
    assert isinstance(exc, InvalidArguments) and isinstance(exc, TypeError)
    assert exc.path == "$.args"
    reply = send_raw(
        served, b'{"method": "echo", "args": {"value": ' + nested(100).encode() + b"}}"
    )
    assert isinstance(reply, Failure)
    exc = exception_from_failure(reply)
    assert isinstance(exc, MessageTooDeep)
    assert exc.limit == 64 and exc.path.startswith("$.args.value[0]")


def test_nesting_up_to_the_limit_is_served(served, ctx):
    # The envelope and its args are two levels: a value may nest 62 more.
    client = RPCClient(served, TARGET, timeout=5)
    value = 1
    for _ in range(62):
        value = [value]
    assert client.call(ctx, "echo", value=value) == value
    with pytest.raises(MessageTooDeep, match=r"request is nested more than 64 levels"):
        client.call(ctx, "echo", value=[value])


def test_the_body_and_its_secrets_are_never_logged(served, caplog):
    secret = "s3cr3t-password-in-the-body"
    bodies = [
        envelope(context={**CONTEXT, "roles": "admin", "auth_token": secret}),
        envelope(method="nope", args={"password": secret}),
        b'{"method": "echo", "args": {"password": "' + secret.encode() + b'"',
        envelope(args={"value": secret, "extra": secret}),
    ]
    with caplog.at_level(logging.DEBUG, logger="cumulo.rpc"):
        for body in bodies:
            reply = send_raw(served, body)
            assert isinstance(reply, Failure)
            assert secret not in reply.message
    assert len(warnings(caplog)) == len(bodies)
    assert secret not in caplog.text


def test_a_bad_cast_is_logged_and_dropped(transport, caplog, ctx):
    server = start(transport)
    with caplog.at_level(logging.WARNING, logger="cumulo.rpc"):
        transport.cast(TARGET, b"{not json", None)
        transport.cast(TARGET, envelope(method="nope"), None)
        client = RPCClient(transport, TARGET, timeout=5)
        assert client.call(ctx, "echo", value=2) == 2
        server.stop()
        server.wait()  # the casts ran on the server's threads
    dropped = [r.getMessage() for r in warnings(caplog)]
    assert len(dropped) == 2
    assert all("dropped a bad message with no reply address from a client" in m for m in dropped)
    assert "request is not valid JSON" in dropped[0] or "request is not valid JSON" in dropped[1]


def test_the_client_refuses_an_oversized_request_before_sending(ctx):
    url = f"inproc://limits-{uuid.uuid4().hex}?max_message_size=1KiB"
    transport = get_transport(url)
    endpoint = Endpoint()
    seen: list[object] = []
    endpoint.echo = lambda ctx, value: seen.append(value) or value  # type: ignore[method-assign]
    with RPCServer(transport, TARGET, [endpoint]):
        client = RPCClient(transport, TARGET, timeout=5)
        assert client.call(ctx, "echo", value="x" * 500) == "x" * 500
        with pytest.raises(MessageTooLarge) as refused:
            client.call(ctx, "echo", value="x" * 2000)
        assert "is over the limit of 1024 bytes (the transport URL's max_message_size)" in str(
            refused.value
        )
        assert refused.value.limit == 1024 and refused.value.size > 2000
        with pytest.raises(MessageTooLarge):
            client.cast(ctx, "echo", value="x" * 2000)
    assert seen == ["x" * 500]


def test_a_server_refuses_an_oversized_request_at_once(ctx):
    name = f"limits-{uuid.uuid4().hex}"
    server_side = get_transport(f"inproc://{name}?max_message_size=2KiB&calls=pool")
    sender = get_transport(f"inproc://{name}?max_message_size=1MiB&calls=pool")
    with RPCServer(server_side, TARGET, [Endpoint()]):
        client = RPCClient(sender, TARGET, timeout=30)
        with pytest.raises(
            MessageTooLarge, match=r"request of 5[0-9]{3} bytes is over the limit of 2048 bytes"
        ):
            client.call(ctx, "echo", value="y" * 5000)
        assert client.call(ctx, "echo", value="small") == "small"


def test_a_reply_over_the_limit_becomes_an_error(ctx):
    transport = get_transport(f"inproc://limits-{uuid.uuid4().hex}?max_message_size=4KiB")
    with RPCServer(transport, TARGET, [Endpoint()]):
        client = RPCClient(transport, TARGET, timeout=5)
        assert len(client.call(ctx, "huge", size=1000)) == 1000
        with pytest.raises(MessageTooLarge, match=r"the reply to huge\(\) of \d+ bytes is over"):
            client.call(ctx, "huge", size=10_000)


def test_objects_arguments_still_travel(served, ctx):
    client = RPCClient(served, TARGET, serializer=ObjectSerializer(NewObject), timeout=5)
    renamed = client.call(ctx, "rename", widget=Widget(name="a"), name="b")
    assert isinstance(renamed, Widget) and renamed.name == "b"


def test_a_request_encoded_by_hand_is_served(served):
    body = encode_request(Request("echo", {"value": [1]}, RequestContext().to_dict()))
    assert send_raw(served, body) == Result([1])
