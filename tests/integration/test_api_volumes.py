"""Volumes through a real ``cumulo api`` process (gunicorn) in front of a conductor
and a fake compute host, each its own process, on RabbitMQ and PostgreSQL, driven by
the real ``openstack`` CLI: ``volume create/list/show/delete`` against the Cinder
subset under ``/volume``, and ``server add/remove volume`` through the compute API,
with the volume's status and attachments as the volume API shows them.

Needs: PostgreSQL and RabbitMQ (``scripts/services.sh``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.api_fleet import IMAGE, api_fleet
from tests.integration.test_identity_api import Cloud

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq, pytest.mark.subprocess]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, rabbitmq_vhost_url: str) -> Iterator[Cloud]:
    work = tmp_path_factory.mktemp("api-volumes")
    with api_fleet(work, rabbitmq_vhost_url, "_api_volumes", ("host-a",)) as (cloud, _fleet):
        sdk = cloud.sdk()
        sdk.compute.create_flavor(name="m1.tiny", ram=256, vcpus=1, disk=1)
        sdk.close()
        yield cloud


def test_the_cli_creates_attaches_detaches_and_deletes_a_volume(cloud):
    # The CLI for what the volume API must serve it; the SDK (no process each) for
    # the server around it.
    sdk = cloud.sdk()
    made = cloud.openstack_json("volume", "create", "--size", "1", "v1")
    assert made["status"] == "available" and made["size"] == 1 and made["name"] == "v1"
    listed = cloud.openstack_json("volume", "list")
    assert [(v["Name"], v["Status"], v["Size"]) for v in listed] == [("v1", "available", 1)]
    shown = cloud.openstack_json("volume", "show", "v1")  # by name: a 404, then ?name=
    assert shown["id"] == made["id"] and shown["attachments"] == []

    flavor = sdk.compute.find_flavor("m1.tiny")
    server = sdk.compute.create_server(
        name="vm", flavor_id=flavor.id, image_id=IMAGE, networks="none"
    )
    server = sdk.compute.wait_for_server(server, status="ACTIVE", wait=120)
    cloud.openstack("server", "add", "volume", "vm", "v1")
    attached = cloud.openstack_json("volume", "show", "v1")
    assert attached["status"] == "in-use"
    (attachment,) = attached["attachments"]
    assert attachment["server_id"] == server.id and attachment["device"].startswith("/dev/")
    assert attachment["host_name"] == "host-a"
    # The compute API agrees.
    (mapping,) = sdk.compute.volume_attachments(server)
    assert mapping.volume_id == made["id"] and mapping.device == attachment["device"]

    cloud.openstack("server", "remove", "volume", "vm", "v1")
    detached = sdk.block_storage.get_volume(made["id"])
    assert detached.status == "available" and detached.attachments == []
    assert list(sdk.compute.volume_attachments(server)) == []
    cloud.openstack("volume", "delete", "v1")
    assert list(sdk.block_storage.volumes()) == []
    sdk.compute.delete_server(server)
    sdk.compute.wait_for_delete(server, wait=120)
    sdk.close()
