"""The volume API and the compute API's os-volume_attachments agree: a volume goes
available -> attaching -> in-use -> detaching -> available as a server attaches and
detaches it (cumulo/compute/guest.py), its ``attachments`` name the server, and
what an attached volume cannot do is refused. The transitional states are observed
by holding the fake driver inside its attach or detach call."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.compute.servers_support import instance_of

from .conftest import error_of


@pytest.fixture(scope="module")
def server(volume_cloud):
    return volume_cloud.boot("member", "attacher")


def compute_attachments(api, server_id):
    response = api.cloud.get(f"/servers/{server_id}/os-volume_attachments")
    assert response.status_code == 200, response.text
    return [a["volumeId"] for a in response.json["volumeAttachments"]]


def attach(api, server_id, volume_id):
    return api.cloud.post(
        f"/servers/{server_id}/os-volume_attachments", {"volumeAttachment": {"volumeId": volume_id}}
    )


def detach(api, server_id, volume_id):
    return api.cloud.delete(f"/servers/{server_id}/os-volume_attachments/{volume_id}")


def wait_status(api, volume_id, status, timeout=20.0):
    deadline = time.monotonic() + timeout
    while (shown := api.show(volume_id))["status"] != status:
        assert time.monotonic() < deadline, f"volume {volume_id} is {shown['status']}"
        time.sleep(0.01)
    return shown


class Held(Exception):
    """An injected driver failure that first waits for the test to let it go."""

    gate = threading.Event()
    entered = threading.Event()

    def __init__(self, message: str) -> None:
        Held.entered.set()
        assert Held.gate.wait(20), "the test never released the driver"
        super().__init__(message)


@pytest.fixture
def held():
    Held.gate.clear()
    Held.entered.clear()
    yield Held
    Held.gate.set()


def test_attach_and_detach_through_the_compute_api(api, server):
    volume = api.create(name="data")
    response = attach(api, server, volume["id"])
    assert response.status_code == 200, response.text
    device = response.json["volumeAttachment"]["device"]
    shown = api.show(volume["id"], who="reader")
    assert shown["status"] == "in-use"
    (attachment,) = shown["attachments"]
    host = instance_of(server).host
    assert attachment["server_id"] == server and attachment["volume_id"] == volume["id"]
    assert attachment["device"] == device and attachment["host_name"] == host
    assert attachment["attachment_id"] and attachment["attached_at"]
    assert compute_attachments(api, server) == [volume["id"]]
    in_use = api.get("/volumes/detail", params={"status": "in-use"}).json["volumes"]
    assert volume["id"] in {v["id"] for v in in_use}

    # What an attached volume cannot do.
    refused = api.delete(f"/volumes/{volume['id']}")
    assert refused.status_code == 400 and error_of(refused)[0] == "badRequest"
    assert f"attached to server {server}" in error_of(refused)[1]
    grow = api.post(f"/volumes/{volume['id']}/action", {"os-extend": {"new_size": 2}})
    assert grow.status_code == 400
    assert "must be 'available' to extend, currently in-use" in error_of(grow)[1]
    again = attach(api, server, volume["id"])
    assert again.status_code == 400

    assert detach(api, server, volume["id"]).status_code == 202
    shown = api.show(volume["id"])
    assert shown["status"] == "available" and shown["attachments"] == []
    assert compute_attachments(api, server) == []
    assert api.delete(f"/volumes/{volume['id']}").status_code == 202


def test_attaching_and_detaching_are_visible_and_both_apis_agree(api, server, held):
    volume = api.create(name="watched")
    driver = api.cloud.cloud.drivers[instance_of(server).host]
    with ThreadPoolExecutor(1) as pool:
        driver.inject_failure("attach_volume", held)
        pending = pool.submit(attach, api, server, volume["id"])
        assert held.entered.wait(20)
        shown = api.show(volume["id"])
        assert shown["status"] == "attaching"
        assert [a["server_id"] for a in shown["attachments"]] == [server]
        assert compute_attachments(api, server) == [volume["id"]]
        deleting = api.delete(f"/volumes/{volume['id']}")
        assert deleting.status_code == 400 and "it is attaching" in error_of(deleting)[1]
        held.gate.set()
        failed = pending.result(30)
    # The driver failed: nothing is left attached on either side.
    assert failed.status_code >= 400
    assert api.show(volume["id"])["status"] == "available"
    assert compute_attachments(api, server) == []

    assert attach(api, server, volume["id"]).status_code == 200
    held.gate.clear()
    held.entered.clear()
    with ThreadPoolExecutor(1) as pool:
        driver.inject_failure("detach_volume", held)
        pending = pool.submit(detach, api, server, volume["id"])
        assert held.entered.wait(20)
        shown = api.show(volume["id"])
        assert shown["status"] == "detaching" and len(shown["attachments"]) == 1
        assert compute_attachments(api, server) == [volume["id"]]
        held.gate.set()
        pending.result(30)
    # The driver could not detach: still in use, on both sides.
    wait_status(api, volume["id"], "in-use")
    assert compute_attachments(api, server) == [volume["id"]]
    assert detach(api, server, volume["id"]).status_code == 202
    assert api.show(volume["id"])["status"] == "available"


def test_a_deleted_server_detaches_its_volumes(api, volume_cloud):
    doomed = volume_cloud.boot("member", "doomed")
    volume = api.create(name="survivor")
    assert attach(api, doomed, volume["id"]).status_code == 200
    assert api.show(volume["id"])["status"] == "in-use"
    assert volume_cloud.delete(f"/servers/{doomed}").status_code == 204
    shown = wait_status(api, volume["id"], "available")
    assert shown["attachments"] == []
    assert api.delete(f"/volumes/{volume['id']}").status_code == 202


def test_another_projects_volume_cannot_be_attached(api, server):
    theirs = api.create(who="other", name="not-yours")
    response = attach(api, server, theirs["id"])
    assert response.status_code == 404
    assert api.show(theirs["id"], who="other")["status"] == "available"
