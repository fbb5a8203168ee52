"""RPCClient: call, cast, fanout, prepare, and the version cap enforced locally."""

from __future__ import annotations

import threading
import uuid

import pytest

from cumulo.rpc import (
    InvalidMessage,
    InvalidTarget,
    RPCClient,
    RPCVersionCapError,
    Target,
    get_transport,
)


class Recorder:
    """Records what it receives; ``seen`` is set on each cast."""

    target = Target(version="1.5")

    def __init__(self, name: str = "h1") -> None:
        self.name = name
        self.calls: list[tuple[str, object]] = []
        self.seen = threading.Event()
        self.lock = threading.Lock()

    def echo(self, ctx, value):
        with self.lock:
            self.calls.append(("echo", value))
        return value

    def whoami(self, ctx):
        return self.name

    def note(self, ctx, value):
        with self.lock:
            self.calls.append(("note", value))
        self.seen.set()


@pytest.fixture
def recorder(transport, serve):
    endpoint = Recorder()
    serve(transport, Target("compute", server="h1"), [endpoint])
    return endpoint


def test_call_returns_the_result(transport, recorder, ctx):
    client = RPCClient(transport, Target("compute"))
    assert client.call(ctx, "echo", value={"a": [1, 2.5, None, True, "x"]}) == {
        "a": [1, 2.5, None, True, "x"]
    }


def test_values_cross_as_they_would_on_the_wire(transport, recorder, ctx):
    # Tuples become lists and UUIDs strings, as msgspec JSON makes them.
    client = RPCClient(transport, Target("compute"))
    an_id = uuid.uuid4()
    assert client.call(ctx, "echo", value=(1, an_id)) == [1, str(an_id)]


def test_an_argument_that_cannot_cross_is_named(transport, recorder, ctx):
    client = RPCClient(transport, Target("compute"))
    with pytest.raises(InvalidMessage, match=r"argument 'value' of echo\(\) cannot be sent"):
        client.call(ctx, "echo", value=object())
    assert recorder.calls == []


def test_cast_runs_on_the_server_without_waiting(transport, recorder, ctx):
    RPCClient(transport, Target("compute")).cast(ctx, "note", value=7)
    assert recorder.seen.wait(5)
    assert recorder.calls == [("note", 7)]


def test_prepare_server_addresses_one_host(transport, serve, ctx):
    for name in ("h1", "h2"):
        serve(transport, Target("compute", server=name), [Recorder(name)])
    client = RPCClient(transport, Target("compute"))
    assert client.prepare(server="h2").call(ctx, "whoami") == "h2"
    assert client.prepare(server="h1").call(ctx, "whoami") == "h1"
    # Without a server, the topic's servers take turns.
    assert {client.call(ctx, "whoami") for _ in range(6)} == {"h1", "h2"}


def test_fanout_cast_reaches_every_server_on_the_topic(transport, serve, ctx):
    endpoints = [Recorder(name) for name in ("h1", "h2", "h3")]
    for endpoint in endpoints:
        serve(transport, Target("compute", server=endpoint.name), [endpoint])
    RPCClient(transport, Target("compute")).prepare(fanout=True).cast(ctx, "note", value="all")
    for endpoint in endpoints:
        assert endpoint.seen.wait(5), endpoint.name
        assert endpoint.calls == [("note", "all")]


def test_call_to_a_fanout_target_is_refused(transport, recorder, ctx):
    client = RPCClient(transport, Target("compute", fanout=True))
    with pytest.raises(InvalidTarget, match="fanout"):
        client.call(ctx, "echo", value=1)


def test_prepare_returns_a_new_context_and_leaves_the_client_alone(transport):
    client = RPCClient(transport, Target("compute", version="1.0"), timeout=30)
    prepared = client.prepare(server="h1", version="1.3", timeout=2, namespace="ns")
    assert prepared.target == Target("compute", server="h1", version="1.3", namespace="ns")
    assert prepared.timeout == 2
    assert client.target == Target("compute", version="1.0") and client.timeout == 30
    assert prepared.prepare(server=None).target.server is None
    assert prepared.prepare(topic="other").target.topic == "other"
    assert prepared.transport is transport


def test_version_cap_is_enforced_before_sending(transport, recorder, ctx):
    client = RPCClient(transport, Target("compute", version="1.0"), version_cap="1.3")
    assert client.prepare(version="1.3").call(ctx, "echo", value=1) == 1
    for version in ("1.4", "2.0"):
        with pytest.raises(RPCVersionCapError) as err:
            client.prepare(version=version).call(ctx, "echo", value=2)
        assert (err.value.version, err.value.version_cap) == (version, "1.3")
        with pytest.raises(RPCVersionCapError):
            client.prepare(version=version).cast(ctx, "note", value=2)
    assert recorder.calls == [("echo", 1)]  # nothing else reached the server


def test_can_send_version(transport):
    client = RPCClient(transport, Target("compute", version="1.2"), version_cap="1.3")
    assert client.can_send_version()
    assert client.can_send_version("1.3")
    assert not client.can_send_version("1.4")
    assert not client.can_send_version("2.0")
    assert not client.prepare(version="1.5").can_send_version()
    assert client.prepare(version_cap=None).can_send_version("9.9")
    assert RPCClient(transport, Target("compute")).can_send_version("7.1")


def test_a_downgrade_ladder_with_can_send_version(transport, recorder, ctx):
    # How a compute rpcapi talks to an older peer: step down while the cap says no.
    client = RPCClient(transport, Target("compute"), version_cap="1.2")
    version = next(v for v in ("1.5", "1.4", "1.2") if client.can_send_version(v))
    assert client.prepare(version=version).call(ctx, "echo", value=version) == "1.2"


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_timeouts_must_be_positive(transport, timeout):
    with pytest.raises(ValueError, match="timeout must be a positive"):
        RPCClient(transport, Target("compute"), timeout=timeout)


def test_a_bad_version_cap_is_refused(transport):
    with pytest.raises(InvalidTarget):
        RPCClient(transport, Target("compute"), version_cap="latest")


def test_close_releases_the_reply_channel(transport, recorder, ctx):
    client = RPCClient(transport, Target("compute"))
    client.call(ctx, "echo", value=1)
    client.close()
    assert client.call(ctx, "echo", value=2) == 2  # a new channel on demand
    client.close()


def test_two_clients_on_two_transports_of_one_bus_meet(ctx, serve):
    name = f"inproc://shared-{uuid.uuid4().hex}"
    serve(get_transport(name), Target("compute", server="h1"), [Recorder()])
    client = RPCClient(get_transport(name + "?calls=pool"), Target("compute"))
    assert client.call(ctx, "whoami") == "h1"
