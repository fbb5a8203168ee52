"""amqp:// against a port where no broker listens: clear, bounded failures."""

from __future__ import annotations

import socket
import time

import pytest

from cumulo.rpc import MessageDeliveryFailure, RequestContext, RPCClient, Target, get_transport


@pytest.fixture
def dead_url():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"amqp://guest:guest@127.0.0.1:{port}//?retry_interval=0.05&connect_timeout=0.5"


def test_a_cast_fails_within_its_timeout_naming_the_broker(dead_url):
    transport = get_transport(dead_url)
    client = RPCClient(transport, Target("compute"), timeout=0.5)
    start = time.monotonic()
    with pytest.raises(MessageDeliveryFailure, match=r"RabbitMQ at 127.0.0.1:\d+ unreachable"):
        client.cast(RequestContext(), "ping")
    assert time.monotonic() - start < 3


def test_a_call_fails_within_its_timeout_naming_the_reply_queue(dead_url):
    transport = get_transport(dead_url)
    client = RPCClient(transport, Target("compute"), timeout=0.5)
    start = time.monotonic()
    with pytest.raises(MessageDeliveryFailure, match=r"cannot receive replies: RabbitMQ at"):
        client.call(RequestContext(), "ping")
    assert time.monotonic() - start < 3
    client.close()
