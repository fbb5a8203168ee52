"""``Timer``: one thread running many delayed and periodic callbacks, waking only
when one is due."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

LOG = logging.getLogger(__name__)

_NEVER = float("inf")


class _Entry:
    __slots__ = ("due", "fn", "interval")

    def __init__(self, due: float, interval: float | None, fn: Callable[[], None]) -> None:
        self.due = due
        self.interval = interval
        self.fn = fn


class Timer:
    """Runs callbacks at their due time on one thread.

    Scheduling is a dict insert under a lock; the thread is woken only when the
    new entry is due before its planned wake-up, so entries cancelled before
    they are due (the usual case) cost no thread switch. With none, it sleeps.
    ``linger``: when the last entry is gone, keep a wake-up that far ahead
    instead of sleeping at once, so that a steady stream of short-lived entries
    (a watchdog per request) wakes the thread once per ``linger`` rather than
    twice. Callbacks run on the timer thread, one at a time: they must be short.
    """

    def __init__(self, name: str, linger: float = 0.0) -> None:
        self._linger = linger
        self._entries: dict[int, _Entry] = {}
        self._ids = itertools.count()
        # The hot path (add, cancel) takes the plain lock; only the timer thread
        # waits on the condition, and only an earlier entry notifies it.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._wake_at = _NEVER
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._name = name

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopped = False
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def call_later(self, delay: float, fn: Callable[[], None]) -> int:
        """Run ``fn()`` once, ``delay`` seconds from now, unless cancelled."""
        return self._add(_Entry(time.monotonic() + delay, None, fn))

    def call_every(self, interval: float, fn: Callable[[], None]) -> int:
        """Run ``fn()`` every ``interval`` seconds, first in ``interval``, until cancelled."""
        return self._add(_Entry(time.monotonic() + interval, interval, fn))

    def cancel(self, key: int) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _add(self, entry: _Entry) -> int:
        key = next(self._ids)
        with self._lock:
            self._entries[key] = entry
            if entry.due < self._wake_at:
                self._wake_at = entry.due
                self._cond.notify()
        return key

    def _run(self) -> None:
        lingering = False
        while True:
            due_now: list[_Entry] = []
            with self._cond:
                while not self._stopped:
                    now = time.monotonic()
                    for key, entry in list(self._entries.items()):
                        if entry.due <= now:
                            due_now.append(entry)
                            if entry.interval is None:
                                del self._entries[key]
                            else:
                                entry.due = now + entry.interval
                    if due_now:
                        break
                    if self._entries:
                        self._wake_at = min(e.due for e in self._entries.values())
                        lingering = False
                    elif self._linger and not lingering:
                        self._wake_at = now + self._linger
                        lingering = True
                    else:
                        self._wake_at = _NEVER
                        lingering = False
                    if self._wake_at == _NEVER:
                        self._cond.wait()
                    else:
                        self._cond.wait(self._wake_at - now)
                if self._stopped:
                    return
            for entry in due_now:
                try:
                    entry.fn()
                except Exception:
                    LOG.exception("timer %s: a callback failed", self._name)
