"""Server actions and volume attachments through a real ``cumulo api`` process in
front of a conductor and two fake compute hosts, each its own process, on RabbitMQ
and PostgreSQL (the deployment of ``test_api_servers.py``), driven by the real
``openstack`` CLI and openstacksdk: power actions, lock, console output, live
migration by an admin, a volume attached and detached, and a third host on release
0.1 refusing with a 409 what only a newer release can do.

Needs: PostgreSQL and RabbitMQ (``scripts/services.sh``).
"""

from __future__ import annotations

from typing import Any

import pytest

from cumulo.rpc import get_transport
from cumulo.volume.store import VolumeStore
from tests.integration import test_api_servers as deployment
from tests.integration.processes import Fleet, wait_for
from tests.integration.test_identity_api import Cloud
from upgrade.releases import ReleaseUnavailable, materialize

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


def test_a_host_on_release_0_1_refuses_clearly_what_it_cannot_do(
    cloud, server, rabbitmq_vhost_url: str, tmp_path_factory: pytest.TempPathFactory
):
    """The grenade promise at the API: a third host runs release 0.1 (rebuilt from its
    recorded commit); the server is live-migrated onto it, still stops and starts
    there, and its console output (compute RPC 1.1, release 0.2) answers 409 naming
    the host and what it lacks."""
    try:
        tree = materialize("0.1", tmp_path_factory.mktemp("release-0.1"))
    except ReleaseUnavailable as exc:
        pytest.fail(f"cannot rebuild release 0.1: {exc}", pytrace=False)
    fleet = Fleet(
        cloud.processes,
        get_transport(rabbitmq_vhost_url),
        rabbitmq_vhost_url,
        cloud.database_url,
        cloud.work,
        VolumeStore(cloud.work / "volumes"),
        {"0.1": tree},
    )
    try:
        fleet.start_compute("host-old", release="0.1")
        back_to = cloud.openstack_json("server", "show", server.id)["OS-EXT-SRV-ATTR:host"]
        cloud.openstack("server", "migrate", "--live-migration", "--host", "host-old", server.id)
        _settles_on(cloud, server, "host-old")

        def refused() -> str | None:
            # The API reads the hosts' levels again within 30 s (its pin cache).
            done = cloud.openstack("console", "log", "show", "acts", cloud="alice", ok=False)
            return done.stderr if done.returncode != 0 else None

        stderr = wait_for(refused, "the console request to be refused", timeout=60)
        assert "host-old (release 0.1) cannot show a console output" in stderr, stderr
        assert "409" in stderr

        cloud.openstack("server", "stop", "acts", cloud="alice")
        _status(cloud, server, "SHUTOFF")
        cloud.openstack("server", "start", "acts", cloud="alice")
        _status(cloud, server, "ACTIVE")
        cloud.openstack("server", "migrate", "--live-migration", "--host", back_to, server.id)
        _settles_on(cloud, server, back_to)
    finally:
        fleet.transport.cleanup()
