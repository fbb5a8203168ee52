"""``/os-migrations`` and ``/servers/{id}/migrations`` against a real embedded cloud:
a completed live migration made by the conductor, and an in-progress one recorded
the way the conductor records it (a running ``Migration`` on a migrating server),
since the fake hosts finish a live migration before a request could see it run."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from cumulo.model import Instance, Migration, MigrationStatus, MigrationType, TaskState
from tests.api.compute.contexts import admin_context

V2_1_KEYS = {
    "created_at",
    "dest_compute",
    "dest_host",
    "dest_node",
    "id",
    "instance_uuid",
    "new_instance_type_id",
    "old_instance_type_id",
    "source_compute",
    "source_node",
    "status",
    "updated_at",
}
SERVER_MIGRATION_KEYS = {
    "created_at",
    "dest_compute",
    "dest_host",
    "dest_node",
    "disk_processed_bytes",
    "disk_remaining_bytes",
    "disk_total_bytes",
    "id",
    "memory_processed_bytes",
    "memory_remaining_bytes",
    "memory_total_bytes",
    "server_uuid",
    "source_compute",
    "source_node",
    "status",
    "updated_at",
}


@pytest.fixture(scope="module")
def completed(compute_cloud) -> Migration:
    """A member's server live-migrated from host-a to host-b by the conductor."""
    server_id = compute_cloud.boot("member", "moved")
    return compute_cloud.cloud.tasks.live_migrate_instance(
        admin_context(compute_cloud), uuid.UUID(server_id), "host-b", block_migration=True
    )


@pytest.fixture(scope="module")
def running(compute_cloud, completed) -> Migration:
    """A live migration in progress (with its memory and disk progress) of another
    member's server, which is migrating."""
    context = admin_context(compute_cloud)
    server_id = compute_cloud.boot("member", "moving")
    instance = Instance.get_by_uuid(context, uuid.UUID(server_id))
    instance.task_state = TaskState.MIGRATING
    instance.save()
    return recorded(
        context,
        instance.uuid,
        MigrationStatus.RUNNING,
        source_compute=instance.host,
        source_node=instance.node,
        dest_compute="host-b" if instance.host == "host-a" else "host-a",
        memory_total=1024,
        memory_processed=512,
        memory_remaining=512,
        disk_total=2048,
        disk_processed=0,
        disk_remaining=2048,
    )


def recorded(context, instance_uuid, status, **fields) -> Migration:
    """A live migration of the server stored as the conductor stores one."""
    migration = Migration(
        uuid=uuid.uuid4(),
        instance_uuid=instance_uuid,
        migration_type=MigrationType.LIVE_MIGRATION,
        status=status,
        **fields,
    )
    migration.obj_set_context(context)
    migration.create()
    return migration


def migrations(compute_cloud, version="latest", who="admin", **params):
    response = compute_cloud.get("/os-migrations", who, version, params=params)
    assert response.status_code == 200, response.text
    return response.json


def test_os_migrations_fields_per_microversion(compute_cloud, completed, running):
    listed = migrations(compute_cloud, "2.1")["migrations"]
    assert [m["id"] for m in listed] == [completed.id, running.id]  # by id before 2.59
    assert all(set(m) == V2_1_KEYS for m in listed)
    done = listed[0]
    assert (done["source_compute"], done["dest_compute"], done["status"]) == (
        "host-a",
        "host-b",
        "completed",
    )
    assert done["dest_host"] == str(completed.dest_host)
    assert all(set(m) == V2_1_KEYS for m in migrations(compute_cloud, "2.22")["migrations"])
    at_2_23 = {m["id"]: m for m in migrations(compute_cloud, "2.23")["migrations"]}
    # Only a live migration in progress has links.
    assert set(at_2_23[completed.id]) == V2_1_KEYS | {"migration_type"}
    assert set(at_2_23[running.id]) == V2_1_KEYS | {"migration_type", "links"}
    self_link = at_2_23[running.id]["links"][0]
    assert self_link["rel"] == "self"
    assert self_link["href"].endswith(
        f"/compute/v2.1/servers/{running.instance_uuid}/migrations/{running.id}"
    )
    assert all("uuid" not in m for m in migrations(compute_cloud, "2.58")["migrations"])
    latest = migrations(compute_cloud, "2.59")["migrations"]
    assert [m["uuid"] for m in latest] == [str(running.uuid), str(completed.uuid)]  # newest first
    assert set(latest[1]) == V2_1_KEYS | {"migration_type", "uuid"}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"host": "host-b"}, {"completed", "running"}),
        ({"source_compute": "host-a"}, None),
        ({"status": "running"}, {"running"}),
        ({"status": ["running", "completed"]}, {"running", "completed"}),
        ({"migration_type": "resize"}, set()),
        ({"instance_uuid": "not-a-uuid"}, set()),
        ({"hidden": "true"}, set()),
        ({"hidden": "false"}, {"running", "completed"}),
    ],
)
def test_os_migrations_filters(compute_cloud, completed, running, params, expected):
    for version in ("2.1", "2.59"):
        listed = migrations(compute_cloud, version, **params)["migrations"]
        if expected is None:
            assert {m["source_compute"] for m in listed} == {"host-a"}
        else:
            assert {m["status"] for m in listed} == expected


def test_os_migrations_filters_by_instance(compute_cloud, completed, running):
    listed = migrations(compute_cloud, instance_uuid=str(completed.instance_uuid))["migrations"]
    assert [m["uuid"] for m in listed] == [str(completed.uuid)]


def test_os_migrations_pages_from_2_59(compute_cloud, completed, running):
    first = migrations(compute_cloud, limit="1")
    assert [m["uuid"] for m in first["migrations"]] == [str(running.uuid)]
    (link,) = first["migrations_links"]
    assert link["href"].endswith(f"/os-migrations?limit=1&marker={running.uuid}")
    second = migrations(compute_cloud, limit="1", marker=str(running.uuid))
    assert [m["uuid"] for m in second["migrations"]] == [str(completed.uuid)]
    assert "migrations_links" not in second
    # Before 2.59 paging parameters are unknown, hence ignored.
    assert len(migrations(compute_cloud, "2.58", limit="1")["migrations"]) == 2
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert migrations(compute_cloud, **{"changes-since": future})["migrations"] == []
    assert len(migrations(compute_cloud, "2.58", **{"changes-since": future})["migrations"]) == 2


@pytest.mark.parametrize(
    "params", [{"marker": "nope"}, {"limit": "-3"}, {"bogus": "1"}, {"changes-since": "x"}]
)
def test_os_migrations_refuses_bad_parameters_from_2_59(compute_cloud, running, params):
    response = compute_cloud.get("/os-migrations", "admin", "2.59", params=params)
    assert response.status_code == 400, response.text
    assert compute_cloud.get("/os-migrations", "admin", "2.58", params=params).status_code == 200


@pytest.mark.parametrize("who", ["member", "reader", "other"])
def test_os_migrations_is_for_admins(compute_cloud, who):
    response = compute_cloud.get("/os-migrations", who)
    assert response.status_code == 403
    assert "os_compute_api:os-migrations:index" in response.json["forbidden"]["message"]


def test_server_migrations_list_the_live_ones_in_progress(compute_cloud, completed, running):
    path = f"/servers/{running.instance_uuid}/migrations"
    assert compute_cloud.get(path, "admin", "2.22").status_code == 404
    (shown,) = compute_cloud.get(path, "admin", "2.23").json["migrations"]
    assert set(shown) == SERVER_MIGRATION_KEYS
    assert (shown["memory_total_bytes"], shown["memory_processed_bytes"]) == (1024, 512)
    assert shown["server_uuid"] == str(running.instance_uuid)
    (latest,) = compute_cloud.get(path, "admin").json["migrations"]
    assert set(latest) == SERVER_MIGRATION_KEYS | {"uuid"}
    # A completed migration is not in progress.
    done = compute_cloud.get(f"/servers/{completed.instance_uuid}/migrations", "admin")
    assert done.json == {"migrations": []}


def test_server_migration_show(compute_cloud, completed, running):
    path = f"/servers/{running.instance_uuid}/migrations/{running.id}"
    assert compute_cloud.get(path, "admin", "2.22").status_code == 404
    shown = compute_cloud.get(path, "admin", "2.58").json["migration"]
    assert set(shown) == SERVER_MIGRATION_KEYS and shown["id"] == running.id
    assert set(compute_cloud.get(path, "admin").json["migration"]) == SERVER_MIGRATION_KEYS | {
        "uuid"
    }
    not_running = compute_cloud.get(
        f"/servers/{completed.instance_uuid}/migrations/{completed.id}", "admin"
    )
    assert not_running.status_code == 404
    assert "is not in progress" in not_running.json["itemNotFound"]["message"]
    for other in (completed.id, 999, "x"):
        response = compute_cloud.get(
            f"/servers/{running.instance_uuid}/migrations/{other}", "admin"
        )
        assert response.status_code == 404, other


def test_server_migrations_are_for_admins_and_hidden_from_other_projects(compute_cloud, running):
    base = f"/servers/{running.instance_uuid}/migrations"
    for path in (base, f"{base}/{running.id}"):
        assert compute_cloud.get(path, "member").status_code == 403
        assert compute_cloud.get(path, "reader").status_code == 403
        assert compute_cloud.get(path, "other").status_code == 404
    assert compute_cloud.delete(f"{base}/{running.id}", "member").status_code == 403
    assert compute_cloud.delete(f"{base}/{running.id}", "other").status_code == 404
    action = f"{base}/{running.id}/action"
    assert compute_cloud.post(action, {"force_complete": None}, "member").status_code == 403


def test_abort_and_force_complete_of_a_running_one_say_the_hosts_cannot_yet(compute_cloud, running):
    base = f"/servers/{running.instance_uuid}/migrations/{running.id}"
    aborted = compute_cloud.delete(base, "admin")
    assert aborted.status_code == 409
    assert "cannot abort a live migration yet" in aborted.json["conflictingRequest"]["message"]
    forced = compute_cloud.post(f"{base}/action", {"force_complete": None}, "admin")
    assert forced.status_code == 409
    assert "cannot force a live migration to complete yet" in forced.text
    # The routes appear at 2.24 and 2.22.
    assert compute_cloud.delete(base, "admin", "2.23").status_code == 404
    assert (
        compute_cloud.post(f"{base}/action", {"force_complete": None}, "admin", "2.21").status_code
        == 404
    )


def test_abort_and_force_complete_are_checked_as_nova_checks_them(
    compute_cloud, completed, running
):
    base = f"/servers/{running.instance_uuid}/migrations"
    unknown = compute_cloud.delete(f"{base}/999", "admin")
    assert unknown.status_code == 404
    assert "Migration 999 not found for instance" in unknown.text
    # Nova answers an unknown migration's force-complete with a 400.
    assert (
        compute_cloud.post(f"{base}/999/action", {"force_complete": None}, "admin").status_code
        == 400
    )
    bad_body = compute_cloud.post(f"{base}/{running.id}/action", {"force_complete": 1}, "admin")
    assert bad_body.status_code == 400 and "force_complete" in bad_body.text
    # A server that is not migrating: 409 from its state.
    done = f"/servers/{completed.instance_uuid}/migrations/{completed.id}"
    refused = compute_cloud.delete(done, "admin")
    assert refused.status_code == 409 and "task_state None" in refused.text


def test_abort_of_a_migration_that_is_not_running_is_a_400(compute_cloud, running):
    context = admin_context(compute_cloud)
    queued = recorded(
        context,
        running.instance_uuid,
        MigrationStatus.QUEUED,
        source_compute=running.source_compute,
        dest_compute=running.dest_compute,
    )
    base = f"/servers/{running.instance_uuid}/migrations/{queued.id}"
    response = compute_cloud.delete(base, "admin")
    assert response.status_code == 400
    assert "is queued. Cannot abort live migration" in response.json["badRequest"]["message"]
    forced = compute_cloud.post(f"{base}/action", {"force_complete": None}, "admin")
    assert forced.status_code == 400 and "Cannot force complete" in forced.text
    queued.status = MigrationStatus.CANCELLED
    queued.save()
