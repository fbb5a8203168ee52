"""The network service through a real ``cumulo api`` process in front of a real
deployment — a conductor and two fake compute hosts, each its own process, on
RabbitMQ and PostgreSQL: 40 servers booted at once across both hosts get 40
distinct addresses from the fleet-wide allocator; the openstacksdk cloud layer boots
on a network by name with the ``network`` catalog entry; the ``openstack`` CLI
lists networks, subnets and a server's ports.

Needs: PostgreSQL and RabbitMQ (``scripts/services.sh``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from cumulo.compute.network import NETWORK_ID
from tests.integration.api_fleet import IMAGE, api_fleet
from tests.integration.processes import wait_for
from tests.integration.test_identity_api import ADMIN_PASSWORD, Cloud

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq, pytest.mark.subprocess]

HOSTS = ("host-a", "host-b")
SERVERS = 40


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, rabbitmq_vhost_url: str) -> Iterator[Cloud]:
    work = tmp_path_factory.mktemp("api-networks")
    with api_fleet(work, rabbitmq_vhost_url, "_api_networks", HOSTS) as (cloud, _fleet):
        # Set up with the SDK (in this process): the CLI's start-up is kept for the
        # commands under test.
        admin = cloud.sdk("admin")
        demo = admin.identity.create_project(name="demo", domain_id="default")
        alice = admin.identity.create_user(
            name="alice", password="alice-pw", default_project_id=demo.id, domain_id="default"
        )
        member = admin.identity.find_role("member")
        admin.identity.assign_project_role_to_user(demo, alice, member)
        cloud.add_cloud("alice", "alice", "alice-pw", "demo")
        admin.compute.create_flavor(name="m1.tiny", ram=128, vcpus=1, disk=1)
        yield cloud


def _compute(cloud: Cloud, token: str, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(
        method,
        f"{cloud.base}/compute/v2.1{path}",
        json=body,
        headers={"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.61"},
        timeout=60,
    )
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def test_forty_concurrent_boots_on_two_hosts_get_forty_addresses(cloud):
    token = cloud.token("admin", ADMIN_PASSWORD, "admin")
    admin = cloud.sdk("admin")
    project = admin.identity.find_project("admin").id
    quota = {"quota_set": {"instances": SERVERS, "cores": SERVERS, "ram": SERVERS * 128}}
    _compute(cloud, token, "PUT", f"/os-quota-sets/{project}", quota)
    flavor = admin.compute.find_flavor("m1.tiny").id

    def boot(index: int) -> str:
        server = {
            "name": f"many-{index}",
            "imageRef": IMAGE,
            "flavorRef": flavor,
            "networks": [{"uuid": str(NETWORK_ID)}],
            "availability_zone": f"nova:{HOSTS[index % 2]}",
        }
        return str(_compute(cloud, token, "POST", "/servers", {"server": server})["server"]["id"])

    with ThreadPoolExecutor(max_workers=SERVERS) as pool:
        ids = set(pool.map(boot, range(SERVERS)))

    def all_active() -> list[dict[str, Any]] | None:
        servers = _compute(cloud, token, "GET", "/servers/detail")["servers"]
        mine = [s for s in servers if s["id"] in ids]
        assert not [s for s in mine if s["status"] == "ERROR"], mine
        return mine if all(s["status"] == "ACTIVE" for s in mine) else None

    servers = wait_for(all_active, "40 servers to be ACTIVE", timeout=120)
    assert {s["OS-EXT-SRV-ATTR:host"] for s in servers} == set(HOSTS)
    addresses = [a["addr"] for s in servers for a in s["addresses"]["private"]]
    assert len(addresses) == SERVERS and len(set(addresses)) == SERVERS
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.1.0.0/16") for a in addresses)
    # The network service holds the same addresses, one port per server.
    ports = [p for p in admin.network.ports(network_id=str(NETWORK_ID)) if p.device_id in ids]
    assert sorted(ip["ip_address"] for p in ports for ip in p.fixed_ips) == sorted(addresses)
    assert len({p.mac_address for p in ports}) == SERVERS

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda i: _compute(cloud, token, "DELETE", f"/servers/{i}"), ids))
    wait_for(
        lambda: not [p for p in admin.network.ports() if p.device_id in ids],
        "the deleted servers' ports to be released",
        timeout=120,
    )


def test_the_sdk_cloud_layer_and_the_cli_on_the_network_service(cloud):
    conn = cloud.sdk("alice")
    server = conn.create_server(
        "vm", image=IMAGE, flavor="m1.tiny", network="private", wait=True, timeout=60
    )
    assert server.status == "ACTIVE"
    (listed,) = conn.list_servers()
    assert listed.name == "vm"
    (address,) = listed.addresses["private"]
    assert address["addr"].startswith("10.1.")
    assert listed.private_v4 == address["addr"]

    networks = cloud.openstack_json("network", "list", cloud="alice")
    assert [(n["Name"], n["ID"]) for n in networks] == [("private", str(NETWORK_ID))]
    subnets = cloud.openstack_json("subnet", "list", cloud="alice")
    assert [(s["Network"], s["Subnet"]) for s in subnets] == [(str(NETWORK_ID), "10.1.0.0/16")]
    ports = cloud.openstack_json("port", "list", "--server", "vm", cloud="alice")
    (port,) = ports
    assert port["MAC Address"] == address["OS-EXT-IPS-MAC:mac_addr"]
    assert address["addr"] in str(port["Fixed IP Addresses"])

    assert conn.delete_server("vm", wait=True, timeout=60)
    assert conn.list_servers() == []
    assert list(conn.network.ports()) == []  # its port went with it
