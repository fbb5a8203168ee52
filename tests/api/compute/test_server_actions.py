"""cumulo/api/compute/server_actions.py: POST /servers/{id}/action against a real
embedded cloud (two fake hosts): each action's effect on the server, the 409s of
state and lock, the 403s of policy, the 404 of another project's server, the 400s
of bad bodies naming the field, console output and live migration."""

from __future__ import annotations

import uuid

import pytest

from cumulo.model import Instance, Service, ServiceBinary, VmState

from .servers_support import (
    ADMIN,
    actions_of,
    error_of,
    event_results,
    finished_action,
    instance_of,
    wait_settled,
    wait_until,
)


def act(cloud, server_id, body, who="member", version="latest"):
    return cloud.post(f"/servers/{server_id}/action", body, who, version)


@pytest.fixture(scope="module")
def server(compute_cloud):
    return compute_cloud.boot("member", "actions")


def test_stop_then_start(compute_cloud, server):
    response = act(compute_cloud, server, {"os-stop": None})
    assert response.status_code == 202, response.text
    assert response.text == ""
    wait_settled(server, "stopped")
    again = act(compute_cloud, server, {"os-stop": None})
    assert again.status_code == 409
    assert error_of(again) == (
        "conflictingRequest",
        f"Cannot 'stop' instance {server} while it is in vm_state stopped",
    )
    assert act(compute_cloud, server, {"os-start": None}).status_code == 202
    wait_settled(server, "active")
    assert actions_of(server)[-2:] == ["stop", "start"]


def test_start_of_a_running_server_conflicts(compute_cloud, server):
    response = act(compute_cloud, server, {"os-start": None})
    assert response.status_code == 409
    assert "vm_state active" in error_of(response)[1]


@pytest.mark.parametrize("kind", ["SOFT", "hard"])
def test_reboot(compute_cloud, server, kind):
    response = act(compute_cloud, server, {"reboot": {"type": kind}})
    assert response.status_code == 202, response.text
    action = finished_action(response, server)
    assert action.action == "reboot" and action.message is None
    wait_settled(server, "active")


def test_pause_unpause_suspend_resume(compute_cloud, server):
    for action, settled in [
        ("pause", "paused"),
        ("unpause", "active"),
        ("suspend", "suspended"),
        ("resume", "active"),
    ]:
        response = act(compute_cloud, server, {action: None})
        assert response.status_code == 202, (action, response.text)
        wait_settled(server, settled)
    assert actions_of(server)[-4:] == ["pause", "unpause", "suspend", "resume"]


def test_wrong_states_conflict(compute_cloud, server):
    for action in ("unpause", "resume"):
        response = act(compute_cloud, server, {action: {}})
        assert response.status_code == 409, action
        assert error_of(response)[0] == "conflictingRequest"


def test_a_soft_reboot_needs_an_active_server_a_hard_one_does_not(compute_cloud):
    server = compute_cloud.boot("member", "reboot-stopped")
    act(compute_cloud, server, {"os-stop": None})
    wait_settled(server, "stopped")
    assert act(compute_cloud, server, {"reboot": {"type": "SOFT"}}).status_code == 409
    assert act(compute_cloud, server, {"reboot": {"type": "HARD"}}).status_code == 202
    wait_settled(server, "active")


def test_a_reader_may_not_act(compute_cloud, server):
    response = act(compute_cloud, server, {"os-stop": None}, who="reader")
    assert response.status_code == 403
    assert "os_compute_api:servers:stop" in error_of(response)[1]
    assert instance_of(server).vm_state == "active"


def test_another_projects_server_is_not_found(compute_cloud, server):
    response = act(compute_cloud, server, {"os-stop": None}, who="other")
    assert response.status_code == 404
    assert error_of(response) == ("itemNotFound", f"Instance {server} could not be found.")
    assert act(compute_cloud, "not-a-uuid", {"os-stop": None}).status_code == 404


def test_an_admin_acts_on_any_projects_server(compute_cloud):
    server = compute_cloud.boot("other", "beta-vm")
    assert act(compute_cloud, server, {"pause": None}, who="admin").status_code == 202
    wait_settled(server, "paused")
    assert act(compute_cloud, server, {"unpause": None}, who="admin").status_code == 202
    wait_settled(server, "active")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"os-explode": None}, "os-explode"),
        ({"os-stop": None, "os-start": None}, "(body)"),
        ({}, "(body)"),
        ({"reboot": {"type": "GENTLE"}}, "reboot.type"),
        ({"reboot": {}}, "reboot.type"),
        ({"reboot": {"type": "SOFT", "now": True}}, "reboot.now"),
        ({"os-getConsoleOutput": {"length": "ten"}}, "os-getConsoleOutput.length"),
        ({"os-getConsoleOutput": {"length": -2}}, "os-getConsoleOutput.length"),
        ({"os-getConsoleOutput": {"lines": 3}}, "os-getConsoleOutput.lines"),
        ({"lock": {"locked_reason": "2.73 only"}}, "lock.locked_reason"),
        ({"os-migrateLive": {"host": None}}, "os-migrateLive.block_migration"),
    ],
)
def test_bad_bodies_name_the_field(compute_cloud, server, body, field):
    response = act(compute_cloud, server, body)
    assert response.status_code == 400, response.text
    name, message = error_of(response)
    assert name == "badRequest"
    assert message.startswith(f"Invalid input for field '{field}'"), message


def test_two_actions_say_one_is_expected(compute_cloud, server):
    response = act(compute_cloud, server, {"pause": None, "suspend": None})
    assert error_of(response)[1] == "Invalid input for field '(body)': expected exactly one action"


def test_lock_refuses_members_not_admins(compute_cloud):
    server = compute_cloud.boot("member", "locked")
    assert act(compute_cloud, server, {"lock": None}).status_code == 202
    locked = instance_of(server)
    assert (locked.locked, locked.locked_by) == (True, "owner")
    assert actions_of(server)[-1] == "lock"
    # A second lock by the owner changes nothing and records nothing.
    assert act(compute_cloud, server, {"lock": {}}).status_code == 202
    assert actions_of(server).count("lock") == 1

    refused = act(compute_cloud, server, {"os-stop": None})
    assert refused.status_code == 409
    assert error_of(refused) == ("conflictingRequest", f"Instance {server} is locked")
    assert act(compute_cloud, server, {"os-stop": None}, who="admin").status_code == 202
    wait_settled(server, "stopped")

    assert act(compute_cloud, server, {"unlock": None}, who="reader").status_code == 403
    assert act(compute_cloud, server, {"unlock": None}).status_code == 202
    unlocked = instance_of(server)
    assert (unlocked.locked, unlocked.locked_by) == (False, None)
    assert actions_of(server)[-1] == "unlock"
    assert act(compute_cloud, server, {"os-start": None}).status_code == 202
    wait_settled(server, "active")


def test_an_admins_lock_is_the_admins_to_lift(compute_cloud):
    server = compute_cloud.boot("member", "admin-locked")
    assert act(compute_cloud, server, {"lock": None}, who="admin").status_code == 202
    assert instance_of(server).locked_by == "admin"
    refused = act(compute_cloud, server, {"unlock": None})
    assert refused.status_code == 403
    assert "unlock:unlock_override" in error_of(refused)[1]
    assert act(compute_cloud, server, {"unlock": None}, who="admin").status_code == 202
    assert instance_of(server).locked is False


def test_console_output(compute_cloud, server):
    response = act(compute_cloud, server, {"os-getConsoleOutput": {"length": 2}})
    assert response.status_code == 200, response.text
    output = response.json["output"]
    assert isinstance(output, str) and output.count("\n") <= 2
    everything = act(compute_cloud, server, {"os-getConsoleOutput": {"length": None}})
    assert everything.status_code == 200
    assert everything.json["output"].endswith(output)
    assert act(compute_cloud, server, {"os-getConsoleOutput": {"length": "-1"}}).json == (
        everything.json
    )
    assert act(compute_cloud, server, {"os-getConsoleOutput": {}}, who="reader").status_code == 403


def _other_host(server_id: str) -> str:
    return {"host-a": "host-b", "host-b": "host-a"}[instance_of(server_id).host]


def live(host, block="auto", **extra):
    return {"os-migrateLive": {"host": host, "block_migration": block, **extra}}


def test_live_migration_is_for_admins(compute_cloud, server):
    response = act(compute_cloud, server, live(None), version="2.30")
    assert response.status_code == 403
    assert "os_compute_api:os-migrate-server:migrate_live" in error_of(response)[1]


def test_live_migration_to_a_named_host(compute_cloud, server):
    dest = _other_host(server)
    response = act(compute_cloud, server, live(dest), who="admin", version="2.30")
    assert response.status_code == 202, response.text
    moved = wait_until(server, lambda i: i.host == dest and i.task_state is None)
    assert moved.vm_state == "active"
    assert actions_of(server)[-1] == "live-migration"


def test_live_migration_where_placement_says(compute_cloud, server):
    dest = _other_host(server)
    response = act(compute_cloud, server, live(None), who="admin")
    assert response.status_code == 202, response.text
    wait_until(server, lambda i: i.host == dest and i.task_state is None)


def test_a_refused_pre_check_is_recorded_on_the_action(compute_cloud, server):
    # The fake hosts share no disks: without block migration the source refuses.
    own = instance_of(server).host
    response = act(compute_cloud, server, live(None, block=False), who="admin")
    assert response.status_code == 202, response.text
    action = finished_action(response, server)
    results = {event: (result, tb) for event, result, tb in event_results(action)}
    result, traceback = results["conductor_live_migrate_instance"]
    assert result == "Error" and "use block migration" in traceback
    assert wait_settled(server, "active").host == own


def test_live_migration_at_2_24_answers_at_once_too(compute_cloud, server):
    dest = _other_host(server)
    body = live(dest, block=True, disk_over_commit=False)
    response = act(compute_cloud, server, body, who="admin", version="2.24")
    assert response.status_code == 202, response.text
    wait_until(server, lambda i: i.host == dest and i.task_state is None)


@pytest.mark.parametrize(
    ("version", "body", "field"),
    [
        ("2.24", live(None, block=False), "os-migrateLive.disk_over_commit"),
        (
            "2.24",
            live(None, block="auto", disk_over_commit=False),
            "os-migrateLive.block_migration",
        ),
        ("2.25", live(None, disk_over_commit=False), "os-migrateLive.disk_over_commit"),
        ("2.29", live("host-a", force=True), "os-migrateLive.force"),
        ("2.30", live("host-a", force="maybe"), "os-migrateLive.force"),
        ("2.30", live("bad host!"), "os-migrateLive.host"),
    ],
)
def test_live_migration_bodies_per_microversion(compute_cloud, server, version, body, field):
    response = act(compute_cloud, server, body, who="admin", version=version)
    assert response.status_code == 400, response.text
    assert error_of(response)[1].startswith(f"Invalid input for field '{field}'")


def test_live_migration_refusals_checked_at_once(compute_cloud, server):
    own = instance_of(server).host
    for body, message in [
        (live(own), f"already runs on {own}"),
        (live("host-z"), "Compute host host-z could not be found."),
        (live(None, force=True), "Can't force to a non-provided destination"),
    ]:
        response = act(compute_cloud, server, body, who="admin", version="2.30")
        assert response.status_code == 400, response.text
        assert message in error_of(response)[1]
    assert instance_of(server).host == own


def test_a_disabled_compute_service_is_no_destination(compute_cloud, server):
    dest = _other_host(server)
    row = Service.get_by_host_and_binary(ADMIN, dest, ServiceBinary.COMPUTE)
    row.disabled = True
    row.save()
    try:
        response = act(compute_cloud, server, live(dest), who="admin")
        assert response.status_code == 400
        assert error_of(response)[1] == f"Compute host {dest} could not be found."
    finally:
        row.disabled = False
        row.save()


def test_a_stopped_server_does_not_live_migrate(compute_cloud):
    server = compute_cloud.boot("member", "stopped-no-move")
    act(compute_cloud, server, {"os-stop": None})
    wait_settled(server, "stopped")
    response = act(compute_cloud, server, live(None), who="admin")
    assert response.status_code == 409
    assert "Cannot 'live_migrate'" in error_of(response)[1]


def test_a_locked_server_does_not_act_for_its_members_whatever_the_action(compute_cloud):
    server = compute_cloud.boot("member", "locked-all")
    act(compute_cloud, server, {"lock": None})
    for body in ({"pause": None}, {"suspend": None}, {"reboot": {"type": "HARD"}}):
        assert act(compute_cloud, server, body).status_code == 409, body
    assert isinstance(instance_of(server), Instance)
    assert instance_of(server).vm_state == "active"


def test_a_server_no_host_runs_is_not_ready(compute_cloud):
    record = Instance(
        uuid=uuid.uuid4(),
        user_id=compute_cloud.users["member"],
        project_id=compute_cloud.projects["alpha"],
        display_name="hostless",
        vm_state=VmState.ACTIVE,
    )
    record.obj_set_context(ADMIN)
    record.create()
    server = str(record.uuid)
    for body in ({"os-stop": None}, {"os-getConsoleOutput": {}}):
        response = act(compute_cloud, server, body)
        assert response.status_code == 409, response.text
        assert error_of(response) == ("conflictingRequest", f"Instance {server} is not ready")
    volume = compute_cloud.cloud.volume_store.create(
        1, "hostless", project_id=compute_cloud.projects["alpha"]
    )
    body = {"volumeAttachment": {"volumeId": str(volume.id)}}
    attached = compute_cloud.post(f"/servers/{server}/os-volume_attachments", body)
    assert attached.status_code == 409, attached.text
