"""The ``admin`` endpoint every Cumulo service serves beside its own API: the
process's RPC counters (:data:`~cumulo.rpc.METRICS`), so an operator (or a test)
can see how many objects a service backlevelled or had backported during a rolling
upgrade without reading its logs.

Services add :class:`AdminEndpoint` to their RPC server's endpoints; clients use
:func:`get_metrics`. The namespace has its own version, so adding a method later
does not touch the service's main API.
"""

from __future__ import annotations

from typing import Any, Final

from .client import RPCClient
from .metrics import METRICS, Counters
from .target import Target
from .transport import Transport

NAMESPACE: Final = "admin"
API_VERSION: Final = "1.0"
"""1.0: metrics."""


class AdminEndpoint:
    """Serves ``metrics``: a snapshot of ``counters`` (default: the process's)."""

    target = Target(namespace=NAMESPACE, version=API_VERSION)

    def __init__(self, service: str, counters: Counters = METRICS) -> None:
        self.service = service
        self.counters = counters

    def metrics(self, context: Any) -> dict[str, Any]:
        """``{"service": name, "counters": {name: count}}``."""
        return {"service": self.service, "counters": self.counters.snapshot()}


def get_metrics(
    transport: Transport,
    context: Any,
    topic: str,
    server: str | None = None,
    timeout: float | None = 10.0,
) -> dict[str, int]:
    """The counters of the service listening on ``topic`` (``server``: that one)."""
    client = RPCClient(
        transport, Target(topic=topic, namespace=NAMESPACE, version=API_VERSION), timeout=timeout
    )
    try:
        reply = client.prepare(server=server).call(context, "metrics")
    finally:
        client.close()
    counters: dict[str, int] = reply["counters"]
    return counters
