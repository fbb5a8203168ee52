"""Connections to RabbitMQ: making them (with backoff and jitter) and the pool of
confirm-mode publisher connections that retries a publish on a new connection."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ...exceptions import MessageDeliveryFailure
from ...metrics import METRICS
from . import kombu_api as kombu
from .options import BrokerAddress

LOG = logging.getLogger(__name__)

CONTENT_TYPE = "application/json"
TRANSIENT = 1
PERSISTENT = 2


PUBLISH_SOCKET_TIMEOUT = 10.0
"""Longest wait for a publisher confirm when the publish deadline is further away."""


def set_socket_timeout(conn: Any, timeout: float) -> None:
    """Give the socket under a kombu (py-amqp) connection a lasting timeout."""
    sock = getattr(getattr(conn.connection, "transport", None), "sock", None)
    if sock is not None:
        sock.settimeout(timeout)


PRECONDITION_FAILED = 406
"""The AMQP reply code of a declare whose arguments differ from the existing entity's."""


def mismatch_hint(exc: BaseException) -> str | None:
    """What to do when ``exc`` says a queue or exchange exists with other arguments
    (a retry cannot help: it is the configuration), else None."""
    if getattr(exc, "reply_code", None) != PRECONDITION_FAILED:
        return None
    return (
        "an existing queue or exchange was declared with other arguments: every "
        "service on a virtual host must use the same ?queue_type= and ?durable=; "
        "to change them, delete the old queues (rabbitmqctl delete_queue) or use a "
        "new virtual host"
    )


class Stopped(Exception):
    """A consumer was stopped while it was (re)connecting."""


def close_quietly(conn: Any) -> None:
    try:
        conn.release()
    except Exception:
        LOG.debug("error while closing an AMQP connection", exc_info=True)


class Broker:
    """Makes connections to one broker."""

    def __init__(self, address: BrokerAddress) -> None:
        self.address = address
        self.options = address.options
        self.where = address.where
        self._epoch = 0
        self._epoch_lock = threading.Lock()

    @property
    def epoch(self) -> int:
        """How many times a connection of this process to the broker was seen lost.

        A reply queue subscribed in an older epoch may have died with the broker
        (exclusive queues do), so it is checked before a call relies on it.
        """
        return self._epoch

    def lost(self) -> None:
        """A connection failed: the broker may have restarted."""
        with self._epoch_lock:
            self._epoch += 1

    def new_connection(self, *, heartbeat: float = 0, confirm: bool = False) -> Any:
        a = self.address
        return kombu.Connection(
            hostname=a.host,
            port=a.port,
            userid=a.userid,
            password=a.password,
            virtual_host=a.virtual_host,
            transport="pyamqp",
            heartbeat=heartbeat,
            connect_timeout=self.options.connect_timeout,
            transport_options={"confirm_publish": confirm},
        )

    def connect(
        self,
        purpose: str,
        *,
        deadline: float | None = None,
        stop: threading.Event | None = None,
        heartbeat: float = 0,
        confirm: bool = False,
    ) -> Any:
        """A connected connection, retrying with backoff until ``deadline`` or ``stop``.

        Raises :class:`MessageDeliveryFailure` at the deadline, :class:`Stopped` on stop.
        """
        delays = self.options.delays()
        for attempt in itertools.count(1):
            if stop is not None and stop.is_set():
                raise Stopped
            conn = self.new_connection(heartbeat=heartbeat, confirm=confirm)
            try:
                conn.ensure_connection(max_retries=0, reraise_as_library_errors=False)
            except Exception as exc:
                close_quietly(conn)
                delay = next(delays)
                if deadline is not None and time.monotonic() + delay > deadline:
                    raise MessageDeliveryFailure(
                        f"{self.where} unreachable for {purpose}: {exc} ({attempt} attempts)"
                    ) from exc
                LOG.warning(
                    "%s: %s unreachable (%s); retrying in %.2f s", purpose, self.where, exc, delay
                )
                if stop is None:
                    time.sleep(delay)
                elif stop.wait(delay):
                    raise Stopped from None
                continue
            if attempt > 1:
                LOG.info("%s: connected to %s after %d attempts", purpose, self.where, attempt)
            return conn
        raise AssertionError("unreachable")


class _Publisher:
    """One confirm-mode connection, used by one thread at a time."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.conn: Any = None
        self.producer: Any = None
        self.declared: set[tuple[str, str]] = set()

    def reset(self) -> None:
        if self.conn is not None:
            close_quietly(self.conn)
        self.conn = self.producer = None
        self.declared.clear()

    def publish(
        self,
        body: bytes,
        exchange: str,
        routing_key: str,
        declare: Any,
        deadline: float,
        purpose: str,
        properties: dict[str, Any],
        before_retry: Callable[[float], None] | None,
    ) -> None:
        broker = self.broker
        delays = broker.options.delays()
        for attempt in itertools.count(1):
            try:
                if attempt > 1 and before_retry is not None:
                    before_retry(deadline)
                if self.conn is None:
                    self.conn = broker.connect(purpose, deadline=deadline, confirm=True)
                    set_socket_timeout(self.conn, PUBLISH_SOCKET_TIMEOUT)
                    self.producer = kombu.Producer(self.conn.channel(), auto_declare=False)
                if declare is not None:
                    key = (type(declare).__name__, declare.name)
                    if key not in self.declared:
                        declare(self.producer.channel).declare()
                        self.declared.add(key)
                # Without a confirm timeout py-amqp leaves the socket's own
                # timeout alone; pass one only when the deadline is nearer.
                remaining = deadline - time.monotonic()
                self.producer.publish(
                    body,
                    exchange=exchange,
                    routing_key=routing_key,
                    content_type=CONTENT_TYPE,
                    content_encoding="utf-8",
                    confirm_timeout=(
                        max(remaining, 0.001) if remaining < PUBLISH_SOCKET_TIMEOUT else None
                    ),
                    **properties,
                )
                return
            except MessageDeliveryFailure:
                self.reset()
                raise
            except Exception as exc:
                hint = mismatch_hint(exc)
                if hint is not None:
                    self.reset()
                    raise MessageDeliveryFailure(
                        f"could not publish {purpose} to {broker.where}: {exc} ({hint})"
                    ) from exc
                # The connection is in an unknown state (broker gone, confirm lost):
                # start over on a new one. The first retry is immediate, since a
                # stale connection is the usual cause; later ones back off.
                self.reset()
                broker.lost()
                METRICS.incr("rpc.publish_retries")
                delay = 0.0 if attempt == 1 else next(delays)
                if time.monotonic() + delay >= deadline:
                    raise MessageDeliveryFailure(
                        f"could not publish {purpose} to {broker.where}: "
                        f"{type(exc).__name__}: {exc} ({attempt} attempts)"
                    ) from exc
                LOG.warning(
                    "publishing %s to %s failed (%s: %s); retrying",
                    purpose,
                    broker.where,
                    type(exc).__name__,
                    exc,
                )
                time.sleep(delay)


class PublisherPool:
    """Publisher connections shared by every thread of the process.

    Each publish waits for the broker's confirm; a publish that fails (broker
    restarted, connection stale, nack) is retried on a new connection until its
    ``deadline``, then raises :class:`MessageDeliveryFailure`. At most ``size``
    connections exist; a thread that finds none idle waits for one.
    """

    def __init__(self, broker: Broker, size: int) -> None:
        self._broker = broker
        self._size = max(size, 1)
        self._idle: list[_Publisher] = []
        self._created = 0
        self._returned = threading.Condition(threading.Lock())

    def publish(
        self,
        body: bytes,
        *,
        exchange: str,
        routing_key: str,
        deadline: float,
        purpose: str,
        declare: Any = None,
        before_retry: Callable[[float], None] | None = None,
        overflow: bool = False,
        **properties: Any,
    ) -> None:
        """Publish ``body``; ``declare`` (a kombu Queue or Exchange) is declared first,
        once per connection; ``before_retry(deadline)`` runs before each retry.

        ``overflow``: never wait for a connection, make one beyond the pool's size
        if need be (for a publish made while another is in progress).
        """
        try:
            publisher = self._idle.pop()  # atomic: the fast path takes no lock
        except IndexError:
            publisher = self._acquire(deadline, purpose, overflow)
        try:
            publisher.publish(
                body, exchange, routing_key, declare, deadline, purpose, properties, before_retry
            )
        finally:
            self._idle.append(publisher)
            if self._created >= self._size:
                with self._returned:
                    self._returned.notify()

    def _acquire(self, deadline: float, purpose: str, overflow: bool) -> _Publisher:
        with self._returned:
            while True:
                try:
                    return self._idle.pop()
                except IndexError:
                    pass
                if self._created < self._size or overflow:
                    self._created += 1
                    return _Publisher(self._broker)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._returned.wait(remaining):
                    raise MessageDeliveryFailure(
                        f"could not publish {purpose}: all {self._size} publisher "
                        f"connections to {self._broker.where} stayed busy"
                    )

    def close(self) -> None:
        """Close the idle connections (those in use are closed when next idle)."""
        with self._returned:
            idle, self._idle = self._idle, []
            self._created -= len(idle)
        for publisher in idle:
            publisher.reset()
