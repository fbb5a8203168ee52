"""Transports, chosen by URL: ``inproc://`` (one process) and ``amqp://`` (RabbitMQ)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ..exceptions import TransportURLError
from .base import Incoming, Listener, MessageSink, ReplyChannel, Transport


def get_transport(url: str) -> Transport:
    """The transport for ``url``.

    - ``inproc://[name][?calls=direct|pool]``: clients and servers of this process
      that use the same name see each other (see :mod:`.inproc`);
    - ``amqp://user:password@host:port/vhost[?exchange=...&heartbeat=...]`` (or
      ``rabbit://``): RabbitMQ through kombu (see :mod:`.amqp`).
    """
    scheme = urlsplit(url).scheme
    if scheme == "inproc":
        from .inproc import InprocTransport

        return InprocTransport(url)
    if scheme in ("amqp", "rabbit"):
        from .amqp import AmqpTransport

        return AmqpTransport(url)
    raise TransportURLError(
        f"unsupported transport URL {url!r}: expected inproc://... or amqp://..."
    )


__all__ = [
    "Incoming",
    "Listener",
    "MessageSink",
    "ReplyChannel",
    "Transport",
    "get_transport",
]
