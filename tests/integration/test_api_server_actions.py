"""Server actions and volume attachments through a real ``cumulo api`` process in
front of a conductor and two fake compute hosts, each its own process, on RabbitMQ
and PostgreSQL (the deployment of ``test_api_servers.py``), driven by the real
``openstack`` CLI and openstacksdk: power actions, lock, console output, live
migration by an admin, a volume attached and detached.

Needs: PostgreSQL and RabbitMQ (``scripts/services.sh``).
"""

from __future__ import annotations

from typing import Any

import pytest

from cumulo.volume.store import VolumeStore
from tests.integration import test_api_servers as deployment
from tests.integration.processes import wait_for
from tests.integration.test_identity_api import Cloud

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq, pytest.mark.subprocess]

cloud = deployment.cloud
"""The API, conductor and hosts of ``test_api_servers.py`` (a deployment of this
module's own: the fixture is module-scoped)."""


@pytest.fixture(scope="module")
def server(cloud: Cloud) -> Any:
    sdk = cloud.sdk("alice")
    flavor = sdk.compute.find_flavor("m1.tiny")
    made = sdk.compute.create_server(
        name="acts", flavor_id=flavor.id, image_id=deployment.IMAGE, networks="none"
    )
    return sdk.compute.wait_for_server(made, status="ACTIVE", wait=60)


def _status(cloud: Cloud, server: Any, status: str) -> Any:
    return cloud.sdk("alice").compute.wait_for_server(server, status=status, wait=60)


def test_power_actions_with_the_cli(cloud, server):
    for command, status in [
        ("stop", "SHUTOFF"),
        ("start", "ACTIVE"),
        ("pause", "PAUSED"),
        ("unpause", "ACTIVE"),
        ("suspend", "SUSPENDED"),
        ("resume", "ACTIVE"),
    ]:
        cloud.openstack("server", command, "acts", cloud="alice")
        _status(cloud, server, status)
    cloud.openstack("server", "reboot", "--hard", "--wait", "acts", cloud="alice")
    _status(cloud, server, "ACTIVE")
    refused = cloud.openstack("server", "start", "acts", cloud="alice", ok=False)
    assert refused.returncode != 0
    assert "while it is in vm_state active" in refused.stderr and "409" in refused.stderr


def test_a_locked_server_refuses_its_member(cloud, server):
    cloud.openstack("server", "lock", "acts", cloud="alice")
    assert cloud.openstack_json("server", "show", "acts", cloud="alice")["locked"] is True
    refused = cloud.openstack("server", "stop", "acts", cloud="alice", ok=False)
    assert refused.returncode != 0 and "is locked" in refused.stderr
    cloud.openstack("server", "unlock", "acts", cloud="alice")
    assert cloud.openstack_json("server", "show", "acts", cloud="alice")["locked"] is False


def test_console_output(cloud, server):
    shown = cloud.openstack("console", "log", "show", "--lines", "3", "acts", cloud="alice")
    assert len(shown.stdout.splitlines()) <= 3
    output = cloud.sdk("alice").compute.get_server_console_output(server)["output"]
    assert isinstance(output, str)


def test_live_migration_is_the_admins(cloud, server):
    refused = cloud.openstack(
        "server", "migrate", "--live-migration", "acts", cloud="alice", ok=False
    )
    assert refused.returncode != 0 and "403" in refused.stderr
    source = cloud.openstack_json("server", "show", server.id)["OS-EXT-SRV-ATTR:host"]
    dest = {"host-a": "host-b", "host-b": "host-a"}[source]
    # The API answers at once; the conductor moves the server after.
    cloud.openstack("server", "migrate", "--live-migration", "--host", dest, server.id)
    _settles_on(cloud, server, dest)
    # The SDK at 2.30, the destination left to placement: back to the source.
    cloud.sdk().compute.live_migrate_server(server.id, block_migration="auto")
    _settles_on(cloud, server, source)


def _settles_on(cloud: Cloud, server: Any, host: str) -> None:
    def settled() -> bool:
        shown = cloud.openstack_json("server", "show", server.id)
        return bool(shown["OS-EXT-SRV-ATTR:host"] == host and shown["status"] == "ACTIVE")

    wait_for(settled, f"the server to run on {host}", timeout=60)


def test_a_volume_attached_and_detached_with_the_sdk(cloud, server):
    sdk = cloud.sdk("alice")
    project = sdk.current_project_id
    store = VolumeStore(cloud.work / "volumes")
    volume = store.create(1, "data", project_id=project, user_id=sdk.current_user_id)
    attachment = sdk.compute.create_volume_attachment(server, volume=str(volume.id))
    assert attachment.volume_id == str(volume.id) and attachment.device.startswith("/dev/")
    assert store.get(volume.id).status == "in-use"
    listed = list(sdk.compute.volume_attachments(server))
    assert [a.volume_id for a in listed] == [str(volume.id)]
    sdk.compute.delete_volume_attachment(server, str(volume.id))
    assert store.get(volume.id).status == "available"
    assert list(sdk.compute.volume_attachments(server)) == []
