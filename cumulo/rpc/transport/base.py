"""What a transport provides to clients and servers, whatever carries the bytes.

Clients hand a transport encoded requests (``cast``, or ``call`` through their
own :class:`ReplyChannel`); servers register a :class:`MessageSink` with
``listen`` and get :class:`Incoming` messages they can reply to.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Protocol

from ..limits import MessageLimits
from ..target import Target
from ..wire import DEFAULT_LIMITS, Failure, Result


class Incoming(abc.ABC):
    """One request delivered to a server."""

    __slots__ = ("body",)

    sends_heartbeats = True
    """False when the caller cannot be waiting separately (a call run in its thread)."""

    @property
    def sender(self) -> str:
        """Who sent it, as far as the transport knows (for the server's logs)."""
        return "a client in this process"

    def __init__(self, body: bytes | str) -> None:
        self.body = body

    @property
    @abc.abstractmethod
    def expects_reply(self) -> bool:
        """True for a call: the server must answer with :meth:`reply`."""

    @abc.abstractmethod
    def reply(self, body: bytes) -> None:
        """Send the final reply (an encoded result or failure)."""

    @abc.abstractmethod
    def heartbeat(self) -> None:
        """Tell the caller the endpoint is still working."""


class MessageSink(Protocol):
    """What a server gives a transport to deliver requests to."""

    def submit(self, incoming: Incoming, /) -> None:
        """Process ``incoming`` on the server's own threads."""
        ...

    def process(self, incoming: Incoming, /) -> None:
        """Process ``incoming`` now, in the calling thread."""
        ...


class Listener(abc.ABC):
    """A server's subscription to its target's queues."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop delivering new messages (those being processed go on)."""

    def wait(self) -> None:  # noqa: B027 - optional, nothing to wait for by default
        """Wait for the messages being processed by the listener's own threads."""


class ReplyChannel(abc.ABC):
    """A client's private way of getting replies (one per client)."""

    @abc.abstractmethod
    def call(
        self,
        target: Target,
        body: bytes,
        timeout: float | None,
        describe: Callable[[], str],
    ) -> Result | Failure:
        """Send a request and wait for its reply.

        ``timeout`` bounds the silence of the server: heartbeats extend it.
        Raises :class:`~cumulo.rpc.MessagingTimeout` when it elapses.
        """

    def close(self) -> None:  # noqa: B027 - optional, nothing to release by default
        """Release the channel's resources (reply queue, thread)."""


class Transport(abc.ABC):
    """A connection to a message bus, shared by the clients and servers of a process."""

    url: str

    limits: MessageLimits = DEFAULT_LIMITS
    """What every message sent or received through this transport is held to."""

    @abc.abstractmethod
    def cast(self, target: Target, body: bytes, timeout: float | None) -> None:
        """Send a request that gets no reply (to every server when ``target.fanout``).

        ``timeout`` bounds how long delivery to the bus may take.
        """

    @abc.abstractmethod
    def reply_channel(self) -> ReplyChannel:
        """A new private reply channel for one client."""

    @abc.abstractmethod
    def listen(self, target: Target, sink: MessageSink, *, threads: int = 64) -> Listener:
        """Start delivering the requests for ``target`` (topic, topic.server, fanout).

        A transport that runs requests on threads of its own uses at most
        ``threads``; others hand them to ``sink.submit``.
        """

    def cleanup(self) -> None:  # noqa: B027 - optional, nothing to release by default
        """Release connections and threads held by the transport."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"
