"""Versioned RPC over a real RabbitMQ (needs RabbitMQ on 127.0.0.1:5672, guest/guest).

The same core behaviours as the inproc:// unit tests, a server in another OS
process (heartbeats, and a killed server detected within the timeout), and one
broker restart (``rabbitmqctl stop_app`` / ``start_app``) that loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu.connection import Connection

from cumulo.rpc import (
    METRICS,
    MessagingTimeout,
    NoSuchMethod,
    ObjectSerializer,
    RemoteError,
    RequestContext,
    RPCClient,
    RPCServer,
    RPCVersionCapError,
    Target,
    Transport,
    UnsupportedVersion,
    get_transport,
)
from tests.rpc.sample_objects import Conductor, Gadget, NewObject, OldObject, OldWidget, Widget

pytestmark = pytest.mark.rabbitmq

ROOT = Path(__file__).resolve().parents[2]


class Unlisted(Exception):
    pass


class Endpoint:
    target = Target(version="1.2")

    def __init__(self, name: str) -> None:
        self.name = name
        self.casts: list[Any] = []
        self.cast_seen = threading.Condition()

    def echo(self, ctx, value):
        return value

    def whoami(self, ctx):
        return {"server": self.name, "ctx": ctx.to_dict()}

    def note(self, ctx, value):
        with self.cast_seen:
            self.casts.append(value)
            self.cast_seen.notify_all()

    def value_error(self, ctx):
        raise ValueError("no such flavor: m1.huge")

    def unlisted(self, ctx):
        raise Unlisted("not for your eyes")

    def make_widget(self, ctx, name):
        return Widget(name=name, gadget=Gadget(name="g", size=2), color="green")

    def wait_casts(self, count: int, timeout: float = 10) -> list[Any]:
        with self.cast_seen:
            self.cast_seen.wait_for(lambda: len(self.casts) >= count, timeout)
            return list(self.casts)


@pytest.fixture
def topic(rabbitmq_url: str) -> Iterator[str]:
    """A fresh topic; its durable queues and fanout exchange are deleted afterwards."""
    name = f"cumulo_it_{uuid.uuid4().hex[:10]}"
    yield name
    with Connection(rabbitmq_url) as conn:  # type: ignore[no-untyped-call]
        channel = conn.channel()
        for queue in (name, *(f"{name}.{s}" for s in ("h1", "h2", "child", "a", "b"))):
            try:
                channel.queue_delete(queue)
            except Exception:
                channel = conn.channel()
        with contextlib.suppress(Exception):
            channel.exchange_delete(f"{name}_fanout")


@pytest.fixture
def transport(rabbitmq_url: str) -> Iterator[Transport]:
    transport = get_transport(rabbitmq_url + "?retry_max=1")
    yield transport
    transport.cleanup()


@pytest.fixture
def serve() -> Iterator[Callable[..., RPCServer]]:
    servers: list[RPCServer] = []

    def start(
        transport: Transport, target: Target, endpoints: list[object], *args: Any
    ) -> RPCServer:
        server = RPCServer(transport, target, endpoints, *args).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        server.wait()


@pytest.fixture
def clients() -> Iterator[Callable[..., RPCClient]]:
    made: list[RPCClient] = []

    def make(*args: Any, **kwargs: Any) -> RPCClient:
        client = RPCClient(*args, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def ctx() -> RequestContext:
    return RequestContext(user_id="alice", project_id="p1", roles=["member"])


def test_call_cast_and_fanout(transport, topic, serve, clients, ctx):
    h1, h2 = Endpoint("h1"), Endpoint("h2")
    serve(transport, Target(topic, server="h1"), [h1])
    serve(transport, Target(topic, server="h2"), [h2])
    client = clients(transport, Target(topic), timeout=10)

    assert client.call(ctx, "echo", value={"a": [1, None, "x"]}) == {"a": [1, None, "x"]}
    assert client.prepare(server="h2").call(ctx, "whoami") == {"server": "h2", "ctx": ctx.to_dict()}
    assert {client.call(ctx, "whoami")["server"] for _ in range(10)} <= {"h1", "h2"}

    client.prepare(server="h1").cast(ctx, "note", value="direct")
    assert h1.wait_casts(1) == ["direct"]
    client.prepare(fanout=True).cast(ctx, "note", value="everyone")
    assert h1.wait_casts(2) == ["direct", "everyone"]
    assert h2.wait_casts(1) == ["everyone"]


def test_a_slow_call_does_not_hold_up_the_others(transport, topic, serve, clients, ctx, caplog):
    class Mixed(Endpoint):
        def sleep(self, ctx, seconds):
            time.sleep(seconds)
            return "slept"

    serve(transport, Target(topic, server="h1"), [Mixed("h1")])
    client = clients(transport, Target(topic), timeout=10)
    slow = threading.Thread(target=client.call, args=(ctx, "sleep"), kwargs={"seconds": 1.5})
    slow.start()
    time.sleep(0.2)
    start = time.monotonic()
    assert client.call(ctx, "echo", value="quick") == "quick"
    assert time.monotonic() - start < 1.0

    errors: list[BaseException] = []

    def hammer(n: int) -> None:
        try:
            for i in range(30):
                assert client.call(ctx, "echo", value=[n, i]) == [n, i]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    slow.join(10)
    assert errors == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_versions_caps_and_remote_errors(transport, topic, serve, clients, ctx):
    serve(transport, Target(topic, server="h1"), [Endpoint("h1")])
    client = clients(transport, Target(topic, version="1.0"), timeout=10, version_cap="1.3")

    for version in ("1.0", "1.2"):
        assert client.prepare(version=version).call(ctx, "echo", value=version) == version
    for version in ("1.3", "2.0"):
        with pytest.raises(UnsupportedVersion, match=f"does not support RPC version {version}"):
            client.prepare(version=version, version_cap=None).call(ctx, "echo", value=1)
    with pytest.raises(RPCVersionCapError):
        client.prepare(version="1.4").call(ctx, "echo", value=1)
    with pytest.raises(NoSuchMethod, match="'reboot'"):
        client.call(ctx, "reboot")
    with pytest.raises(ValueError, match=r"no such flavor: m1\.huge"):
        client.call(ctx, "value_error")
    with pytest.raises(RemoteError) as err:
        client.call(ctx, "unlisted")
    assert err.value.exc_type.endswith("test_rpc_amqp.Unlisted")
    assert err.value.value == "not for your eyes"


def test_objects_travel_and_are_backported_for_an_older_peer(transport, topic, serve, clients, ctx):
    serve(transport, Target(topic, server="h1"), [Endpoint("h1")], ObjectSerializer(NewObject))
    new = clients(transport, Target(topic), serializer=ObjectSerializer(NewObject), timeout=10)
    widget = new.call(ctx, "make_widget", name="w")
    assert isinstance(widget, Widget) and widget.color == "green"
    assert new.call(ctx, "echo", value=widget) == widget

    conductor = Conductor()
    old = clients(
        transport,
        Target(topic),
        serializer=ObjectSerializer(OldObject, indirection=conductor),
        timeout=10,
    )
    before = METRICS.get("rpc.object_backports")
    old_widget = old.call(ctx, "make_widget", name="w")
    assert isinstance(old_widget, OldWidget) and old_widget.gadget.name == "g"
    assert conductor.asked == [{"Widget": "1.0", "Gadget": "1.0"}]
    assert METRICS.get("rpc.object_backports") == before + 1


def start_child(url: str, topic: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.rpc_server_child", url, topic, "child"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    assert line == "READY", f"the server process did not start (printed {line!r})"
    return child


def test_a_server_in_another_process_heartbeats_and_its_death_is_noticed(
    rabbitmq_url, transport, topic, clients, ctx
):
    child = start_child(rabbitmq_url, topic)
    try:
        client = clients(transport, Target(topic, server="child", version="1.1"), timeout=0.6)
        assert client.call(ctx, "pid") == child.pid != os.getpid()
        assert client.call(ctx, "whoami")["request_id"] == ctx.request_id
        with pytest.raises(ValueError, match=f"failed in process {child.pid}"):
            client.call(ctx, "fail")

        # Slower than the timeout, but the server keeps saying it is working.
        beats = METRICS.get("rpc.heartbeats_received")
        assert client.call(ctx, "sleep", seconds=1.5) == "slept"
        assert METRICS.get("rpc.heartbeats_received") - beats >= 3

        # Killed in the middle of a call: no more heartbeats, a timeout soon after.
        threading.Timer(0.5, child.send_signal, args=(signal.SIGKILL,)).start()
        start = time.monotonic()
        with pytest.raises(MessagingTimeout, match=r"sleep\(\) on .*reply queue reply_"):
            client.prepare(timeout=1.0).call(ctx, "sleep", seconds=30)
        elapsed = time.monotonic() - start
        assert 1.0 <= elapsed < 3.0, elapsed
    finally:
        child.kill()
        child.wait(10)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def test_a_broker_restart_loses_no_message(rabbitmq_url, transport, topic, serve, clients, ctx):
    a, b = Endpoint("a"), Endpoint("b")
    serve(transport, Target(topic, server="a"), [a])
    client = clients(transport, Target(topic), timeout=30)
    assert client.prepare(server="a").call(ctx, "echo", value="before") == "before"
    # b's queue exists (durable) but nobody consumes it: casts wait there.
    server_b = RPCServer(transport, Target(topic, server="b"), [b]).start()
    server_b.stop()
    server_b.wait()
    for i in range(5):
        client.prepare(server="b").cast(ctx, "note", value=i)
    reconnects = METRICS.get("rpc.reconnects")

    rabbitmqctl("stop_app")
    results: list[Any] = []
    during = threading.Thread(
        target=lambda: results.append(client.prepare(server="a").call(ctx, "echo", value="during"))
    )
    try:
        during.start()  # sent while the broker is down: retried until it is back
        time.sleep(0.5)
    finally:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
    during.join(30)
    assert results == ["during"]

    # The server and client reconnected on their own; the casts survived.
    assert client.prepare(server="a").call(ctx, "echo", value="after") == "after"
    assert METRICS.get("rpc.reconnects") > reconnects
    serve(transport, Target(topic, server="b"), [b])
    assert b.wait_casts(5) == [0, 1, 2, 3, 4]
