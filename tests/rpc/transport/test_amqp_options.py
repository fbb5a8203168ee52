"""amqp:// URLs and the reconnect backoff (no broker needed)."""

from __future__ import annotations

import itertools

import pytest

from cumulo.rpc import TransportURLError, get_transport
from cumulo.rpc.transport.amqp import AmqpTransport, backoff_delays, parse_url


def test_the_url_gives_address_credentials_vhost_and_options():
    address = parse_url("amqp://nova:s%40cret@mq.example.org:5673/cloud?exchange=nova&heartbeat=10")
    assert (address.host, address.port) == ("mq.example.org", 5673)
    assert (address.userid, address.password) == ("nova", "s@cret")
    assert address.virtual_host == "cloud"
    assert address.options.exchange == "nova" and address.options.heartbeat == 10
    assert address.options.durable is True
    assert address.where == "RabbitMQ at mq.example.org:5673"


@pytest.mark.parametrize(
    ("url", "vhost"),
    [("amqp://h//", "/"), ("amqp://h/", "/"), ("amqp://h", "/"), ("rabbit://h/%2Fx", "/x")],
)
def test_virtual_hosts(url, vhost):
    assert parse_url(url).virtual_host == vhost


def test_the_password_never_shows():
    transport = get_transport("amqp://guest:hunter2@127.0.0.1:5672//?durable=false")
    assert isinstance(transport, AmqpTransport)
    assert "hunter2" not in transport.url and "hunter2" not in repr(transport)
    assert transport.url == "amqp://guest:***@127.0.0.1:5672//"
    assert transport.options.durable is False


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("amqp://h/?heartbeet=1", "unknown option 'heartbeet'"),
        ("amqp://h/?heartbeat=soon", "option heartbeat='soon'.*expected int"),
        ("amqp://h/?durable=maybe", "option durable='maybe'"),
        ("amqp://h:notaport/", "bad port"),
        ("http://h/", "not an amqp:// URL"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url, message):
    with pytest.raises(TransportURLError, match=message):
        parse_url(url)


def test_backoff_doubles_up_to_the_maximum():
    delays = backoff_delays(0.2, 2.0, 1.0, 0.5, rand=lambda: 0.0)
    assert list(itertools.islice(delays, 5)) == [0.2, 0.4, 0.8, 1.0, 1.0]


def test_jitter_shortens_each_delay_by_up_to_its_fraction():
    full = backoff_delays(1.0, 2.0, 10.0, 0.5, rand=lambda: 1.0)
    assert list(itertools.islice(full, 3)) == [0.5, 1.0, 2.0]
    real = list(itertools.islice(backoff_delays(1.0, 1.0, 1.0, 0.5), 200))
    assert all(0.5 <= d <= 1.0 for d in real)
    assert len(set(real)) > 100  # spread out, not in step


def test_a_huge_attempt_count_does_not_overflow():
    delays = backoff_delays(0.1, 10.0, 5.0, 0.0)
    assert list(itertools.islice(delays, 400))[-1] == 5.0


def test_limits_prefetch_and_queue_type_have_small_safe_defaults():
    options = parse_url("amqp://h//").options
    assert options.prefetch == 8
    assert options.max_message_size == 4 * 1024 * 1024 and options.max_depth == 64
    assert options.queue_type == "classic" and options.queue_arguments() == {}
    transport = get_transport("amqp://h//")
    assert transport.limits.max_message_size == 4 * 1024 * 1024


def test_quorum_queues_limits_and_prefetch_from_the_url():
    options = parse_url(
        "amqp://h//?queue_type=quorum&prefetch=2&max_message_size=512KiB&max_depth=32"
    ).options
    assert options.queue_type == "quorum"
    assert options.queue_arguments() == {"x-queue-type": "quorum"}
    assert options.prefetch == 2
    assert options.limits().max_message_size == 512 * 1024
    assert options.limits().max_depth == 32
    transport = get_transport("amqp://h//?queue_type=quorum")
    assert isinstance(transport, AmqpTransport)
    queue = transport.topic_queue("conductor")
    assert queue.queue_arguments == {"x-queue-type": "quorum"} and queue.durable
    # Fanout and reply queues are exclusive to a connection: they stay classic.
    assert transport.fanout_exchange("conductor").durable


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("amqp://h/?queue_type=stream", "queue_type='stream': expected one of classic, quorum"),
        ("amqp://h/?queue_type=quorum&durable=false", "quorum needs durable=true"),
        ("amqp://h/?prefetch=0", "prefetch=0: expected at least 1"),
        ("amqp://h/?max_message_size=lots", "max_message_size='lots'.*KiB, MiB, GiB"),
        ("amqp://h/?max_message_size=0", "max_message_size must be at least 1 byte"),
        ("amqp://h/?max_depth=1", "max_depth must be at least 2"),
    ],
)
def test_bad_robustness_options_are_refused(url, message):
    with pytest.raises(TransportURLError, match=message):
        parse_url(url)
