"""Security groups through a real ``cumulo api`` process, driven by the real
``openstack`` CLI, in front of a conductor and a QEMU compute host (each its own
process, on RabbitMQ): the group and rule commands work, and a rule created with
``openstack security group rule create --protocol tcp --dst-port 80 default``
appears in the QEMU host's nftables ruleset, and leaves it when deleted.

Needs: RabbitMQ (``scripts/services.sh``), QEMU and nftables with the privilege to
change the ruleset (``scripts/system-deps.sh``; the QEMU driver tests need the same).
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from cumulo.conductor.rpcapi import ConductorAPI
from cumulo.image import add_image
from cumulo.rpc import RequestContext, get_transport
from cumulo.virt.qemu.images import write_probe_guest_image
from cumulo.virt.qemu.nftables import nft_available, table_name
from cumulo.volume.store import VolumeStore
from tests.integration.processes import Fleet, Processes, wait_for
from tests.integration.test_identity_api import Cloud, start_cloud

pytestmark = [pytest.mark.integration, pytest.mark.rabbitmq, pytest.mark.subprocess]


@dataclass
class SecurityGroupCloud:
    cloud: Cloud
    host: str
    server_id: str


def _host_table(host: str) -> str:
    listed = subprocess.run(
        ["nft", "list", "table", "bridge", table_name(host)],
        capture_output=True,
        text=True,
        check=False,
    )
    return listed.stdout if listed.returncode == 0 else ""


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, rabbitmq_vhost_url: str) -> Iterator[SecurityGroupCloud]:
    why_not = nft_available()
    if why_not is not None:
        pytest.fail(f"this test reads a QEMU host's nftables ruleset: {why_not}", pytrace=False)
    work = tmp_path_factory.mktemp("api-security-groups")
    images = work / "images"
    images.mkdir()
    disk = work / "probe.img"
    write_probe_guest_image(disk)
    image = add_image(images, "probe", disk)
    host = f"sgq-{uuid.uuid4().hex[:6]}"
    processes = Processes()
    database_url = f"sqlite:///{work / 'cumulo.db'}"
    try:
        cloud = start_cloud(
            processes,
            work,
            database_url,
            ("--transport-url", rabbitmq_vhost_url, "--images-dir", str(images)),
        )
        fleet = Fleet(
            processes,
            get_transport(rabbitmq_vhost_url),
            rabbitmq_vhost_url,
            database_url,
            work,
            VolumeStore(work / "volumes"),
        )
        fleet.start_conductor()
        fleet.start_compute(host, driver="qemu")
        probe = ConductorAPI(fleet.transport, timeout=20)
        try:
            probe.wait_until_ready(RequestContext(user_id="t", project_id="t"), timeout=60)
        finally:
            probe.close()
        # The setup goes through openstacksdk in this process (each CLI run costs
        # seconds); the commands under test are the CLI's.
        admin = cloud.sdk()
        project = admin.identity.create_project(name="demo", domain_id="default")
        user = admin.identity.create_user(name="alice", password="alice-pw", domain_id="default")
        admin.identity.assign_project_role_to_user(
            project, user, admin.identity.find_role("member")
        )
        cloud.add_cloud("alice", "alice", "alice-pw", "demo")
        flavor = admin.compute.create_flavor(name="q.tiny", ram=64, vcpus=1, disk=1)
        alice = cloud.sdk("alice")
        server = alice.compute.create_server(
            name="guarded", flavor_id=flavor.id, image_id=image.id, networks="none"
        )
        server = alice.compute.wait_for_server(server, status="ACTIVE", wait=120)
        yield SecurityGroupCloud(cloud, host, server.id)
        alice.compute.delete_server(server)
        alice.compute.wait_for_delete(server, wait=60)
        fleet.transport.cleanup()
    finally:
        processes.stop_and_check_logs()


def _group_names(cloud: Cloud) -> set[str]:
    return {g.name for g in cloud.sdk("alice").network.security_groups()}


def test_the_group_commands(deployed):
    # Each CLI run costs seconds: the checks around them go through openstacksdk (the
    # unit tests cover every error).
    cloud = deployed.cloud
    listed = cloud.openstack_json("security", "group", "list", cloud="alice")
    assert [g["Name"] for g in listed] == ["default"]
    made = cloud.openstack_json("security", "group", "create", "web", cloud="alice")
    assert made["name"] == "web"
    assert _group_names(cloud) == {"default", "web"}
    cloud.openstack("security", "group", "delete", "web", cloud="alice")
    assert _group_names(cloud) == {"default"}


def test_a_rule_reaches_the_qemu_hosts_nftables_ruleset(deployed):
    cloud = deployed.cloud
    chain = f"i{uuid.UUID(deployed.server_id).hex[:12]}_in"
    assert chain in _host_table(deployed.host), "the server's filter is not on its host"
    assert "tcp dport 80 accept" not in _host_table(deployed.host)
    rule = cloud.openstack_json(
        "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "80",
        "default", cloud="alice",
    )  # fmt: skip
    assert (rule["port_range_min"], rule["port_range_max"], rule["protocol"]) == (80, 80, "tcp")
    wait_for(
        lambda: "tcp dport 80 accept" in _host_table(deployed.host),
        "the rule to reach the host's ruleset",
        timeout=30,
    )
    rules = cloud.openstack_json("security", "group", "rule", "list", "default", cloud="alice")
    assert rule["id"] in {r["ID"] for r in rules}
    assert {r["IP Protocol"] for r in rules} >= {"tcp", None}
    cloud.openstack("security", "group", "rule", "delete", rule["id"], cloud="alice")
    wait_for(
        lambda: "tcp dport 80 accept" not in _host_table(deployed.host),
        "the deleted rule to leave the host's ruleset",
        timeout=30,
    )
    remaining = cloud.sdk("alice").network.security_group_rules(
        security_group_id=rule["security_group_id"]
    )
    assert rule["id"] not in {r.id for r in remaining}
