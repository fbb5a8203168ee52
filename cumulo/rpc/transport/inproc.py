"""``inproc://``: clients and servers of one process, with no broker and no polling.

A call is a direct hand-off. By default (``calls=direct``) it runs the server's
dispatcher in the caller's thread: the request and the reply are still encoded
to JSON bytes and decoded, so what crosses is exactly what would cross a wire,
and a call costs microseconds. With ``calls=pool`` the request goes to the
server's worker threads instead, and the caller waits with the same heartbeat
and timeout rules as over RabbitMQ.

Casts always go to the server's worker threads. Transports with the same URL
name (``inproc://`` or ``inproc://name``) share one bus, the way two processes
share a broker. A cast sent before any server listens on its topic waits on the
bus for the first one (as it would in a durable queue); a call waits for a
server until its timeout; a fanout cast with no server reaches nobody.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from ..exceptions import InvalidTarget, MessagingTimeout, TransportURLError
from ..heartbeat import PendingCall
from ..limits import MessageLimits, limits_from_query
from ..metrics import METRICS
from ..target import Target
from ..wire import Failure, Heartbeat, Result, decode_reply
from .base import Incoming, Listener, MessageSink, ReplyChannel, Transport

Route = tuple[str, ...]


def _routes_for_server(target: Target) -> list[Route]:
    assert target.topic is not None
    routes: list[Route] = [("topic", target.topic), ("fanout", target.topic)]
    if target.server:
        routes.append(("server", target.topic, target.server))
    return routes


def _route_for_request(target: Target) -> Route:
    if target.topic is None:
        raise InvalidTarget(f"a topic is required to send a message: {target}")
    if target.fanout:
        return ("fanout", target.topic)
    if target.server:
        return ("server", target.topic, target.server)
    return ("topic", target.topic)


class _Bus:
    """The routes of one ``inproc://`` name: which sinks serve which route."""

    def __init__(self) -> None:
        # Copy-on-write: readers take the current dict without a lock.
        self.routes: dict[Route, tuple[MessageSink, ...]] = {}
        self.backlog: dict[Route, deque[bytes]] = {}
        self.cond = threading.Condition(threading.Lock())
        self.turn = itertools.count()

    def add(self, target: Target, sink: MessageSink) -> list[bytes]:
        """Register ``sink``; return the casts that waited for a server."""
        waiting: list[bytes] = []
        with self.cond:
            routes = dict(self.routes)
            for route in _routes_for_server(target):
                routes[route] = (*routes.get(route, ()), sink)
                if route[0] != "fanout":
                    backlog = self.backlog.pop(route, None)
                    if backlog:
                        waiting.extend(backlog)
            self.routes = routes
            self.cond.notify_all()
        return waiting

    def remove(self, target: Target, sink: MessageSink) -> None:
        with self.cond:
            routes = dict(self.routes)
            for route in _routes_for_server(target):
                remaining = tuple(s for s in routes.get(route, ()) if s is not sink)
                if remaining:
                    routes[route] = remaining
                else:
                    routes.pop(route, None)
            self.routes = routes

    def pick(self, route: Route, timeout: float | None) -> MessageSink | None:
        """One sink serving ``route`` (round robin), waiting up to ``timeout`` for one."""
        sinks = self.routes.get(route)
        if not sinks:
            deadline = None if timeout is None else time.monotonic() + timeout
            with self.cond:
                while not (sinks := self.routes.get(route)):
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return None
                    self.cond.wait(remaining)
        if len(sinks) == 1:
            return sinks[0]
        return sinks[next(self.turn) % len(sinks)]

    def cast(self, route: Route, body: bytes) -> None:
        sinks = self.routes.get(route)
        if not sinks:
            with self.cond:
                sinks = self.routes.get(route)
                if not sinks:
                    if route[0] != "fanout":
                        self.backlog.setdefault(route, deque()).append(body)
                    return
        if route[0] == "fanout":
            for sink in sinks:
                sink.submit(_CastIncoming(body))
        else:
            sink = sinks[0] if len(sinks) == 1 else sinks[next(self.turn) % len(sinks)]
            sink.submit(_CastIncoming(body))


_BUSES: dict[str, _Bus] = {}
_BUSES_LOCK = threading.Lock()


def _bus(name: str) -> _Bus:
    with _BUSES_LOCK:
        bus = _BUSES.get(name)
        if bus is None:
            bus = _BUSES[name] = _Bus()
        return bus


class _CastIncoming(Incoming):
    __slots__ = ()

    @property
    def expects_reply(self) -> bool:
        return False

    def reply(self, body: bytes) -> None:
        pass

    def heartbeat(self) -> None:
        pass


class _DirectIncoming(Incoming):
    """A call run in the caller's thread: the reply is simply kept."""

    __slots__ = ("reply_body",)

    sends_heartbeats = False

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.reply_body: bytes | None = None

    @property
    def expects_reply(self) -> bool:
        return True

    def reply(self, body: bytes) -> None:
        self.reply_body = body

    def heartbeat(self) -> None:
        pass


class _PooledIncoming(Incoming):
    """A call handed to the server's threads: replies go to the waiting caller."""

    __slots__ = ("pending",)

    def __init__(self, body: bytes, pending: PendingCall[bytes]) -> None:
        super().__init__(body)
        self.pending = pending

    @property
    def expects_reply(self) -> bool:
        return True

    def reply(self, body: bytes) -> None:
        self.pending.deliver(body)

    def heartbeat(self) -> None:
        self.pending.touch()
        METRICS.incr("rpc.heartbeats_received")


class _InprocReplyChannel(ReplyChannel):
    def __init__(self, bus: _Bus, pooled: bool, limits: MessageLimits) -> None:
        self._bus = bus
        self._pooled = pooled
        self._limits = limits

    def call(
        self,
        target: Target,
        body: bytes,
        timeout: float | None,
        describe: Callable[[], str],
    ) -> Result | Failure:
        if target.fanout:
            raise InvalidTarget(f"call() cannot be used with a fanout target: {target}")
        started = time.monotonic()
        sink = self._bus.pick(_route_for_request(target), timeout)
        if sink is None:
            raise MessagingTimeout(
                f"Timed out waiting for a reply to {describe()}: no server listens on "
                f"{target} (waited {timeout:g} s)"
            )
        if self._pooled:
            pending: PendingCall[bytes] = PendingCall(describe)
            sink.submit(_PooledIncoming(body, pending))
            if timeout is not None:
                timeout = max(timeout - (time.monotonic() - started), 0.0)
            reply_body = pending.wait(timeout)
        else:
            incoming = _DirectIncoming(body)
            sink.process(incoming)
            if incoming.reply_body is None:
                raise MessagingTimeout(f"the server sent no reply to {describe()}")
            reply_body = incoming.reply_body
        reply = decode_reply(reply_body, self._limits)
        assert not isinstance(reply, Heartbeat)
        return reply


class _InprocListener(Listener):
    def __init__(self, bus: _Bus, target: Target, sink: MessageSink) -> None:
        self._bus = bus
        self._target = target
        self._sink = sink
        for body in bus.add(target, sink):
            sink.submit(_CastIncoming(body))

    def stop(self) -> None:
        self._bus.remove(self._target, self._sink)


class InprocTransport(Transport):
    """See the module docstring. ``inproc://name?calls=direct|pool``."""

    def __init__(self, url: str = "inproc://") -> None:
        parts = urlsplit(url)
        if parts.scheme != "inproc":
            raise TransportURLError(f"not an inproc:// URL: {url!r}")
        query = parse_qs(parts.query)
        unknown = set(query) - {"calls", "max_message_size", "max_depth"}
        if unknown:
            raise TransportURLError(f"unknown option(s) {sorted(unknown)} in {url!r}")
        calls = query.get("calls", ["direct"])[-1]
        if calls not in ("direct", "pool"):
            raise TransportURLError(f"calls={calls!r} in {url!r}: expected 'direct' or 'pool'")
        self.url = url
        self.pooled = calls == "pool"
        self.limits = limits_from_query(query, url)
        self._bus = _bus(parts.netloc + parts.path)

    def cast(self, target: Target, body: bytes, timeout: float | None) -> None:
        self._bus.cast(_route_for_request(target), body)

    def reply_channel(self) -> ReplyChannel:
        return _InprocReplyChannel(self._bus, self.pooled, self.limits)

    def listen(self, target: Target, sink: MessageSink, *, threads: int = 64) -> Listener:
        if target.topic is None:
            raise InvalidTarget(f"a server needs a topic: {target}")
        return _InprocListener(self._bus, target, sink)
