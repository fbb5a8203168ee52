"""Tests of cumulo/model/service.py."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cumulo.model import ObjectActionError, Service, ServiceBinary, ServiceList, ServiceNotFound
from cumulo.model.service import service_is_up, why_not_schedulable
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


# --- liveness -------------------------------------------------------------------------------


def _seen(seconds_ago: float | None, **fields) -> Service:
    """A compute service whose last heartbeat was ``seconds_ago`` (``None``: never)."""
    if seconds_ago is not None:
        fields["last_seen_up"] = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return Service(uuid=uuid.uuid4(), host="h", binary="cumulo-compute", topic="compute", **fields)


def test_a_service_is_up_while_its_heartbeat_is_younger_than_the_down_time():
    assert service_is_up(_seen(59), 60)
    assert not service_is_up(_seen(61), 60)
    assert service_is_up(_seen(61), 120)
    assert not service_is_up(_seen(1, forced_down=True), 60)
    assert not service_is_up(_seen(None), 60)  # never reported


def test_why_placement_skips_a_host():
    assert why_not_schedulable(_seen(1), 60) is None
    assert why_not_schedulable(None) == "no compute service row"
    assert why_not_schedulable(_seen(1, disabled=True, disabled_reason="rack 4")) == (
        "disabled (rack 4)"
    )
    assert why_not_schedulable(_seen(1, forced_down=True)) == "forced down"
    assert why_not_schedulable(_seen(90), 60) == (
        "down (last heartbeat 90 s ago; service_down_time 60 s)"
    )
    assert why_not_schedulable(_seen(None), 60) == ("down (never reported; service_down_time 60 s)")
