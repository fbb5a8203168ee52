"""Heartbeats keep slow calls alive; silence beyond the timeout is a MessagingTimeout."""

from __future__ import annotations

import threading
import time

import pytest

from cumulo.rpc import METRICS, MessagingTimeout, RPCClient, Target
from cumulo.rpc.heartbeat import PendingCall


class Slow:
    def __init__(self) -> None:
        self.release = threading.Event()

    def sleep(self, ctx, seconds):
        time.sleep(seconds)
        return "done"

    def block(self, ctx):
        self.release.wait(10)
        return "released"


def test_a_slow_call_outlives_a_short_timeout_on_heartbeats(pooled_transport, serve, ctx):
    serve(pooled_transport, Target("compute"), [Slow()])
    client = RPCClient(pooled_transport, Target("compute"), timeout=0.3)
    sent, received = METRICS.get("rpc.heartbeats_sent"), METRICS.get("rpc.heartbeats_received")
    assert client.call(ctx, "sleep", seconds=1.0) == "done"
    assert METRICS.get("rpc.heartbeats_sent") - sent >= 3  # every 0.15 s
    assert METRICS.get("rpc.heartbeats_received") - received >= 3


def test_a_slow_call_in_the_callers_thread_is_never_cut_short(transport, serve, ctx):
    serve(transport, Target("compute"), [Slow()])
    client = RPCClient(transport, Target("compute"), timeout=0.2)
    assert client.call(ctx, "sleep", seconds=0.4) == "done"


def test_a_call_no_thread_works_on_times_out(pooled_transport, serve, ctx):
    # One worker, busy: the second call is queued, gets no heartbeat, and times out
    # within its timeout - what a caller sees of a dead or wedged server.
    slow = Slow()
    serve(pooled_transport, Target("compute"), [slow], executor_threads=1)
    client = RPCClient(pooled_transport, Target("compute"), timeout=5)
    first = threading.Thread(target=client.call, args=(ctx, "block"))
    first.start()
    try:
        time.sleep(0.05)
        timeouts = METRICS.get("rpc.timeouts")
        start = time.monotonic()
        with pytest.raises(MessagingTimeout, match=r"sleep\(\) on <Target topic=compute>"):
            client.prepare(timeout=0.3).call(ctx, "sleep", seconds=0)
        assert 0.25 <= time.monotonic() - start < 2
        assert METRICS.get("rpc.timeouts") == timeouts + 1
    finally:
        slow.release.set()
        first.join(5)


def test_no_server_is_a_timeout_naming_the_target(transport, ctx):
    client = RPCClient(transport, Target("nobody", server="h9"), timeout=0.2)
    start = time.monotonic()
    with pytest.raises(MessagingTimeout, match=r"no server listens on <Target topic=nobody"):
        client.call(ctx, "ping")
    assert 0.15 <= time.monotonic() - start < 2


def test_a_call_waits_for_a_server_that_starts_within_its_timeout(transport, serve, ctx):
    client = RPCClient(transport, Target("late"), timeout=5)
    timer = threading.Timer(0.1, serve, args=(transport, Target("late"), [Slow()]))
    timer.start()
    try:
        assert client.call(ctx, "sleep", seconds=0) == "done"
    finally:
        timer.join()


def test_pending_call_counts_silence_from_the_last_heartbeat():
    pending: PendingCall[str] = PendingCall(lambda: "probe()")
    beats = threading.Thread(target=lambda: [time.sleep(0.05) or pending.touch() for _ in range(6)])
    beats.start()
    threading.Timer(0.35, pending.deliver, args=("ok",)).start()
    assert pending.wait(0.15) == "ok"  # 0.35 s in all, never 0.15 s of silence
    assert pending.heartbeats == 6
    beats.join()


def test_pending_call_times_out_after_silence():
    pending: PendingCall[str] = PendingCall(lambda: "probe()")
    with pytest.raises(MessagingTimeout, match=r"reply to probe\(\): no reply and no heartbeat"):
        pending.wait(0.05)


def test_pending_call_without_timeout_waits_for_the_reply():
    pending: PendingCall[str] = PendingCall()
    threading.Timer(0.05, pending.deliver, args=("late",)).start()
    assert pending.wait(None) == "late"
