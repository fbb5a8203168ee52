"""Timer: delayed and periodic callbacks on one thread."""

from __future__ import annotations

import threading
import time

from cumulo.rpc.timer import Timer


def test_call_later_runs_once_and_cancel_prevents_it():
    timer = Timer("t")
    timer.start()
    try:
        fired = threading.Event()
        cancelled = threading.Event()
        timer.call_later(0.02, fired.set)
        key = timer.call_later(0.02, cancelled.set)
        timer.cancel(key)
        assert fired.wait(2)
        time.sleep(0.05)
        assert not cancelled.is_set()
    finally:
        timer.stop()


def test_call_every_repeats_until_cancelled():
    timer = Timer("t")
    timer.start()
    try:
        count = 0
        three = threading.Event()

        def tick():
            nonlocal count
            count += 1
            if count == 3:
                three.set()

        key = timer.call_every(0.01, tick)
        assert three.wait(2)
        timer.cancel(key)
        seen = count
        time.sleep(0.05)
        assert count in (seen, seen + 1)  # one may have been running
    finally:
        timer.stop()


def test_an_earlier_entry_wakes_the_thread():
    timer = Timer("t")
    timer.start()
    try:
        late = timer.call_later(60, lambda: None)
        early = threading.Event()
        timer.call_later(0.01, early.set)
        assert early.wait(2)
        timer.cancel(late)
    finally:
        timer.stop()


def test_a_failing_callback_does_not_stop_the_timer(caplog):
    timer = Timer("t")
    timer.start()
    try:
        after = threading.Event()
        timer.call_later(0.0, lambda: 1 / 0)
        timer.call_later(0.02, after.set)
        assert after.wait(2)
        assert "a callback failed" in caplog.text
    finally:
        timer.stop()


def test_lingering_keeps_a_wake_up_after_the_last_entry():
    timer = Timer("t", linger=0.05)
    timer.start()
    try:
        key = timer.call_later(0.01, lambda: None)
        timer.cancel(key)
        time.sleep(0.03)
        # Still lingering: a new entry due later than the planned wake-up runs all the same.
        fired = threading.Event()
        timer.call_later(0.08, fired.set)
        assert fired.wait(2)
    finally:
        timer.stop()
