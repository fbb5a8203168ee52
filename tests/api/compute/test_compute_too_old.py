"""The rolling-upgrade promise at the API: a request that needs a newer compute host
than the server's is a 409 naming the host and what it cannot do, and nothing is
sent to it; a host that does not answer in time is a 503. A module of its own: it
records one host as running release 0.1, and the API caches the fleet's levels."""

from __future__ import annotations

import pytest

from cumulo.api.compute.server_actions import older_host_refuses
from cumulo.api.errors import http_error
from cumulo.compute.exceptions import ComputeTooOld
from cumulo.compute.version import level
from cumulo.model import Service, ServiceBinary
from cumulo.rpc import MessagingTimeout, UnsupportedVersion

from .servers_support import ADMIN, error_of, instance_of


def _downgrade(host: str) -> None:
    row = Service.get_by_host_and_binary(ADMIN, host, ServiceBinary.COMPUTE)
    row.version = 1
    row.rpc_api_version = level(1).compute_rpc
    row.object_manifest = dict(level(1).object_manifest)
    row.save()


def test_an_older_host_refuses_what_it_cannot_do(compute_cloud):
    server = compute_cloud.boot("member", "on-an-old-host")
    host = instance_of(server).host
    _downgrade(host)

    console = compute_cloud.post(
        f"/servers/{server}/action", {"os-getConsoleOutput": {"length": 5}}
    )
    assert console.status_code == 409, console.text
    name, message = error_of(console)
    assert name == "conflictingRequest"
    assert f"compute host {host} (release 0.1) cannot show a console output" in message

    volume = compute_cloud.cloud.volume_store.create(
        1, "tagged", project_id=compute_cloud.projects["alpha"], user_id="member"
    )
    body = {"volumeAttachment": {"volumeId": str(volume.id), "tag": "data"}}
    tagged = compute_cloud.post(f"/servers/{server}/os-volume_attachments", body)
    assert tagged.status_code == 409, tagged.text
    assert f"{host} (release 0.1) cannot attach a volume with a device tag" in error_of(tagged)[1]
    assert compute_cloud.cloud.volume_store.get(volume.id).status == "available"


def test_a_host_that_does_not_answer_in_time_is_a_503():
    error = http_error(MessagingTimeout("no reply from host-a in 30 s"), "req-1")
    assert error.status == 503
    assert "did not answer in time" in error.message and "host-a" not in error.message


def test_a_host_refusing_the_version_is_the_same_409(compute_cloud):
    # The API's cache of the levels may lag a host's move: the host's own refusal
    # of the message's version becomes the refusal the API would have made.
    server = compute_cloud.boot("member", "refuses-itself")
    instance = instance_of(server)
    _downgrade(instance.host)
    refusing = older_host_refuses(ADMIN, instance, "show a console output")
    with pytest.raises(ComputeTooOld) as raised, refusing:
        raise UnsupportedVersion("1.1", "get_console_output")
    error = http_error(raised.value, "req-2")
    assert error.status == 409
    assert f"compute host {instance.host} (release 0.1) cannot show a console output" in (
        error.message
    )
