"""Guard rails of the rolling upgrade: the conductor refuses a fleet with computes
newer than itself (upgrade the conductor first) or older than the oldest supported
level; a compute below the oldest supported level refuses to start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cumulo.compute import service as compute_service
from cumulo.compute.version import (
    OLDEST_SUPPORTED_SERVICE_VERSION,
    SERVICE_VERSION,
    UnsupportedServiceVersion,
)
from cumulo.conductor.service import ConductorService
from cumulo.model import Service, ServiceBinary, ServiceList
from cumulo.model.base import object_manifest
from tests.compute.deployment import Deployment


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path, hosts=("host-a", "host-b")).start()
    try:
        yield deployment
    finally:
        deployment.stop()


def _set_level(deployment: Deployment, host: str, level: int) -> None:
    service = Service.get_by_host_and_binary(deployment.ctx(), host, ServiceBinary.COMPUTE)
    service.version = level
    service.save()


def _restart_conductor(deployment: Deployment) -> ConductorService:
    assert deployment.conductor is not None
    deployment.conductor.stop()
    deployment.conductor = None
    return ConductorService(deployment.transport, deployment.engine, host="conductor-1")


def test_computes_register_this_level(deployment: Deployment) -> None:
    services = ServiceList.get_all(deployment.ctx(), ServiceBinary.COMPUTE).objects
    assert sorted((s.host, s.version) for s in services) == [
        ("host-a", SERVICE_VERSION),
        ("host-b", SERVICE_VERSION),
    ]
    restarted = _restart_conductor(deployment)
    restarted.start().stop()


def test_conductor_older_than_a_compute_refuses_to_start(deployment: Deployment) -> None:
    _set_level(deployment, "host-b", SERVICE_VERSION + 1)
    conductor = _restart_conductor(deployment)
    with pytest.raises(UnsupportedServiceVersion) as caught:
        conductor.start()
    message = str(caught.value)
    assert f"host-b (level {SERVICE_VERSION + 1})" in message
    assert "upgrade the conductor first" in message
    assert "host-a" not in message
    assert conductor.server is None


def test_conductor_refuses_computes_below_the_oldest_supported(deployment: Deployment) -> None:
    _set_level(deployment, "host-a", OLDEST_SUPPORTED_SERVICE_VERSION - 1)
    conductor = _restart_conductor(deployment)
    with pytest.raises(UnsupportedServiceVersion, match=r"host-a \(level 0\)"):
        conductor.start()


def test_deleted_compute_rows_do_not_count(deployment: Deployment) -> None:
    from sqlalchemy import update

    from cumulo.db.models import ServiceRow

    _set_level(deployment, "host-b", SERVICE_VERSION + 1)
    with deployment.engine.begin() as connection:
        connection.execute(
            update(ServiceRow).where(ServiceRow.host == "host-b").values(deleted=ServiceRow.id)
        )
    _restart_conductor(deployment).start().stop()


def test_compute_below_the_oldest_supported_refuses_to_start(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compute_service, "SERVICE_VERSION", OLDEST_SUPPORTED_SERVICE_VERSION - 1)
    with pytest.raises(UnsupportedServiceVersion, match="compute host-c is at service level 0"):
        deployment.add_host("host-c")
    # Nothing was registered for it.
    hosts = {s.host for s in ServiceList.get_all(deployment.ctx(), ServiceBinary.COMPUTE).objects}
    assert hosts == {"host-a", "host-b"}


def test_the_conductor_registers_its_level_and_heartbeats(deployment: Deployment) -> None:
    conductor = deployment.conductor
    assert conductor is not None
    ctx = deployment.ctx()
    row = Service.get_by_host_and_binary(ctx, conductor.host, ServiceBinary.CONDUCTOR)
    assert (row.version, row.topic, row.rpc_api_version) == (SERVICE_VERSION, "conductor", "1.0")
    assert row.object_manifest == object_manifest()
    conductor.report_state()
    conductor.report_state()
    beaten = Service.get_by_host_and_binary(ctx, conductor.host, ServiceBinary.CONDUCTOR)
    assert beaten.report_count == row.report_count + 2
    assert beaten.last_seen_up is not None and row.last_seen_up is not None
    assert beaten.last_seen_up >= row.last_seen_up
    # A restart updates the same row.
    restarted = _restart_conductor(deployment)
    restarted.host = conductor.host
    with restarted:
        again = ServiceList.get_all(ctx, ServiceBinary.CONDUCTOR).objects
    assert [s.id for s in again] == [row.id]
