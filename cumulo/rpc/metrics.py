"""Process-wide counters of what the RPC layer did (calls, heartbeats, backports,
reconnects...), for tests, benchmarks and operators."""

from __future__ import annotations

import threading
from collections import Counter


class Counters:
    """Named integer counters, safe to bump from any thread."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def incr(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def get(self, name: str) -> int:
        return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


METRICS = Counters()
"""The counters every client, server, serializer and transport bumps by default.

Names: ``rpc.calls`` and ``rpc.casts`` (sent), ``rpc.timeouts``,
``rpc.remote_errors`` (calls that raised the server's exception),
``rpc.heartbeats_sent`` / ``rpc.heartbeats_received``, ``rpc.object_backports``
(receiver side: asked the conductor), ``rpc.sender_backlevels`` (objects sent
backlevelled to an older peer's manifest),
``rpc.reconnects`` (consuming connections lost and made again) and
``rpc.publish_retries`` (publishes retried on a new connection).
"""
