"""Tests of cumulo/db/queries/service.py: service records, on every backend."""

from __future__ import annotations

import pytest

from cumulo.db.models import ServiceRow
from cumulo.model import (
    AlreadyExists,
    Service,
    ServiceNotFound,
)
from cumulo.model.service import ServiceBinary

from ..conftest import NOW, new_uuid

COMPUTE = ServiceBinary.COMPUTE


def service(host: str, **values) -> Service:
    fields = {"uuid": new_uuid(), "host": host, "binary": COMPUTE, "topic": "compute"}
    fields.update(values)
    return Service(**fields)


def test_services_round_trip(storage, ctx):
    manifest = {"Instance": "1.0", "Flavor": "1.0"}
    created = storage.service_create(
        ctx, service("host-a", version=3, object_manifest=manifest, last_seen_up=NOW)
    )
    assert created.id > 0 and created.object_manifest == manifest
    got = storage.service_get_by_host_and_binary(ctx, "host-a", COMPUTE)
    assert got == created
    saved = storage.service_save(ctx, created.id, {"report_count": 7, "disabled": True})
    assert saved.report_count == 7 and saved.disabled


def test_services_are_unique_per_host_and_binary(storage, ctx, database):
    first = storage.service_create(ctx, service("host-a"))
    with pytest.raises(
        AlreadyExists, match="service already exists: host=host-a, binary=cumulo-compute"
    ):
        storage.service_create(ctx, service("host-a"))
    storage.service_create(ctx, service("host-a", binary=ServiceBinary.CONDUCTOR, topic="c"))
    other = storage.service_create(ctx, service("host-b"))
    with pytest.raises(AlreadyExists, match="host=host-a"):
        storage.service_save(ctx, other.id, {"host": "host-a"})
    with pytest.raises(AlreadyExists, match=f"uuid={first.uuid}"):
        storage.service_save(ctx, other.id, {"uuid": first.uuid})
    assert database.count(ServiceRow) == 3


def test_service_lists_and_minimum_version(storage, ctx):
    assert storage.service_get_minimum_version(ctx, COMPUTE) == 0
    b = storage.service_create(ctx, service("host-b", version=5))
    a = storage.service_create(ctx, service("host-a", version=4, disabled=True))
    c = storage.service_create(ctx, service("host-c", binary=ServiceBinary.CONDUCTOR, version=2))
    assert storage.service_get_all(ctx, None, True) == [a, b, c]
    assert storage.service_get_all(ctx, COMPUTE, True) == [a, b]
    assert storage.service_get_all(ctx, COMPUTE, False) == [b]
    assert storage.service_get_minimum_version(ctx, COMPUTE) == 4
    assert storage.service_get_minimum_version(ctx, ServiceBinary.CONDUCTOR) == 2


def test_unknown_services(storage, ctx):
    with pytest.raises(ServiceNotFound, match="host=nowhere, binary=cumulo-compute"):
        storage.service_get_by_host_and_binary(ctx, "nowhere", COMPUTE)
    with pytest.raises(ServiceNotFound, match="id=3"):
        storage.service_save(ctx, 3, {"report_count": 1})
