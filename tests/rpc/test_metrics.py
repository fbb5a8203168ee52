"""Counters."""

from __future__ import annotations

import threading

from cumulo.rpc import Counters


def test_counters_count_from_many_threads():
    counters = Counters()
    threads = [
        threading.Thread(target=lambda: [counters.incr("x") for _ in range(1000)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counters.incr("y", 5)
    assert counters.get("x") == 4000
    assert counters.snapshot() == {"x": 4000, "y": 5}
    assert counters.get("never") == 0
    counters.reset()
    assert counters.snapshot() == {}
