"""``amqp://``: RPC over RabbitMQ through kombu.

Layout on the broker (oslo.messaging's):

- one durable topic exchange per control exchange (``?exchange=``, default
  ``cumulo``); durable queues ``topic`` (any server) and ``topic.server`` (one
  server) bound to it with their own names as routing keys, classic or (with
  ``?queue_type=quorum``) quorum queues;
- a durable fanout exchange ``topic_fanout``, with one exclusive auto-delete
  queue per server;
- one exclusive auto-delete ``reply_<uuid>`` queue per client, read by the
  waiting call itself when no other call is reading it, else by the client's
  reply thread, which hands each reply to its call by correlation id.

Every publish waits for the broker's confirm. Casts are persistent and the
sender declares the queue it sends to, so a cast waits in its durable queue,
through broker restarts, until a server takes it. Calls carry a TTL equal to
their timeout. A publish that fails is retried on a new connection until its
deadline; connections are made again with exponential backoff and jitter, and
consumers re-subscribe on their own after a broker restart.

Delivery is at most once for a request that reached a server (it is
acknowledged on receipt, as in oslo.messaging) and at least once for a publish
whose confirm was lost with its connection (it is sent again). A reply to a
reply queue that is gone (its client died) is dropped. A server's consumer
prefetches ``?prefetch=`` requests (default 8); requests over ``?max_message_size=``
(default 4 MiB) or ``?max_depth=`` are refused by the sender before publishing,
and answered with an error by a server that gets one anyway.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from ...exceptions import InvalidMessage, InvalidTarget, MessageDeliveryFailure
from ...heartbeat import PendingCall
from ...target import Target
from ...wire import Failure, Heartbeat, Result, decode_reply
from ..base import Listener, MessageSink, ReplyChannel, Transport
from . import kombu_api as kombu
from .connections import PERSISTENT, TRANSIENT, Broker, PublisherPool
from .options import AmqpOptions, BrokerAddress, backoff_delays, parse_url
from .subscriptions import ReplyConsumer, ServerListener


class AmqpTransport(Transport):
    """See the module docstring."""

    def __init__(self, url: str) -> None:
        self.address: BrokerAddress = parse_url(url)
        self.url = self.address.safe_url
        self.options: AmqpOptions = self.address.options
        self.limits = self.options.limits()
        self.broker = Broker(self.address)
        self.publishers = PublisherPool(self.broker, self.options.publishers)
        self.control_exchange = kombu.Exchange(
            self.options.exchange, type="topic", durable=True, auto_delete=False
        )
        self._routes: dict[Target, tuple[str, str, Any]] = {}

    def topic_queue(self, name: str) -> Any:
        return kombu.Queue(
            name,
            exchange=self.control_exchange,
            routing_key=name,
            durable=self.options.durable,
            auto_delete=False,
            queue_arguments=self.options.queue_arguments(),
        )

    @staticmethod
    def fanout_exchange(topic: str) -> Any:
        return kombu.Exchange(f"{topic}_fanout", type="fanout", durable=True, auto_delete=False)

    def route(self, target: Target) -> tuple[str, str, Any]:
        """``(exchange, routing key, entity to declare)`` for a request to ``target``."""
        route = self._routes.get(target)
        if route is None:
            if target.topic is None:
                raise InvalidTarget(f"a topic is required to send a message: {target}")
            if target.fanout:
                exchange = self.fanout_exchange(target.topic)
                route = (exchange.name, "", exchange)
            else:
                name = f"{target.topic}.{target.server}" if target.server else target.topic
                route = (self.options.exchange, name, self.topic_queue(name))
            self._routes[target] = route
        return route

    def cast(self, target: Target, body: bytes, timeout: float | None) -> None:
        exchange, routing_key, entity = self.route(target)
        persistent = self.options.durable and not target.fanout
        self.publishers.publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            declare=entity,
            delivery_mode=PERSISTENT if persistent else TRANSIENT,
            deadline=time.monotonic() + (timeout or self.options.publish_timeout),
            purpose=f"cast to {target}",
        )

    def reply_channel(self) -> ReplyChannel:
        return _AmqpReplyChannel(self)

    def listen(self, target: Target, sink: MessageSink, *, threads: int = 64) -> Listener:
        topic = target.topic
        if topic is None:
            raise InvalidTarget(f"a server needs a topic: {target}")
        queues = [self.topic_queue(topic)]
        if target.server:
            queues.append(self.topic_queue(f"{topic}.{target.server}"))
        # Last: the server's own queue, which also carries its stop signal.
        queues.append(
            kombu.Queue(
                f"{topic}_fanout_{uuid.uuid4().hex}",
                exchange=self.fanout_exchange(topic),
                durable=False,
                auto_delete=True,
                exclusive=True,
            )
        )
        listener = ServerListener(self.broker, self.publishers, target, queues, sink, threads)
        listener.start(ready_timeout=self.options.connect_timeout * 2)
        return listener

    def cleanup(self) -> None:
        self.publishers.close()


class _AmqpReplyChannel(ReplyChannel):
    def __init__(self, transport: AmqpTransport) -> None:
        self.transport = transport
        self._consumer: ReplyConsumer | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count()

    def _ready_consumer(self, timeout: float | None) -> ReplyConsumer:
        consumer = self._consumer
        if consumer is None:
            with self._lock:
                if self._consumer is None:
                    self._consumer = ReplyConsumer(self.transport.broker, self.transport.publishers)
                    self._consumer.start()
                consumer = self._consumer
        if not consumer.subscription.is_current():
            wait = self.transport.options.publish_timeout if timeout is None else timeout
            if not consumer.ready.wait(wait):
                raise MessageDeliveryFailure(
                    f"cannot receive replies: {self.transport.broker.where} unreachable "
                    f"(reply queue {consumer.queue.name} not consumed after {wait:g} s)"
                )
            consumer.verify(time.monotonic() + wait)
        return consumer

    def call(
        self,
        target: Target,
        body: bytes,
        timeout: float | None,
        describe: Callable[[], str],
    ) -> Result | Failure:
        if target.fanout:
            raise InvalidTarget(f"call() cannot be used with a fanout target: {target}")
        transport = self.transport
        consumer = self._ready_consumer(timeout)
        exchange, routing_key, queue = transport.route(target)
        reply_queue = consumer.queue.name
        correlation_id = str(next(self._ids))
        pending: PendingCall[bytes | str] = PendingCall(
            lambda: f"{describe()} (reply queue {reply_queue})"
        )
        consumer.pending[correlation_id] = pending
        consumer.last_call = time.monotonic()
        try:
            transport.publishers.publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                declare=queue,
                deadline=time.monotonic() + (timeout or transport.options.publish_timeout),
                purpose=f"call to {target}",
                delivery_mode=TRANSIENT,
                expiration=timeout,
                reply_to=reply_queue,
                correlation_id=correlation_id,
                # The broker may have restarted: the reply queue with it.
                before_retry=consumer.verify,
            )
            # Silence is counted from when the broker has the request.
            pending.last_seen = time.monotonic()
            reply = decode_reply(consumer.wait(pending, timeout), transport.limits)
        finally:
            consumer.pending.pop(correlation_id, None)
        if isinstance(reply, Heartbeat):
            raise InvalidMessage(f"a heartbeat came as the reply to {describe()}")
        return reply

    def close(self) -> None:
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.stop()


__all__ = ["AmqpOptions", "AmqpTransport", "backoff_delays", "parse_url"]
