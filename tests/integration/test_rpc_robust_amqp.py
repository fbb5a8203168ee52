"""A real conductor (its endpoints, SQLite) over RabbitMQ with quorum queues and a
small prefetch: its queues are quorum queues, bad requests and casts are answered
or dropped and acked, oversized requests are refused at once, and a bounded fuzz
of bodies all get replies (needs RabbitMQ on 127.0.0.1:5672 and ``rabbitmqctl``).

The broker is shared: nothing here stops or restarts it.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from kombu.connection import Connection

from cumulo.conductor.rpcapi import ConductorAPI
from cumulo.conductor.service import ConductorService
from cumulo.db import create_engine, sync
from cumulo.rpc import (
    MessageDeliveryFailure,
    MessageTooLarge,
    RequestContext,
    Transport,
    get_transport,
)
from cumulo.rpc.wire import Failure, Result
from tests.rpc.bad_messages import CASES
from tests.rpc.fuzz import CONDUCTOR, VALID, assert_still_serving, bodies, call_raw

pytestmark = pytest.mark.rabbitmq

OPTIONS = "queue_type=quorum&prefetch=4&max_message_size=1MiB&retry_max=1"


class Deployment:
    def __init__(self, url: str, vhost: str, conductor: Transport, client: Transport) -> None:
        self.url = url
        self.vhost = vhost
        self.conductor = conductor
        self.client = client

    def ctl(self, *args: str) -> list[list[str]]:
        """``rabbitmqctl`` on this vhost; the rows of its tab-separated output."""
        done = subprocess.run(
            ["rabbitmqctl", *args, "-p", self.vhost, "--quiet", "--no-table-headers"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return [line.split("\t") for line in done.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def deployment(
    rabbitmq_module_vhost_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    url = f"{rabbitmq_module_vhost_url}?{OPTIONS}"
    vhost = unquote(urlsplit(rabbitmq_module_vhost_url).path[1:])
    engine = create_engine(f"sqlite:///{Path(tmp_path_factory.mktemp('robust')) / 'c.db'}")
    sync(engine)
    conductor = get_transport(url)
    client = get_transport(url)
    service = ConductorService(conductor, engine, host="robust", report_interval=None).start()
    try:
        yield Deployment(url, vhost, conductor, client)
    finally:
        service.stop()
        client.cleanup()
        conductor.cleanup()
        engine.dispose()


def test_the_topic_queues_are_quorum_and_a_call_round_trips(deployment):
    api = ConductorAPI(deployment.client, timeout=10)
    try:
        assert api.ping(RequestContext(), 7) == {"service": "conductor", "arg": 7}
        queues = dict(deployment.ctl("list_queues", "name", "type"))
    finally:
        api.close()
    assert queues["conductor"] == "quorum"
    assert queues["conductor.robust"] == "quorum"
    # Exclusive queues (a server's fanout queue, a client's reply queue) stay classic.
    others = {name: kind for name, kind in queues.items() if name.startswith(("conductor_", "r"))}
    assert any(name.startswith("conductor_fanout_") for name in others)
    assert set(others.values()) == {"classic"}


def test_a_service_with_another_queue_type_is_told_at_once(deployment):
    classic = get_transport(deployment.url.replace("queue_type=quorum", "queue_type=classic"))
    api = ConductorAPI(classic, timeout=30)
    started = time.monotonic()
    try:
        with pytest.raises(MessageDeliveryFailure, match="inequivalent arg 'x-queue-type'") as exc:
            api.ping(RequestContext(), 1)
    finally:
        api.close()
        classic.cleanup()
    assert "every service on a virtual host must use the same ?queue_type=" in str(exc.value)
    assert time.monotonic() - started < 20  # not retried until the call's deadline


def test_the_prefetch_is_the_urls_not_one_per_thread(deployment):
    rows = deployment.ctl("list_consumers", "queue_name", "prefetch_count")
    prefetch = {queue: int(count) for queue, count in rows if queue.startswith("conductor")}
    assert prefetch["conductor"] == 4 and prefetch["conductor.robust"] == 4


AMQP_CASES = [
    c
    for c in CASES
    if c.id in {"empty", "not-json", "binary", "version-new", "deep-args", "deep-unclosed"}
]


@pytest.mark.parametrize("case", AMQP_CASES, ids=[c.id for c in AMQP_CASES])
def test_a_bad_request_gets_its_typed_error_at_once(deployment, case):
    reply = call_raw(deployment.client, case.body)
    assert isinstance(reply, Failure), reply
    assert reply.type.rsplit(".", 1)[1] == case.error
    assert case.says in reply.message


def test_an_oversized_request_is_refused_at_once_naming_the_limit(deployment, caplog):
    # A sender whose own limit is higher: the conductor refuses it on receipt.
    big = get_transport(deployment.url.replace("max_message_size=1MiB", "max_message_size=8MiB"))
    api = ConductorAPI(big, timeout=30)
    try:
        started = time.monotonic()
        with (
            caplog.at_level(logging.WARNING, logger="cumulo.rpc"),
            pytest.raises(MessageTooLarge, match="over the limit of 1048576 bytes"),
        ):
            api.ping(RequestContext(), "z" * (3 * 1024 * 1024))
        # Answered, not timed out: well before the call's 30 s.
        assert time.monotonic() - started < 25
        assert "refused a request from reply queue reply_" in caplog.text
        # A sender with the conductor's limit refuses it before publishing.
        small = ConductorAPI(deployment.client, timeout=30)
        with pytest.raises(MessageTooLarge, match=r"request ping\(\) to .* over the limit"):
            small.ping(RequestContext(), "z" * (3 * 1024 * 1024))
        small.close()
    finally:
        api.close()
        big.cleanup()


def test_bad_casts_are_acked_and_dropped(deployment, caplog):
    with caplog.at_level(logging.WARNING, logger="cumulo.rpc"):
        for body in (b"", b"{not json", json.dumps({**VALID[0], "method": "nope"}).encode()):
            deployment.client.cast(CONDUCTOR, body, 10)
        assert_still_serving(deployment.client)
        deadline = time.monotonic() + 10
        while caplog.text.count("dropped") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert caplog.text.count("no reply address") == 3
    # Taken off the queue for good (acknowledged), not waiting to come back.
    with Connection(deployment.url.split("?")[0]) as connection:  # type: ignore[no-untyped-call]
        _, ready, consumers = connection.channel().queue_declare("conductor", passive=True)
    assert (ready, consumers) == (0, 1)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_fuzz_every_body_gets_a_reply_and_the_conductor_goes_on(deployment, body):
    logging.getLogger("cumulo").setLevel(logging.ERROR)
    try:
        reply = call_raw(deployment.client, body)
        assert isinstance(reply, Result | Failure)
        assert_still_serving(deployment.client)
    finally:
        logging.getLogger("cumulo").setLevel(logging.NOTSET)
