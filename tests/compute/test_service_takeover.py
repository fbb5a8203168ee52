"""cumulo/compute/service.py: a second process for a host another live process
serves is refused (naming the host and its heartbeat's age); one started after the
first died takes the host over, whether the heartbeat is still fresh (nothing
answers on the host's queue) or already stale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from cumulo.compute.exceptions import ComputeHostInUse
from cumulo.compute.manager import ComputeManager
from cumulo.compute.service import ComputeService
from cumulo.model import Service, ServiceBinary
from cumulo.virt.fake import FakeConfig

from .deployment import HOST_SIZES, RecordingFakeDriver


@pytest.fixture
def second(deployment) -> Iterator[ComputeService]:
    """Another (not started) service for host-a, as a second process would be."""
    driver = RecordingFakeDriver(
        "host-a",
        FakeConfig(**HOST_SIZES["host-a"]),
        log=[],  # a process of its own
    )
    manager = ComputeManager("host-a", driver, deployment.store, transport=deployment.transport)
    service = ComputeService(deployment.transport, manager, probe_timeout=0.5)
    try:
        yield service
    finally:
        service.stop()
        manager.compute_rpc.close()


def _row(deployment) -> Service:
    return Service.get_by_host_and_binary(deployment.ctx(), "host-a", ServiceBinary.COMPUTE)


def test_a_host_served_by_a_live_process_is_refused(deployment, second):
    before = _row(deployment)
    with pytest.raises(ComputeHostInUse) as info:
        second.start(deployment.ctx())
    message = str(info.value)
    assert message.startswith("compute host 'host-a' is already served by another process")
    assert "heartbeat is" in message and "s old (service_down_time 60 s)" in message
    assert 0 <= info.value.heartbeat_age < 60
    assert second.server is None  # nothing served, nothing registered
    assert _row(deployment).report_count == before.report_count
    assert deployment.boot(deployment.flavor(), host="host-a").vm_state.value == "active"


def test_a_host_whose_process_died_is_taken_over_at_once(deployment, second):
    deployment.services["host-a"].stop()  # its heartbeat stays fresh; nothing answers
    second.start(deployment.ctx())
    assert second.server is not None
    assert _row(deployment).last_seen_up > datetime.now(UTC) - timedelta(seconds=5)


def test_a_host_whose_heartbeat_is_stale_is_taken_over_without_asking(deployment, second):
    row = _row(deployment)
    row.last_seen_up = datetime.now(UTC) - timedelta(seconds=61)
    row.save()
    deployment.services["host-a"]._stop.set()  # no more heartbeats, though it still serves
    second.start(deployment.ctx())
    assert second.server is not None
