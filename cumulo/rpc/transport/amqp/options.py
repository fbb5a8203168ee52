"""Settings of an ``amqp://`` URL and the reconnect backoff they drive."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ...exceptions import TransportURLError
from ...limits import DEFAULT_MAX_DEPTH, DEFAULT_MAX_MESSAGE_SIZE, MessageLimits, parse_size

QUEUE_TYPES = ("classic", "quorum")


@dataclass(frozen=True)
class AmqpOptions:
    """Settings taken from the URL's query string (``amqp://...?exchange=nova``)."""

    exchange: str = "cumulo"
    """The control exchange: the topic exchange that the topic queues are bound to."""
    heartbeat: int = 30
    """AMQP heartbeat (s) of consuming connections, so a dead broker is noticed."""
    connect_timeout: float = 5.0
    retry_interval: float = 0.2
    """First reconnect delay (s); multiplied by ``retry_backoff`` up to ``retry_max``."""
    retry_backoff: float = 2.0
    retry_max: float = 10.0
    jitter: float = 0.5
    """Each delay is shortened by a random fraction up to this, so that many
    clients that lost the broker together do not come back in step."""
    publishers: int = 8
    """Most connections used at once for publishing (one publish at a time each)."""
    publish_timeout: float = 60.0
    """Deadline of a cast sent without a timeout, reconnects included."""
    reply_timeout: float = 30.0
    """How long a server keeps trying to send a reply through a broker outage."""
    durable: bool = True
    """Topic queues survive broker restarts and casts are persistent."""
    prefetch: int = 8
    """Most requests the broker sends a server's connection before they are drained
    (RabbitMQ's consumer prefetch). Requests are acknowledged when drained, so
    what a server holds in memory is at most ``prefetch`` plus one per thread."""
    queue_type: str = "classic"
    """``classic`` or ``quorum``: the type of the durable topic queues (``topic``
    and ``topic.server``). Quorum queues are replicated and always durable; every
    service on a virtual host must use the same type. Fanout and reply queues are
    exclusive to one connection and stay classic."""
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    """Largest request or reply in bytes (``4194304``, ``4MiB``...): refused before
    sending, and answered with an error on receipt."""
    max_depth: int = DEFAULT_MAX_DEPTH
    """Deepest nesting of arrays and objects in a message."""
    handoff_ms: float = 20.0
    """A server thread runs the request it received itself; if it takes longer
    than this, another thread takes over receiving (see ``ServerListener``).
    Shorter means less waiting behind a slow request, and more timer wake-ups."""

    def __post_init__(self) -> None:
        if self.queue_type not in QUEUE_TYPES:
            raise ValueError(
                f"queue_type={self.queue_type!r}: expected one of {', '.join(QUEUE_TYPES)}"
            )
        if self.queue_type == "quorum" and not self.durable:
            raise ValueError("queue_type=quorum needs durable=true (quorum queues are durable)")
        if self.prefetch < 1:
            raise ValueError(f"prefetch={self.prefetch}: expected at least 1")
        # Checks the limits (a bad one raises ValueError).
        self.limits()

    def limits(self) -> MessageLimits:
        return MessageLimits(self.max_message_size, self.max_depth)

    def queue_arguments(self) -> dict[str, str]:
        """The ``x-`` arguments the durable topic queues are declared with."""
        return {"x-queue-type": "quorum"} if self.queue_type == "quorum" else {}

    def delays(self) -> Iterator[float]:
        return backoff_delays(self.retry_interval, self.retry_backoff, self.retry_max, self.jitter)


@dataclass(frozen=True)
class BrokerAddress:
    scheme: str
    host: str
    port: int
    userid: str
    password: str
    virtual_host: str
    options: AmqpOptions

    @property
    def where(self) -> str:
        return f"RabbitMQ at {self.host}:{self.port}"

    @property
    def safe_url(self) -> str:
        """The URL without its password, for logs and messages."""
        vhost = "/" if self.virtual_host == "/" else quote(self.virtual_host, safe="")
        return f"{self.scheme}://{self.userid}:***@{self.host}:{self.port}/{vhost}"


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": lambda text: {"1": True, "true": True, "yes": True, "0": False, "false": False}[
        text.lower()
    ],
}

_FIELD_CONVERTERS: dict[str, Callable[[str], Any]] = {"max_message_size": parse_size}
_EXPECTED = {"max_message_size": "a size in bytes, or with KiB, MiB, GiB (4MiB)"}


def parse_url(url: str) -> BrokerAddress:
    """``amqp://user:password@host:port/vhost?option=value...`` (``//`` is vhost ``/``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "rabbit"):
        raise TransportURLError(f"not an amqp:// URL: {url!r}")
    try:
        port = parts.port or 5672
    except ValueError as exc:
        raise TransportURLError(f"bad port in {url!r}: {exc}") from None
    known = {f.name: f for f in fields(AmqpOptions)}
    values: dict[str, Any] = {}
    for name, raw in parse_qs(parts.query, keep_blank_values=True).items():
        spec = known.get(name)
        if spec is None:
            raise TransportURLError(
                f"unknown option {name!r} in {url!r}; known: {', '.join(sorted(known))}"
            )
        convert = _FIELD_CONVERTERS.get(name) or _CONVERTERS[str(spec.type)]
        try:
            values[name] = convert(raw[-1])
        except (KeyError, ValueError):
            expected = _EXPECTED.get(name, spec.type)
            raise TransportURLError(
                f"option {name}={raw[-1]!r} in {url!r}: expected {expected}"
            ) from None
    try:
        options = AmqpOptions(**values)
    except ValueError as exc:
        raise TransportURLError(f"{exc} in {url!r}") from None
    return BrokerAddress(
        scheme=parts.scheme,
        host=parts.hostname or "localhost",
        port=port,
        userid=unquote(parts.username or "guest"),
        password=unquote(parts.password or "guest"),
        virtual_host=unquote(parts.path[1:]) if len(parts.path) > 1 else "/",
        options=options,
    )


def backoff_delays(
    start: float,
    factor: float,
    maximum: float,
    jitter: float,
    rand: Callable[[], float] = random.random,
) -> Iterator[float]:
    """Reconnect delays: ``start * factor**n`` capped at ``maximum``, each shortened
    by a random fraction of at most ``jitter``."""
    for n in itertools.count():
        base = min(maximum, start * factor ** min(n, 64))
        yield base * (1.0 - jitter * rand())
