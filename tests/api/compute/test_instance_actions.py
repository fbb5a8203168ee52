"""``/servers/{id}/os-instance-actions`` against a real embedded cloud: the fields at
each microversion, events and tracebacks by role and version, 2.58 paging and
filters, deleted servers from 2.21, and another project's server kept hidden."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cumulo.model import Instance
from tests.api.compute.contexts import admin_context

ACTION_KEYS = {
    "action",
    "instance_uuid",
    "message",
    "project_id",
    "request_id",
    "start_time",
    "user_id",
}
EVENT_KEYS = {"event", "start_time", "finish_time", "result"}


@pytest.fixture(scope="module")
def migrated(compute_cloud) -> str:
    """A member's server, built on host-a and live-migrated to host-b: two actions."""
    server_id = compute_cloud.boot("member", "acted-on")
    compute_cloud.cloud.tasks.live_migrate_instance(
        admin_context(compute_cloud), uuid.UUID(server_id), "host-b", block_migration=True
    )
    return server_id


def actions(compute_cloud, server_id, who="member", version="latest", **params):
    response = compute_cloud.get(
        f"/servers/{server_id}/os-instance-actions", who, version, params=params
    )
    assert response.status_code == 200, response.text
    return response.json


def test_list_is_newest_first_with_the_2_1_fields(compute_cloud, migrated):
    for version in ("2.1", "2.57"):
        listed = actions(compute_cloud, migrated, version=version)["instanceActions"]
        assert [a["action"] for a in listed] == ["live-migration", "create"]
        assert all(set(a) == ACTION_KEYS for a in listed)
        assert {a["instance_uuid"] for a in listed} == {migrated}
    assert set(actions(compute_cloud, migrated, version="2.57")) == {"instanceActions"}


def test_2_58_adds_updated_at_the_latest_change_of_the_action(compute_cloud, migrated):
    listed = actions(compute_cloud, migrated, version="2.58")["instanceActions"]
    assert all(set(a) == ACTION_KEYS | {"updated_at"} for a in listed)
    for action in listed:
        assert action["updated_at"] >= action["start_time"]
        datetime.strptime(action["updated_at"], "%Y-%m-%dT%H:%M:%S.%f")


def test_show_before_2_51_gives_events_to_admins_only(compute_cloud, migrated):
    request_id = actions(compute_cloud, migrated)["instanceActions"][0]["request_id"]
    path = f"/servers/{migrated}/os-instance-actions/{request_id}"
    shown = compute_cloud.get(path, "reader", "2.50").json["instanceAction"]
    assert set(shown) == ACTION_KEYS
    full = compute_cloud.get(path, "admin", "2.1").json["instanceAction"]
    assert set(full) == ACTION_KEYS | {"events"}
    assert all(set(e) == EVENT_KEYS | {"traceback"} for e in full["events"])
    # Newest first, as Nova lists them; the conductor's task started first.
    assert full["events"][-1]["event"] == "conductor_live_migrate_instance"
    assert {e["result"] for e in full["events"]} == {"Success"}


def test_show_from_2_51_gives_readers_events_without_tracebacks(compute_cloud, migrated):
    request_id = actions(compute_cloud, migrated)["instanceActions"][0]["request_id"]
    path = f"/servers/{migrated}/os-instance-actions/{request_id}"
    shown = compute_cloud.get(path, "reader", "2.51").json["instanceAction"]
    assert set(shown) == ACTION_KEYS | {"events"}
    assert shown["events"] and all(set(e) == EVENT_KEYS for e in shown["events"])
    latest = compute_cloud.get(path, "reader", "latest").json["instanceAction"]
    assert set(latest) == ACTION_KEYS | {"events", "updated_at"}
    admin = compute_cloud.get(path, "admin", "latest").json["instanceAction"]
    assert all(set(e) == EVENT_KEYS | {"traceback"} for e in admin["events"])


def test_an_unknown_request_id_is_a_404(compute_cloud, migrated):
    response = compute_cloud.get(f"/servers/{migrated}/os-instance-actions/req-nope")
    assert response.status_code == 404
    assert response.json["itemNotFound"]["message"] == "Action req-nope not found"


def test_another_projects_server_is_not_found_but_admins_see_it(compute_cloud, migrated):
    for path in ("", "/req-x"):
        response = compute_cloud.get(f"/servers/{migrated}/os-instance-actions{path}", "other")
        assert response.status_code == 404
        assert f"Instance {migrated} could not be found" in response.text
    assert len(actions(compute_cloud, migrated, "admin")["instanceActions"]) == 2


def test_2_58_pages_by_request_id(compute_cloud, migrated):
    first = actions(compute_cloud, migrated, limit="1")
    assert [a["action"] for a in first["instanceActions"]] == ["live-migration"]
    marker = first["instanceActions"][0]["request_id"]
    (link,) = first["links"]
    assert link["rel"] == "next"
    assert link["href"].endswith(
        f"/compute/v2.1/servers/{migrated}/os-instance-actions?limit=1&marker={marker}"
    )
    second = actions(compute_cloud, migrated, limit="1", marker=marker)
    assert [a["action"] for a in second["instanceActions"]] == ["create"]
    assert "links" not in second
    assert actions(compute_cloud, migrated, limit="0")["instanceActions"] == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"marker": "req-unknown"}, None),
        ({"limit": "-1"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"changes-since": "yesterday"}, "changes-since"),
        ({"sort": "up"}, "sort"),
    ],
)
def test_2_58_refuses_bad_query_parameters(compute_cloud, migrated, params, field):
    response = compute_cloud.get(
        f"/servers/{migrated}/os-instance-actions", version="2.58", params=params
    )
    assert response.status_code == 400, response.text
    message = response.json["badRequest"]["message"]
    assert (field in message) if field else message == "Marker req-unknown could not be found."
    # Before 2.58 the query string is not read at all.
    older = compute_cloud.get(
        f"/servers/{migrated}/os-instance-actions", version="2.57", params=params
    )
    assert older.status_code == 200


def test_2_58_changes_since_filters_on_updated_at(compute_cloud, migrated):
    listed = actions(compute_cloud, migrated)["instanceActions"]
    newest = max(a["updated_at"] for a in listed)
    since = actions(compute_cloud, migrated, **{"changes-since": newest})["instanceActions"]
    assert [a["action"] for a in since] == ["live-migration"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert actions(compute_cloud, migrated, **{"changes-since": future})["instanceActions"] == []


def test_a_deleted_servers_actions_are_readable_from_2_21(compute_cloud):
    server_id = compute_cloud.boot("member", "doomed")
    context = admin_context(compute_cloud)
    instance = Instance.get_by_uuid(context, uuid.UUID(server_id))
    compute_cloud.cloud.compute.terminate_instance(context, instance)
    deadline = time.monotonic() + 30
    while not Instance.get_by_uuid(context, uuid.UUID(server_id)).deleted:
        assert time.monotonic() < deadline, "never deleted"
        time.sleep(0.01)
    path = f"/servers/{server_id}/os-instance-actions"
    assert compute_cloud.get(path, version="2.20").status_code == 404
    listed = compute_cloud.get(path, version="2.21").json["instanceActions"]
    assert "create" in [a["action"] for a in listed]
    assert compute_cloud.get(path, "other", version="2.21").status_code == 404


def test_without_a_token_is_a_401(compute_cloud, migrated):
    response = compute_cloud.client.simulate_get(
        f"/compute/v2.1/servers/{migrated}/os-instance-actions"
    )
    assert response.status_code == 401


def wait_for_vm_state(context, server_id, state):
    deadline = time.monotonic() + 30
    while Instance.get_by_uuid(context, uuid.UUID(server_id)).vm_state != state:
        assert time.monotonic() < deadline, f"never {state}"
        time.sleep(0.01)


def test_stop_and_start_on_the_hosts_are_listed_and_paged(compute_cloud):
    server_id = compute_cloud.boot("member", "cycled")
    compute = compute_cloud.cloud.compute
    # A context per request: its request id keys the action.
    for call, state in ((compute.stop_instance, "stopped"), (compute.start_instance, "active")):
        context = admin_context(compute_cloud)
        call(context, Instance.get_by_uuid(context, uuid.UUID(server_id)))
        wait_for_vm_state(context, server_id, state)
    listed = actions(compute_cloud, server_id, "reader")["instanceActions"]
    assert [a["action"] for a in listed] == ["start", "stop", "create"]
    seen, marker = [], None
    while True:
        params = {"limit": "2"} | ({"marker": marker} if marker else {})
        body = actions(compute_cloud, server_id, "reader", **params)
        seen += [a["action"] for a in body["instanceActions"]]
        if "links" not in body:
            break
        marker = body["instanceActions"][-1]["request_id"]
    assert seen == ["start", "stop", "create"]
