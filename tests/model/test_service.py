"""Tests of cumulo/model/service.py."""

import uuid

import pytest

from cumulo.model import ObjectActionError, Service, ServiceBinary, ServiceList, ServiceNotFound
from cumulo.objects import FieldValueError


def service(**values) -> Service:
    fields = {
        "id": 1,
        "uuid": uuid.UUID(int=1),
        "host": "host-a",
        "binary": "cumulo-compute",
        "topic": "compute",
        "version": 1,
        "object_manifest": {"Instance": "1.0"},
    }
    fields.update(values)
    s = Service(**fields)
    s.obj_reset_changes()
    return s


def test_fields():
    s = service()
    assert s.binary is ServiceBinary.COMPUTE
    assert (s.disabled, s.forced_down, s.report_count, s.rpc_api_version) == (
        False,
        False,
        0,
        "1.0",
    )
    with pytest.raises(FieldValueError, match="object_manifest"):
        s.object_manifest = {"Instance": 1}


def test_remotables(storage, ctx):
    storage.returns["service_get_by_host_and_binary"] = service()
    s = Service.get_by_host_and_binary(ctx, "host-a", "cumulo-compute")
    assert storage.calls[0] == (
        "service_get_by_host_and_binary",
        (ctx, "host-a", ServiceBinary.COMPUTE),
        {},
    )
    s.report_count += 1
    storage.returns["service_save"] = service(report_count=1)
    s.save()
    assert storage.calls[1][1][1:] == (1, {"report_count": 1})
    storage.returns["service_get_minimum_version"] = 3
    assert Service.get_minimum_version(ctx, ServiceBinary.COMPUTE) == 3
    storage.returns["service_get_all"] = [service()]
    assert len(ServiceList.get_all(ctx, binary="cumulo-compute").objects) == 1
    with pytest.raises(ValueError):
        Service.get_minimum_version(ctx, "nova-compute")


def test_create(storage, ctx):
    new = service()
    with pytest.raises(ObjectActionError, match="already created"):
        new.obj_set_context(ctx).create()
    storage.raises["service_get_by_host_and_binary"] = ServiceNotFound(host="x", binary="y")
    with pytest.raises(ServiceNotFound, match="service not found: host=x, binary=y"):
        Service.get_by_host_and_binary(ctx, "x", ServiceBinary.API)
