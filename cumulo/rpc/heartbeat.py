"""The caller's side of a call: waiting for the reply, kept alive by heartbeats.

While an endpoint runs, the server sends a "still working" reply every
``interval`` seconds (the caller asks for half its timeout; the server's
:class:`~cumulo.rpc.timer.Timer` sends them). The caller's timeout therefore
bounds *silence*, not duration: a slow but healthy call lives on, and a dead
server is detected within one timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from .exceptions import MessagingTimeout

MIN_HEARTBEAT_INTERVAL = 0.02
"""Heartbeats are never sent more often than this, whatever a caller asks."""

T = TypeVar("T")


class PendingCall(Generic[T]):
    """The caller's side of one call: waits for the reply, extended by heartbeats."""

    __slots__ = ("_done", "describe", "heartbeats", "last_seen", "reply")

    def __init__(self, describe: Callable[[], str] = lambda: "call") -> None:
        self._done = threading.Lock()
        self._done.acquire()
        self.reply: T | None = None
        self.last_seen = time.monotonic()
        self.heartbeats = 0
        self.describe = describe

    def deliver(self, reply: T) -> None:
        """The reply arrived (called once, from any thread)."""
        self.reply = reply
        self._done.release()

    def touch(self) -> None:
        """A heartbeat arrived: the server is still working on it."""
        self.last_seen = time.monotonic()
        self.heartbeats += 1

    def wait(self, timeout: float | None) -> T:
        """The reply, or :class:`MessagingTimeout` after ``timeout`` s without news."""
        if timeout is None:
            self._done.acquire()
        else:
            while True:
                remaining = self.last_seen + timeout - time.monotonic()
                if remaining > 0 and self._done.acquire(timeout=remaining):
                    break
                if self.last_seen + timeout <= time.monotonic():
                    if self._done.acquire(blocking=False):
                        break
                    raise MessagingTimeout(
                        f"Timed out waiting for a reply to {self.describe()}: no reply and no "
                        f"heartbeat for {timeout:g} s (heartbeats received: {self.heartbeats})"
                    )
        reply = self.reply
        assert reply is not None
        return reply
