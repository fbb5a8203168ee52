"""Servers through a real ``cumulo api`` process (gunicorn, two workers) in front of
a real deployment — a conductor and two fake compute hosts, each its own process,
on RabbitMQ and PostgreSQL — driven by the real ``openstack`` CLI and openstacksdk.

Needs: PostgreSQL and RabbitMQ (``scripts/services.sh``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.api_fleet import IMAGE, api_fleet
from tests.integration.processes import wait_for
from tests.integration.test_identity_api import Cloud

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq, pytest.mark.subprocess]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, rabbitmq_vhost_url: str) -> Iterator[Cloud]:
    work = tmp_path_factory.mktemp("api-servers")
    with api_fleet(work, rabbitmq_vhost_url, "_api_servers", ("host-a", "host-b")) as (
        cloud,
        _fleet,
    ):
        cloud.openstack("project", "create", "demo")
        cloud.openstack("user", "create", "--password", "alice-pw", "--project", "demo", "alice")
        cloud.openstack("role", "add", "--user", "alice", "--project", "demo", "member")
        cloud.add_cloud("alice", "alice", "alice-pw", "demo")
        cloud.openstack("keypair", "create", "--private-key", str(work / "alice.pem"),
                        "alice-key", cloud="alice")  # fmt: skip
        cloud.openstack("project", "create", "other")
        cloud.openstack("user", "create", "--password", "bob-pw", "--project", "other", "bob")
        cloud.openstack("role", "add", "--user", "bob", "--project", "other", "member")
        cloud.add_cloud("bob", "bob", "bob-pw", "other")
        cloud.openstack(
            "flavor", "create", "--ram", "256", "--vcpus", "1", "--disk", "1", "m1.tiny"
        )
        yield cloud


def _active(cloud: Cloud, name: str, who: str = "alice") -> dict[str, Any]:
    def shown() -> dict[str, Any] | None:
        server: dict[str, Any] = cloud.openstack_json("server", "show", name, cloud=who)
        return server if server["status"] != "BUILD" else None

    server = wait_for(shown, f"server {name} to leave BUILD", timeout=60)
    assert server["status"] == "ACTIVE", server
    return server


def test_a_member_boots_lists_shows_and_deletes_with_the_sdk_and_the_cli(cloud):
    sdk = cloud.sdk("alice")
    flavor = sdk.compute.find_flavor("m1.tiny")
    server = sdk.compute.create_server(
        name="web-1", flavor_id=flavor.id, image_id=IMAGE, networks="none"
    )
    server = sdk.compute.wait_for_server(server, status="ACTIVE", wait=60)
    assert server.addresses == {}
    listed = cloud.openstack_json("server", "list", cloud="alice")
    assert [(s["Name"], s["Status"]) for s in listed] == [("web-1", "ACTIVE")]
    shown = _active(cloud, "web-1")
    assert shown["id"] == server.id and shown["flavor"]["name"] == "m1.tiny", shown["flavor"]
    # Another project's member neither sees nor finds it.
    assert cloud.openstack_json("server", "list", cloud="bob") == []
    missing = cloud.openstack("server", "show", server.id, cloud="bob", ok=False)
    assert missing.returncode != 0 and f"No Server found for {server.id}" in missing.stderr
    # The admin sees every project's with --all-projects, and the host.
    everyone = cloud.openstack_json("server", "list", "--all-projects", "--long")
    assert [s["Name"] for s in everyone] == ["web-1"]
    assert everyone[0]["Host"] in ("host-a", "host-b")
    cloud.openstack("server", "set", "--name", "web-one", "web-1", cloud="alice")
    cloud.openstack("server", "delete", "--wait", "web-one", cloud="alice")
    assert cloud.openstack_json("server", "list", cloud="alice") == []


def test_the_sdk_boots_on_the_flat_network(cloud):
    sdk = cloud.sdk("alice")
    flavor = sdk.compute.find_flavor("m1.tiny")
    server = sdk.compute.create_server(
        name="net-1", flavor_id=flavor.id, image_id=IMAGE, networks="auto"
    )
    server = sdk.compute.wait_for_server(server, status="ACTIVE", wait=60)
    (address,) = server.addresses["private"]
    assert address["version"] == 4 and address["addr"].startswith("10.1.")
    sdk.compute.delete_server(server)
    sdk.compute.wait_for_delete(server, wait=60)


def test_the_cli_boots_with_no_network_and_on_the_network_by_name(cloud):
    made = cloud.openstack_json(
        "server", "create", "--flavor", "m1.tiny", "--image", "cirros", "--nic", "none",
        "--wait", "cli-none", cloud="alice",
    )  # fmt: skip
    assert made["status"] == "ACTIVE" and made["addresses"] == {}
    netted = cloud.openstack_json(
        "server", "create", "--flavor", "m1.tiny", "--image", "cirros", "--network", "private",
        "--key-name", "alice-key", "--wait", "cli-net", cloud="alice",
    )  # fmt: skip
    assert netted["status"] == "ACTIVE" and "private" in str(netted["addresses"])
    assert netted["key_name"] == "alice-key"
    shown = cloud.openstack_json("server", "show", "cli-net", cloud="alice")  # by name
    assert shown["id"] == netted["id"] and shown["image"].startswith("cirros")
    names = [s["Name"] for s in cloud.openstack_json("server", "list", cloud="alice")]
    assert sorted(names) == ["cli-net", "cli-none"]
    # The admin moves one; its events and its migration are listed.
    source = cloud.openstack_json("server", "show", netted["id"])
    cloud.openstack("server", "migrate", "--live-migration", netted["id"])  # placement picks
    wait_for(
        lambda: (
            (now := cloud.openstack_json("server", "show", netted["id"]))["status"] == "ACTIVE"
            and now["OS-EXT-SRV-ATTR:host"] != source["OS-EXT-SRV-ATTR:host"]
        ),
        "the live migration to land",
        timeout=60,
    )
    events = cloud.openstack_json("server", "event", "list", "cli-net", cloud="alice")
    assert {e["Action"] for e in events} == {"create", "live-migration"}
    migrations = cloud.openstack_json("server", "migration", "list", "--server", netted["id"])
    assert [(m["Status"], m["Type"]) for m in migrations] == [("completed", "live-migration")]
    quota = cloud.openstack_json("quota", "show", cloud="alice")
    limits = {row["Resource"]: row["Limit"] for row in quota}
    assert (limits["instances"], limits["cores"], limits["ram"]) == (10, 20, 51200)
    for name in ("cli-none", "cli-net"):
        cloud.openstack("server", "delete", "--wait", name, cloud="alice")
    assert cloud.openstack_json("server", "list", cloud="alice") == []
