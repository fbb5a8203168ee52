"""inproc://: buses by name, direct and pooled calls, backlogged casts."""

from __future__ import annotations

import threading
import uuid

import pytest

from cumulo.rpc import RPCClient, Target, TransportURLError, get_transport
from cumulo.rpc.transport.inproc import InprocTransport


class Where:
    def thread(self, ctx):
        return threading.get_ident()


def bus() -> str:
    return f"inproc://bus-{uuid.uuid4().hex}"


def test_direct_calls_run_in_the_callers_thread(serve, ctx):
    transport = get_transport(bus())
    serve(transport, Target("t"), [Where()])
    assert RPCClient(transport, Target("t")).call(ctx, "thread") == threading.get_ident()


def test_pooled_calls_run_on_the_servers_threads(serve, ctx):
    transport = get_transport(bus() + "?calls=pool")
    serve(transport, Target("t"), [Where()])
    assert RPCClient(transport, Target("t")).call(ctx, "thread") != threading.get_ident()


def test_a_call_creates_no_thread(serve, ctx):
    transport = get_transport(bus())
    serve(transport, Target("t"), [Where()])
    client = RPCClient(transport, Target("t"))
    client.call(ctx, "thread")
    before = threading.active_count()
    for _ in range(50):
        client.call(ctx, "thread")
    assert threading.active_count() == before


def test_buses_are_separate_by_name(serve, ctx):
    name = bus()
    serve(get_transport(name), Target("t"), [Where()])
    client = RPCClient(get_transport(bus()), Target("t"), timeout=0.05)
    with pytest.raises(Exception, match="no server listens"):
        client.call(ctx, "thread")
    assert RPCClient(get_transport(name), Target("t")).call(ctx, "thread")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("inproc://x?calls=threads", "calls='threads'"),
        ("inproc://x?colour=red", "unknown option"),
        ("amqp-ish://x", "unsupported transport URL"),
    ],
)
def test_bad_urls_are_refused(url, message):
    with pytest.raises(TransportURLError, match=message):
        get_transport(url)


def test_the_transport_type_and_mode():
    transport = get_transport("inproc://named?calls=pool")
    assert isinstance(transport, InprocTransport) and transport.pooled
    assert "inproc://named" in repr(transport)
    with pytest.raises(TransportURLError):
        InprocTransport("amqp://x")


def test_fanout_casts_with_no_server_reach_nobody(serve, ctx):
    transport = get_transport(bus())
    RPCClient(transport, Target("t")).prepare(fanout=True).cast(ctx, "thread")
    seen = threading.Event()

    class Probe:
        def thread(self, ctx):
            seen.set()

    serve(transport, Target("t"), [Probe()])
    assert not seen.wait(0.1)
