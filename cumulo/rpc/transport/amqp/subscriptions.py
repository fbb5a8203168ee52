"""Consuming from RabbitMQ: a server's queues (served by a leader/followers pool
of threads) and a client's reply queue (read by the waiting calls themselves, or
by the client's reply thread)."""

from __future__ import annotations

import collections
import functools
import logging
import select
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from ...exceptions import MessageDeliveryFailure
from ...heartbeat import PendingCall
from ...limits import printable
from ...metrics import METRICS
from ...target import Target
from ...timer import Timer
from ...wire import HEARTBEAT_BODY, HEARTBEAT_TEXT
from ..base import Incoming, Listener, MessageSink
from . import kombu_api as kombu
from .connections import (
    TRANSIENT,
    Broker,
    PublisherPool,
    Stopped,
    close_quietly,
    mismatch_hint,
    set_socket_timeout,
)

LOG = logging.getLogger(__name__)

TICK = 1.0
"""Longest wait for a delivery before checking AMQP heartbeats and the stop flag."""

PING_PREFIX = "ping-"
"""Correlation ids of the liveness checks a client sends to its own reply queue."""


class Subscription:
    """One connection consuming some queues; made again after the broker is lost.

    Not thread-safe: one thread at a time calls :meth:`drain`, and the message
    callbacks run in that thread. ``wake_queue`` is a queue only this
    subscription consumes: an empty message there wakes the draining thread.
    """

    def __init__(
        self,
        broker: Broker,
        publishers: PublisherPool,
        name: str,
        wake_queue: str,
        subscribe: Callable[[Any], None],
    ) -> None:
        self.broker = broker
        self.publishers = publishers
        self.name = name
        self.wake_queue = wake_queue
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self._subscribe = subscribe
        self._conn: Any = None
        self.last_error: Exception | None = None
        self.epoch = -1
        self._current = threading.Condition(threading.Lock())
        self._last_check = 0.0
        self._delays = broker.options.delays()

    def drain(
        self, timeout: float | None = None, *, connect: bool = True, backoff: bool = True
    ) -> None:
        """Wait up to :data:`TICK` (or ``timeout``, when shorter) for one delivery;
        the callbacks run here.

        ``connect``: connect and subscribe first when needed (else return).
        ``backoff``: after losing the broker, wait before returning, so that a
        loop of drains does not reconnect in a burst.
        """
        if self._conn is None:
            if not connect:
                return
            try:
                self.connect()
            except Stopped:
                return
            if self._conn is None:
                return
        try:
            if timeout is not None and timeout < TICK:
                # Near a caller's deadline; otherwise the lasting TICK timeout.
                set_socket_timeout(self._conn, max(timeout, 0.001))
                try:
                    self._conn.drain_events()
                finally:
                    set_socket_timeout(self._conn, TICK)
            else:
                self._conn.drain_events()
        except TimeoutError:
            pass
        except Exception as exc:
            self._lost(exc, backoff)
            return
        now = time.monotonic()
        if self.broker.options.heartbeat and now - self._last_check >= TICK:
            self._last_check = now
            try:
                self._conn.heartbeat_check()
            except Exception as exc:
                self._lost(exc, backoff)

    def connect(self, deadline: float | None = None) -> None:
        """Connect and subscribe (retrying with backoff until ``deadline``).

        Raises :class:`Stopped`, or :class:`MessageDeliveryFailure` at the deadline.
        """
        epoch = self.broker.epoch
        conn = self.broker.connect(
            self.name,
            deadline=deadline,
            stop=self.stopping,
            heartbeat=self.broker.options.heartbeat,
        )
        try:
            # A socket timeout set once, instead of one per drain_events call
            # (py-amqp sets and restores it around every frame otherwise).
            set_socket_timeout(conn, TICK)
            self._subscribe(conn.channel())
        except Exception as exc:
            close_quietly(conn)
            self._lost(exc)
            return
        self._conn = conn
        self._delays = self.broker.options.delays()
        with self._current:
            self.epoch = epoch
            self.ready.set()
            self._current.notify_all()

    def is_current(self) -> bool:
        """Subscribed, and known alive since the last connection loss seen in this
        process (by any of its connections)."""
        return self.ready.is_set() and self.epoch >= self.broker.epoch

    def confirm(self, epoch: int) -> None:
        """A message sent at ``epoch`` came through: the subscription is alive then."""
        with self._current:
            if self.ready.is_set() and epoch > self.epoch:
                self.epoch = epoch
            self._current.notify_all()

    def wait_current(self, deadline: float) -> bool:
        with self._current:
            while not self.is_current():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.stopping.is_set():
                    return False
                self._current.wait(remaining)
        return True

    def _lost(self, exc: Exception, backoff: bool = True) -> None:
        self.last_error = exc
        self.ready.clear()
        self.broker.lost()
        if self._conn is not None:
            close_quietly(self._conn)
            self._conn = None
        if self.stopping.is_set():
            return
        METRICS.incr("rpc.reconnects")
        delay = next(self._delays) if backoff else 0.0
        hint = mismatch_hint(exc)
        if hint is not None:
            # A configuration error: say so, and keep trying slowly (an operator
            # may fix the queues while this service waits).
            delay = max(delay, self.broker.options.retry_max)
            LOG.error(
                "%s cannot subscribe on %s: %s (%s); trying again in %.2f s",
                self.name,
                self.broker.where,
                exc,
                hint,
                delay,
            )
            self.stopping.wait(delay)
            return
        LOG.warning(
            "%s lost %s (%s: %s); reconnecting in %.2f s",
            self.name,
            self.broker.where,
            type(exc).__name__,
            exc,
            delay,
        )
        if delay:
            self.stopping.wait(delay)

    def has_waiting_data(self) -> bool:
        """True when more deliveries are already buffered or readable."""
        conn = self._conn
        transport = getattr(getattr(conn, "connection", None), "transport", None)
        if transport is None:
            return False
        if getattr(transport, "_read_buffer", b""):
            return True
        sock = getattr(transport, "sock", None)
        try:
            return sock is not None and bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def stop(self) -> None:
        """Ask the draining thread to stop, waking it with an empty message."""
        self.stopping.set()
        if self.ready.is_set():
            try:
                self.publishers.publish(
                    b"",
                    exchange="",
                    routing_key=self.wake_queue,
                    deadline=time.monotonic() + 1.0,
                    purpose=f"stop signal to {self.name}",
                    delivery_mode=TRANSIENT,
                )
            except MessageDeliveryFailure:
                LOG.debug("could not wake %s; it stops within %s s", self.name, TICK)

    def close(self) -> None:
        self.ready.clear()
        if self._conn is not None:
            close_quietly(self._conn)
            self._conn = None


class AmqpIncoming(Incoming):
    """A request taken from a queue; replies go to its ``reply_to`` queue."""

    __slots__ = ("correlation_id", "publishers", "queue", "reply_timeout", "reply_to")

    def __init__(
        self,
        body: bytes | str,
        publishers: PublisherPool,
        reply_timeout: float,
        reply_to: str | None,
        correlation_id: str | None,
        queue: str = "",
    ) -> None:
        super().__init__(body)
        self.publishers = publishers
        self.reply_timeout = reply_timeout
        self.reply_to = reply_to or None
        self.correlation_id = correlation_id
        self.queue = queue

    @property
    def expects_reply(self) -> bool:
        return self.reply_to is not None

    @property
    def sender(self) -> str:
        via = f" via {printable(self.queue, 120)}" if self.queue else ""
        if self.reply_to is None:
            return f"a cast{via}"
        return (
            f"reply queue {printable(self.reply_to, 120)} (correlation id "
            f"{printable(str(self.correlation_id), 40)}){via}"
        )

    def _send(self, body: bytes, within: float, what: str) -> None:
        assert self.reply_to is not None
        self.publishers.publish(
            body,
            exchange="",
            routing_key=self.reply_to,
            deadline=time.monotonic() + within,
            purpose=f"{what} to {self.reply_to}",
            delivery_mode=TRANSIENT,
            correlation_id=self.correlation_id,
        )

    def reply(self, body: bytes) -> None:
        try:
            self._send(body, self.reply_timeout, "reply")
        except MessageDeliveryFailure as exc:
            LOG.error("reply lost: %s", exc)

    def heartbeat(self) -> None:
        self._send(HEARTBEAT_BODY, 1.0, "heartbeat")


class ServerListener(Listener):
    """A server's subscription to ``topic``, ``topic.server`` and its fanout queue.

    Served by a leader/followers pool of up to ``threads`` threads. The leader
    drains the connection and runs the request it receives itself, so a request
    never waits for a thread switch; then it goes back to draining. When more
    requests are already waiting, or when the request runs longer than
    ``handoff_after`` seconds, a follower takes over the draining, so that one
    slow request holds up the others by at most that long. When every thread is
    busy nobody drains, and requests wait in the broker's queue.
    """

    def __init__(
        self,
        broker: Broker,
        publishers: PublisherPool,
        target: Target,
        queues: list[Any],
        sink: MessageSink,
        threads: int,
    ) -> None:
        self.target = target
        self.sink = sink
        self.queues = queues
        self.publishers = publishers
        self.reply_timeout = broker.options.reply_timeout
        self.prefetch = broker.options.prefetch
        self.handoff_after = broker.options.handoff_ms / 1000.0
        self.subscription = Subscription(
            broker, publishers, f"rpc-server-{target.topic}", queues[-1].name, self._subscribe
        )
        self._max_threads = max(threads, 1)
        self._threads: list[threading.Thread] = []
        self._leader = threading.Lock()
        self._state = threading.Lock()
        self._followers = 0
        self._timer = Timer(f"rpc-handoff-{target.topic}", linger=self.handoff_after)
        self._inbox: collections.deque[AmqpIncoming] = collections.deque()
        self._closed = threading.Event()

    def start(self, ready_timeout: float) -> None:
        self._timer.start()
        self._spawn()
        if not self.subscription.ready.wait(ready_timeout):
            error = self.subscription.last_error
            LOG.warning(
                "RPC server for %s is not consuming yet (%s: %s); it keeps trying",
                self.target,
                self.subscription.broker.where,
                "unreachable" if error is None else f"{type(error).__name__}: {error}",
            )

    def stop(self) -> None:
        self.subscription.stop()
        self._closed.wait(TICK * 3)

    def wait(self) -> None:
        with self._state:
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()
        self._timer.stop()

    def _spawn(self) -> None:
        with self._state:
            if len(self._threads) >= self._max_threads:
                return
            thread = threading.Thread(
                target=self._work,
                name=f"rpc-{self.target.topic}-{len(self._threads)}",
                daemon=True,
            )
            self._threads.append(thread)
        thread.start()

    def _subscribe(self, channel: Any) -> None:
        # Requests are acknowledged as soon as they are drained, so the prefetch
        # bounds what waits in this server's socket while all its threads are
        # busy (at most ``prefetch`` requests of at most max_message_size each);
        # the rest stays in the queue for the topic's other servers.
        kombu.Consumer(
            channel,
            queues=self.queues,
            on_message=self._on_message,
            prefetch_count=self.prefetch,
        ).consume()

    def _on_message(self, message: Any) -> None:
        # Acknowledged on receipt, as oslo.messaging does: a request runs at most
        # once, never twice after a redelivery; a bad one is acked too (answered
        # or dropped by the server), so it cannot come back in a loop.
        message.ack()
        props = message.properties
        reply_to = props.get("reply_to")
        if not message.body and not reply_to:
            # The stop signal, or an empty cast: nothing to run, no one to answer.
            if not self.subscription.stopping.is_set():
                LOG.warning(
                    "RPC server for %s dropped an empty message with no reply address",
                    self.target,
                )
            return
        self._inbox.append(
            AmqpIncoming(
                message.body,
                self.publishers,
                self.reply_timeout,
                reply_to,
                props.get("correlation_id"),
                message.delivery_info.get("routing_key", ""),
            )
        )

    def _next(self) -> AmqpIncoming | None:
        """As the leader: the next request, or None once stopping."""
        subscription = self.subscription
        while True:
            if self._inbox:
                return self._inbox.popleft()
            if subscription.stopping.is_set():
                return None
            subscription.drain()

    def _work(self) -> None:
        while True:
            with self._state:
                self._followers += 1
            self._leader.acquire()
            with self._state:
                self._followers -= 1
            if not self._lead():
                return

    def _lead(self) -> bool:
        """Drain and run requests until the leadership is handed over (True) or
        the listener stops (False). Called holding ``_leader``."""
        while True:
            incoming = self._next()
            if incoming is None:
                self.subscription.close()
                self._closed.set()
                self._leader.release()
                return False
            episode = _Episode()
            handoff = self._timer.call_later(
                self.handoff_after, functools.partial(self._hand_over, episode)
            )
            if self._inbox or self.subscription.has_waiting_data():
                self._hand_over(episode)
            try:
                self.sink.process(incoming)
            except Exception:  # the sink replies to failures itself; this is a bug
                LOG.exception("RPC server for %s failed to process a message", self.target)
            finally:
                self._timer.cancel(handoff)
                with self._state:
                    episode.done = True
            if episode.handed_over:
                return True

    def _hand_over(self, episode: _Episode) -> None:
        """Let a follower drain while the leader of ``episode`` is still busy."""
        with self._state:
            if episode.done or episode.handed_over:
                return
            episode.handed_over = True
            spawn = self._followers == 0
        if spawn:
            self._spawn()
        # A Lock may be released by another thread: this one gives the busy
        # leader's place to a follower.
        self._leader.release()


class _Episode:
    """One request run by a leader: whether it handed the draining over."""

    __slots__ = ("done", "handed_over")

    def __init__(self) -> None:
        self.done = False
        self.handed_over = False


class ReplyConsumer:
    """A client's exclusive ``reply_<uuid>`` queue, and who reads it.

    A call reads the queue itself while it waits, when no one else does: its
    reply then needs no thread switch. Otherwise (another call is reading, or
    the client has been idle) the reply thread reads it and hands each reply or
    heartbeat to the waiting call by correlation id. The reply thread also keeps
    the connection alive while the client is idle, and makes it again after the
    broker was lost. One lock, ``_reading``, says who may read.
    """

    def __init__(self, broker: Broker, publishers: PublisherPool) -> None:
        self.queue = kombu.Queue(
            f"reply_{uuid.uuid4().hex}", durable=False, auto_delete=True, exclusive=True
        )
        self.pending: dict[str, PendingCall[bytes | str]] = {}
        self.publishers = publishers
        self.subscription = Subscription(
            broker, publishers, f"rpc-{self.queue.name}", self.queue.name, self._subscribe
        )
        self.last_call = 0.0
        self._reading = threading.Lock()
        self._wake = threading.Condition(threading.Lock())
        self._poked = False
        self._thread = threading.Thread(target=self._run, name=self.subscription.name, daemon=True)

    @property
    def ready(self) -> threading.Event:
        return self.subscription.ready

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.subscription.stop()
        self._poke()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(TICK * 3)

    def wait(self, pending: PendingCall[bytes | str], timeout: float | None) -> bytes | str:
        """The reply to ``pending``: read the queue here if no one else does."""
        subscription = self.subscription
        if self._reading.acquire(blocking=False):
            try:
                while pending.reply is None and subscription.ready.is_set():
                    if subscription.stopping.is_set():
                        break
                    remaining = None
                    if timeout is not None:
                        remaining = pending.last_seen + timeout - time.monotonic()
                        if remaining <= 0:
                            break
                    subscription.drain(remaining, connect=False, backoff=False)
            finally:
                self._reading.release()
                if self.pending or not subscription.ready.is_set():
                    self._poke()  # others wait, or the broker was lost
        return pending.wait(timeout)

    def verify(self, deadline: float) -> None:
        """Make sure the reply queue still exists before a call sends a request
        whose reply must come back to it.

        Exclusive queues die with the broker. After any connection of this
        process was seen lost, a ping (an empty message) goes to the reply queue:
        when it comes back, the queue is alive; if the queue is gone, the reader
        finds its connection dead and subscribes again. Raises
        :class:`MessageDeliveryFailure` at ``deadline``.
        """
        subscription = self.subscription
        while not subscription.is_current():
            self._poke()  # someone must read: the reply thread, if no call does
            if subscription.ready.is_set():
                epoch = subscription.broker.epoch
                self.publishers.publish(
                    b"",
                    exchange="",
                    routing_key=self.queue.name,
                    deadline=deadline,
                    purpose=f"liveness check of {self.queue.name}",
                    overflow=True,
                    delivery_mode=TRANSIENT,
                    correlation_id=f"{PING_PREFIX}{epoch}",
                )
            if subscription.wait_current(min(deadline, time.monotonic() + TICK)):
                return
            if time.monotonic() >= deadline or subscription.stopping.is_set():
                raise MessageDeliveryFailure(
                    f"cannot receive replies: reply queue {self.queue.name} on "
                    f"{subscription.broker.where} not confirmed alive in time"
                )

    def _poke(self) -> None:
        with self._wake:
            self._poked = True
            self._wake.notify()

    def _run(self) -> None:
        subscription = self.subscription
        stopping = subscription.stopping
        while not stopping.is_set():
            # Stay out of the way while calls come and go: they read for themselves.
            with self._wake:
                while not (self._poked or stopping.is_set() or not subscription.ready.is_set()):
                    idle = time.monotonic() - self.last_call
                    if idle >= TICK:
                        break
                    self._wake.wait(TICK - idle)
                self._poked = False
            with self._reading:
                while not stopping.is_set():
                    subscription.drain()
                    if self.pending or not subscription.ready.is_set():
                        continue
                    if time.monotonic() - self.last_call < TICK:
                        break  # the client is active again: let its calls read
        with self._reading:
            subscription.close()

    def _subscribe(self, channel: Any) -> None:
        kombu.Consumer(
            channel, queues=[self.queue], on_message=self._on_message, no_ack=True
        ).consume()

    def _on_message(self, message: Any) -> None:
        correlation_id = message.properties.get("correlation_id")
        pending = self.pending.get(correlation_id) if correlation_id else None
        body = message.body
        if pending is None:
            if correlation_id and correlation_id.startswith(PING_PREFIX):
                self.subscription.confirm(int(correlation_id[len(PING_PREFIX) :]))
                return
            if body:
                LOG.debug("%s: dropping a reply to a finished call", self.queue.name)
            return
        if body in (HEARTBEAT_TEXT, HEARTBEAT_BODY):
            pending.touch()
            METRICS.incr("rpc.heartbeats_received")
            return
        self.pending.pop(correlation_id, None)
        pending.deliver(body)
