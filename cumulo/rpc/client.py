"""``RPCClient``: ``call`` and ``cast`` to a target, with ``prepare`` for per-call
overrides and a ``version_cap`` enforced before anything is sent."""

from __future__ import annotations

import enum
import threading
from typing import Any, Literal

from .exceptions import InvalidTarget, MessageTooLarge, MessagingTimeout, RPCVersionCapError
from .metrics import METRICS, Counters
from .remote_errors import ALLOWED_EXCEPTIONS, ExceptionAllowList, exception_from_failure
from .serializer import PlainSerializer, Serializer
from .target import Target, parse_version, version_is_compatible
from .transport.base import ReplyChannel, Transport
from .wire import Failure, Request, encode_request

DEFAULT_TIMEOUT = 60.0
DEFAULT_VERSION = "1.0"


class _Unset(enum.Enum):
    UNSET = 0


UNSET = _Unset.UNSET
"""Marks a ``prepare()`` argument that keeps the client's value."""


class _ClientState:
    """What a client and every context prepared from it share."""

    def __init__(
        self,
        transport: Transport,
        serializer: Serializer,
        allowed: ExceptionAllowList,
        metrics: Counters,
    ) -> None:
        self.transport = transport
        self.serializer = serializer
        self.allowed = allowed
        self.metrics = metrics
        self.lock = threading.Lock()
        self.replies: ReplyChannel | None = None

    def reply_channel(self) -> ReplyChannel:
        replies = self.replies
        if replies is None:
            with self.lock:
                if self.replies is None:
                    self.replies = self.transport.reply_channel()
                replies = self.replies
        return replies


def _check_timeout(timeout: float | None) -> float | None:
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    return timeout


class CallContext:
    """A client's target, timeout and cap; :meth:`RPCClient.prepare` makes new ones."""

    def __init__(
        self,
        state: _ClientState,
        target: Target,
        timeout: float | None,
        version_cap: str | None,
    ) -> None:
        if version_cap is not None:
            parse_version(version_cap)
        self._state = state
        self.target = target
        self.timeout = _check_timeout(timeout)
        self.version_cap = version_cap

    @property
    def transport(self) -> Transport:
        return self._state.transport

    @property
    def serializer(self) -> Serializer:
        return self._state.serializer

    def prepare(
        self,
        *,
        topic: str | Literal[_Unset.UNSET] = UNSET,
        server: str | Literal[_Unset.UNSET] | None = UNSET,
        version: str | Literal[_Unset.UNSET] | None = UNSET,
        namespace: str | Literal[_Unset.UNSET] | None = UNSET,
        fanout: bool | Literal[_Unset.UNSET] = UNSET,
        timeout: float | Literal[_Unset.UNSET] | None = UNSET,
        version_cap: str | Literal[_Unset.UNSET] | None = UNSET,
    ) -> CallContext:
        """A context with some of the target, timeout or cap changed.

        ``server=`` addresses one server (``topic.server``), ``fanout=True`` every
        server on the topic (casts only); ``version=`` is the message version.
        """
        changes = {
            name: value
            for name, value in (
                ("topic", topic),
                ("server", server),
                ("version", version),
                ("namespace", namespace),
                ("fanout", fanout),
            )
            if value is not UNSET
        }
        return CallContext(
            self._state,
            self.target.replace(**changes) if changes else self.target,
            self.timeout if timeout is UNSET else timeout,
            self.version_cap if version_cap is UNSET else version_cap,
        )

    def can_send_version(self, version: str | None = None) -> bool:
        """True when ``version`` (default: the target's) is within the version cap."""
        cap = self.version_cap
        if cap is None:
            return True
        return version_is_compatible(cap, version or self.target.version or DEFAULT_VERSION)

    def call(self, ctx: Any, method: str, /, **kwargs: Any) -> Any:
        """Invoke ``method(ctx, **kwargs)`` on one server and return its result.

        Raises the server's exception (typed when allow-listed, else
        :class:`~cumulo.rpc.RemoteError`), or :class:`~cumulo.rpc.MessagingTimeout`
        when the server is silent (no reply, no heartbeat) for ``timeout`` s.
        """
        target = self.target
        if target.fanout:
            raise InvalidTarget(f"call() cannot be used with a fanout target: {target}")
        timeout = self.timeout
        body = self._encode(
            self._request(ctx, method, kwargs, None if timeout is None else timeout / 2)
        )
        state = self._state
        try:
            reply = state.reply_channel().call(
                target, body, timeout, lambda: f"{method}() on {target}"
            )
        except MessagingTimeout:
            state.metrics.incr("rpc.timeouts")
            raise
        state.metrics.incr("rpc.calls")
        if isinstance(reply, Failure):
            state.metrics.incr("rpc.remote_errors")
            raise exception_from_failure(reply, state.allowed)
        return state.serializer.deserialize_entity(ctx, reply.value)

    def cast(self, ctx: Any, method: str, /, **kwargs: Any) -> None:
        """Invoke ``method(ctx, **kwargs)`` without waiting (on every server if fanout)."""
        body = self._encode(self._request(ctx, method, kwargs, None))
        self._state.transport.cast(self.target, body, self.timeout)
        self._state.metrics.incr("rpc.casts")

    def _encode(self, request: Request) -> bytes:
        """``request`` on the wire, refused here (nothing sent) with
        :class:`~cumulo.rpc.MessageTooLarge` when it is over the transport's
        ``max_message_size``."""
        body = encode_request(request)
        limit = self._state.transport.limits.max_message_size
        if len(body) > limit:
            raise MessageTooLarge(f"request {request.method}() to {self.target}", len(body), limit)
        return body

    def _request(
        self, ctx: Any, method: str, kwargs: dict[str, Any], heartbeat: float | None
    ) -> Request:
        target = self.target
        version = target.version
        cap = self.version_cap
        if cap is not None and not version_is_compatible(cap, version or DEFAULT_VERSION):
            raise RPCVersionCapError(version or DEFAULT_VERSION, cap)
        serializer = self._state.serializer
        return Request(
            method=method,
            args={k: serializer.serialize_entity(ctx, v) for k, v in kwargs.items()},
            context=serializer.serialize_context(ctx),
            version=version,
            namespace=target.namespace,
            heartbeat=heartbeat,
        )


class RPCClient(CallContext):
    """Sends requests to ``target`` through ``transport``.

    ``timeout`` is how long a call may go without news from the server: the
    server sends heartbeats every ``timeout / 2`` seconds while the endpoint
    runs, so a slow but healthy call is not cut short, and a dead server is
    noticed within ``timeout``. ``timeout`` also bounds how long a message may
    take to reach the broker (reconnects during an outage included), so a call
    lasts at most about twice ``timeout`` without news. ``version_cap`` is the
    highest message version
    the peers understand; a message above it raises
    :class:`~cumulo.rpc.RPCVersionCapError` before it is sent.
    """

    def __init__(
        self,
        transport: Transport,
        target: Target,
        version_cap: str | None = None,
        serializer: Serializer | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        *,
        allowed_exceptions: ExceptionAllowList = ALLOWED_EXCEPTIONS,
        metrics: Counters = METRICS,
    ) -> None:
        state = _ClientState(
            transport, serializer or PlainSerializer(), allowed_exceptions, metrics
        )
        super().__init__(state, target, timeout, version_cap)

    def close(self) -> None:
        """Release the client's reply channel (its reply queue and thread)."""
        with self._state.lock:
            replies, self._state.replies = self._state.replies, None
        if replies is not None:
            replies.close()
