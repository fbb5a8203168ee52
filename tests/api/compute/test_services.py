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
    # Of a repeated parameter, Nova reads the last.
    assert [s["host"] for s in services(compute_cloud, host=["host-a", "host-b"])] == ["host-b"]


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


def put(compute_cloud, path, body, version="latest", who="admin"):
    return compute_cloud.put(f"/os-services/{path}", body, who, version)


def compute_service(compute_cloud, host):
    (found,) = [s for s in services(compute_cloud, host=host) if s["binary"] == "cumulo-compute"]
    return found


def test_put_from_2_53_disables_enables_and_forces_down_by_uuid(compute_cloud, extra_rows):
    service_id = compute_service(compute_cloud, "host-b")["id"]
    disabled = put(compute_cloud, service_id, {"status": "disabled", "disabled_reason": "fan"})
    assert disabled.status_code == 200, disabled.text
    shown = disabled.json["service"]
    assert set(shown) == KEYS | {"forced_down"}
    assert (shown["status"], shown["disabled_reason"], shown["id"]) == (
        "disabled",
        "fan",
        service_id,
    )
    assert compute_service(compute_cloud, "host-b")["status"] == "disabled"
    forced = put(compute_cloud, service_id, {"forced_down": True}).json["service"]
    assert (forced["forced_down"], forced["state"]) == (True, "down")
    back = put(compute_cloud, service_id, {"status": "enabled", "forced_down": "false"})
    assert back.json["service"]["status"] == "enabled"
    assert compute_service(compute_cloud, "host-b")["disabled_reason"] is None
    assert compute_service(compute_cloud, "host-b")["state"] == "up"


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({}, 400, "No updates were requested"),
        ({"disabled_reason": "x"}, 400, "No updates were requested"),
        ({"status": "enabled", "disabled_reason": "x"}, 400, "with status 'enabled' is invalid"),
        ({"status": "off"}, 400, "status"),
        ({"forced_down": "perhaps"}, 400, "forced_down"),
        ({"host": "host-a"}, 400, "host"),
    ],
)
def test_put_from_2_53_refuses_bad_bodies(compute_cloud, extra_rows, body, status, words):
    service_id = compute_service(compute_cloud, "host-a")["id"]
    response = put(compute_cloud, service_id, body)
    assert response.status_code == status, response.text
    assert words in response.text


def test_put_from_2_53_names_a_compute_service_by_uuid(compute_cloud, extra_rows):
    assert put(compute_cloud, "host-a", {"status": "disabled"}).status_code == 400
    missing = put(compute_cloud, str(uuid.uuid4()), {"status": "disabled"})
    assert missing.status_code == 404
    (conductor,) = services(compute_cloud, binary="cumulo-conductor")
    refused = put(compute_cloud, conductor["id"], {"status": "disabled"})
    assert refused.status_code == 400
    assert "Only cumulo-compute services can be updated" in refused.text
    assert put(compute_cloud, conductor["id"], {"status": "x"}, who="member").status_code == 400
    denied = put(compute_cloud, conductor["id"], {"status": "disabled"}, who="member")
    assert denied.status_code == 403


def test_put_actions_before_2_53(compute_cloud, extra_rows):
    who = {"host": "host-a", "binary": "cumulo-compute"}
    done = put(compute_cloud, "disable-log-reason", {**who, "disabled_reason": "disk"}, "2.1")
    assert done.json == {"service": {**who, "status": "disabled", "disabled_reason": "disk"}}
    assert compute_service(compute_cloud, "host-a")["disabled_reason"] == "disk"
    assert put(compute_cloud, "enable", who, "2.52").json == {
        "service": {**who, "status": "enabled"}
    }
    assert put(compute_cloud, "disable", who, "2.1").json["service"]["status"] == "disabled"
    assert put(compute_cloud, "enable", who, "2.1").status_code == 200
    # force-down arrives with 2.11.
    assert put(compute_cloud, "force-down", {**who, "forced_down": True}, "2.10").status_code == 404
    forced = put(compute_cloud, "force-down", {**who, "forced_down": True}, "2.11")
    assert forced.json == {"service": {**who, "forced_down": True}}
    assert (
        put(compute_cloud, "force-down", {**who, "forced_down": False}, "2.11").status_code == 200
    )
    assert compute_service(compute_cloud, "host-a")["state"] == "up"


@pytest.mark.parametrize(
    "action, body, status, words",
    [
        ("reboot", {"host": "host-a", "binary": "cumulo-compute"}, 404, "Unknown action"),
        ("disable-log-reason", {"host": "host-a", "binary": "cumulo-compute"}, 400, "Missing"),
        ("force-down", {"host": "host-a", "binary": "cumulo-compute"}, 400, "Missing forced_down"),
        ("disable", {"host": "host-q", "binary": "cumulo-compute"}, 404, "on host host-q"),
        ("disable", {"host": "conductor", "binary": "cumulo-conductor"}, 400, "not supported"),
        ("disable", {"host": "host-a"}, 400, "binary"),
        ("disable", {"host": "host-a", "binary": "cumulo-compute", "x": 1}, 400, "'x'"),
    ],
)
def test_put_actions_refused(compute_cloud, extra_rows, action, body, status, words):
    response = put(compute_cloud, action, body, "2.11")
    assert response.status_code == status, response.text
    assert words in response.text


def test_state_follows_the_one_service_down_time_rule(compute_cloud):
    """A heartbeat 90 s old is past the API's service_down_time (60 s by default)."""
    context = RequestContext(
        user_id="admin", project_id=compute_cloud.projects["admin"], roles=["admin"], is_admin=True
    )
    assert compute_cloud.config.service_down_time == 60
    service = Service(
        uuid=uuid.uuid4(),
        host="host-late",
        binary=ServiceBinary.COMPUTE,
        topic="compute",
        last_seen_up=datetime.now(UTC) - timedelta(seconds=90),
    )
    service.obj_set_context(context)
    service.create()
    try:
        (late,) = services(compute_cloud, host="host-late")
        assert late["state"] == "down"
        service.last_seen_up = datetime.now(UTC) - timedelta(seconds=30)
        service.save()
        (late,) = services(compute_cloud, host="host-late")
        assert late["state"] == "up"
    finally:
        service.forced_down = True  # out of the way of the module's other tests
        service.disabled = True
        service.save()
