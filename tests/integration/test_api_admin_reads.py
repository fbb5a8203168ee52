"""The admin reads (hypervisors, services, migrations, a server's actions) in a real
``cumulo all-in-one`` process (a conductor and two fake hosts behind the API),
driven by the real ``openstack`` CLI with the clouds.yaml it writes (the admin's),
booting a server with ``--image cirros`` (the image all-in-one adds at its first start).

Needs: nothing but this machine (SQLite, inproc://, fake hosts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_all_in_one import AllInOne, openstack
from tests.integration.test_identity_api import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def clouds_yaml(tmp_path_factory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("admin-reads") / "state"
    process = AllInOne(state, free_port())
    try:
        process.wait_until_ready()
        yield state / "clouds.yaml"
    finally:
        code = process.stop()
    assert code == 0, process.log()
    assert "Traceback" not in process.log()


def openstack_json(clouds_yaml: Path, *args: str):
    return json.loads(openstack(clouds_yaml, *args, "-f", "json"))


def test_hypervisor_list(clouds_yaml):
    listed = openstack_json(clouds_yaml, "hypervisor", "list", "--long")
    assert [h["Hypervisor Hostname"] for h in listed] == ["host-a", "host-b"]
    assert {(h["State"], h["Hypervisor Type"]) for h in listed} == {("up", "fake")}
    assert all(h["vCPUs"] > 0 for h in listed)


def test_hypervisor_show(clouds_yaml):
    # By name: the client's GET by id is a 400 at 2.53+, then it finds it in the list.
    shown = openstack_json(clouds_yaml, "hypervisor", "show", "host-b")
    assert shown["hypervisor_hostname"] == "host-b"
    assert (shown["service_host"], shown["state"], shown["status"]) == ("host-b", "up", "enabled")
    assert shown["aggregates"] == []
    assert shown["cpu_info"]["topology"]["cores"] >= 1
    listed = openstack_json(clouds_yaml, "hypervisor", "list")
    by_id = openstack_json(clouds_yaml, "hypervisor", "show", listed[0]["ID"])
    assert by_id["hypervisor_hostname"] == "host-a"


def test_compute_service_list(clouds_yaml):
    listed = openstack_json(clouds_yaml, "compute", "service", "list")
    assert sorted((s["Binary"], s["Host"]) for s in listed) == [
        ("cumulo-compute", "host-a"),
        ("cumulo-compute", "host-b"),
        ("cumulo-conductor", "conductor"),
    ]
    assert {(s["Status"], s["State"]) for s in listed} == {("enabled", "up")}
    zones = {s["Host"]: s["Zone"] for s in listed}
    assert (zones["host-a"], zones["conductor"]) == ("nova", "internal")
    hosts = openstack_json(clouds_yaml, "compute", "service", "list", "--host", "host-a")
    assert [s["Host"] for s in hosts] == ["host-a"]


def test_server_migration_list_is_empty_without_migrations(clouds_yaml):
    assert openstack_json(clouds_yaml, "server", "migration", "list") == []


def test_compute_service_set_disables_and_enables_a_host(clouds_yaml):
    def host_a():
        listed = openstack_json(clouds_yaml, "compute", "service", "list", "--long")
        (service,) = [s for s in listed if s["Host"] == "host-a"]
        return service

    openstack(
        clouds_yaml,
        "compute",
        "service",
        "set",
        "--disable",
        "--disable-reason",
        "maintenance",
        "host-a",
        "cumulo-compute",
    )
    disabled = host_a()
    assert (disabled["Status"], disabled["Disabled Reason"]) == ("disabled", "maintenance")
    listed = openstack_json(clouds_yaml, "hypervisor", "list")
    assert {h["Hypervisor Hostname"]: h["State"] for h in listed} == {
        "host-a": "up",
        "host-b": "up",
    }
    openstack(clouds_yaml, "compute", "service", "set", "--enable", "host-a", "cumulo-compute")
    assert host_a()["Status"] == "enabled"


def test_server_event_list_and_show(clouds_yaml):
    openstack(
        clouds_yaml, "flavor", "create", "--ram", "256", "--vcpus", "1", "--disk", "1", "m1.ev"
    )
    server = openstack_json(
        clouds_yaml, "server", "create", "--flavor", "m1.ev", "--image", "cirros",
        "--nic", "none", "--wait", "evented",
    )  # fmt: skip
    assert server["status"] == "ACTIVE"
    (event,) = openstack_json(clouds_yaml, "server", "event", "list", "evented")
    assert (event["Action"], event["Server ID"]) == ("create", server["id"])
    shown = openstack_json(clouds_yaml, "server", "event", "show", "evented", event["Request ID"])
    assert shown["action"] == "create" and shown["request_id"] == event["Request ID"]
    assert {e["result"] for e in shown["events"]} == {"Success"}
    listed = openstack_json(clouds_yaml, "hypervisor", "list", "--long")
    assert sum(h["vCPUs Used"] for h in listed) == 1
    openstack(clouds_yaml, "server", "delete", "--wait", "evented")
