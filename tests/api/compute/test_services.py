"""``GET /os-services`` against a real embedded cloud (a conductor, two fake hosts):
the fields at each microversion, state from the heartbeat, filters, admins only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cumulo.model import Service, ServiceBinary
from cumulo.rpc import RequestContext

KEYS = {"binary", "host", "id", "zone", "status", "state", "updated_at", "disabled_reason"}


@pytest.fixture(scope="module")
def extra_rows(compute_cloud):
    """An API service's row (left out, as Nova leaves its API out) and a compute
    service that stopped reporting an hour ago."""
    context = RequestContext(
        user_id="admin", project_id=compute_cloud.projects["admin"], roles=["admin"], is_admin=True
    )
    rows = {}
    for host, binary, topic in (
        ("api-1", ServiceBinary.API, "api"),
        ("host-z", ServiceBinary.COMPUTE, "compute"),
    ):
        service = Service(
            uuid=uuid.uuid4(),
            host=host,
            binary=binary,
            topic=topic,
            last_seen_up=datetime.now(UTC) - timedelta(hours=1),
        )
        service.obj_set_context(context)
        service.create()
        rows[host] = service
    return rows


def services(compute_cloud, version="latest", **params):
    response = compute_cloud.get("/os-services", "admin", version, params=params)
    assert response.status_code == 200, response.text
    return response.json["services"]


def test_fields_per_microversion(compute_cloud, extra_rows):
    for version in ("2.1", "2.10"):
        listed = services(compute_cloud, version)
        assert all(set(s) == KEYS for s in listed)
        assert all(isinstance(s["id"], int) for s in listed)
    assert all(set(s) == KEYS | {"forced_down"} for s in services(compute_cloud, "2.11"))
    assert all(isinstance(s["id"], int) for s in services(compute_cloud, "2.52"))
    latest = services(compute_cloud, "2.53")
    assert {s["id"] for s in latest if s["host"] == "host-z"} == {str(extra_rows["host-z"].uuid)}


def test_every_service_but_the_apis_with_its_state(compute_cloud, extra_rows):
    listed = {(s["host"], s["binary"]): s for s in services(compute_cloud)}
    assert set(listed) == {
        ("conductor", "cumulo-conductor"),
        ("host-a", "cumulo-compute"),
        ("host-b", "cumulo-compute"),
        ("host-z", "cumulo-compute"),
    }
    assert listed["host-a", "cumulo-compute"]["state"] == "up"
    assert listed["host-a", "cumulo-compute"]["zone"] == "nova"
    assert listed["conductor", "cumulo-conductor"]["zone"] == "internal"
    stale = listed["host-z", "cumulo-compute"]
    assert (stale["state"], stale["status"], stale["forced_down"]) == ("down", "enabled", False)
    datetime.strptime(stale["updated_at"], "%Y-%m-%dT%H:%M:%S.%f")


def test_filters_by_host_and_binary(compute_cloud, extra_rows):
    assert [s["host"] for s in services(compute_cloud, host="host-b")] == ["host-b"]
    assert {s["host"] for s in services(compute_cloud, binary="cumulo-compute")} == {
        "host-a",
        "host-b",
        "host-z",
    }
    assert services(compute_cloud, host="host-b", binary="cumulo-conductor") == []
    # Unknown parameters are ignored, as Nova's schema allows them.
    assert len(services(compute_cloud, bogus="1")) == 4
    repeated = compute_cloud.get("/os-services", "admin", params={"host": ["a", "b"]})
    assert repeated.status_code == 400 and "host" in repeated.text


def test_a_forced_down_or_disabled_service(compute_cloud, extra_rows):
    service = extra_rows["host-z"]
    service.last_seen_up = datetime.now(UTC)
    service.forced_down, service.disabled, service.disabled_reason = True, True, "broken"
    service.save()
    (shown,) = services(compute_cloud, host="host-z")
    assert (shown["state"], shown["status"], shown["forced_down"], shown["disabled_reason"]) == (
        "down",
        "disabled",
        True,
        "broken",
    )


@pytest.mark.parametrize("who", ["member", "reader", "other"])
def test_services_are_for_admins(compute_cloud, who):
    response = compute_cloud.get("/os-services", who)
    assert response.status_code == 403
    assert "os_compute_api:os-services:list" in response.json["forbidden"]["message"]
