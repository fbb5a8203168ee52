"""cumulo/api/compute/volume_attachments.py: attach, list, show and detach volumes of
the embedded cloud's volume store through /servers/{id}/os-volume_attachments."""

from __future__ import annotations

import pytest

from .servers_support import actions_of, error_of, instance_of, wait_settled


@pytest.fixture(scope="module")
def server(compute_cloud):
    return compute_cloud.boot("member", "volumes")


def new_volume(cloud, who="member", name="v"):
    project = {"member": "alpha", "other": "beta", "admin": "admin"}[who]
    volume = cloud.cloud.volume_store.create(
        1, name, project_id=cloud.projects[project], user_id=cloud.users[who]
    )
    return str(volume.id)


def attachments(cloud, server_id, who="member", query=None):
    return cloud.get(f"/servers/{server_id}/os-volume_attachments", who, params=query)


def attach(cloud, server_id, body, who="member", version="latest"):
    return cloud.post(f"/servers/{server_id}/os-volume_attachments", body, who, version)


def test_attach_list_show_detach(compute_cloud, server):
    volume_id = new_volume(compute_cloud)
    response = attach(compute_cloud, server, {"volumeAttachment": {"volumeId": volume_id}})
    assert response.status_code == 200, response.text
    attachment = response.json["volumeAttachment"]
    assert attachment == {
        "id": volume_id,
        "serverId": server,
        "volumeId": volume_id,
        "device": attachment["device"],
    }
    assert attachment["device"].startswith("/dev/")
    assert compute_cloud.cloud.volume_store.get(volume_id).status == "in-use"
    assert actions_of(server)[-1] == "attach_volume"

    listing = attachments(compute_cloud, server, who="reader")
    assert listing.status_code == 200
    assert listing.json == {"volumeAttachments": [attachment]}
    shown = compute_cloud.get(f"/servers/{server}/os-volume_attachments/{volume_id}", "reader")
    assert shown.status_code == 200 and shown.json == {"volumeAttachment": attachment}

    gone = compute_cloud.delete(f"/servers/{server}/os-volume_attachments/{volume_id}")
    assert gone.status_code == 202, gone.text
    assert compute_cloud.cloud.volume_store.get(volume_id).status == "available"
    assert attachments(compute_cloud, server).json == {"volumeAttachments": []}
    missing = compute_cloud.get(f"/servers/{server}/os-volume_attachments/{volume_id}")
    assert missing.status_code == 404
    assert actions_of(server)[-1] == "detach_volume"


def test_a_named_device_and_a_tag_from_2_49(compute_cloud, server):
    volume_id = new_volume(compute_cloud, name="tagged")
    body = {"volumeAttachment": {"volumeId": volume_id, "device": "/dev/vdq", "tag": "data"}}
    refused = attach(compute_cloud, server, body, version="2.48")
    assert refused.status_code == 400
    assert error_of(refused)[1].startswith("Invalid input for field 'volumeAttachment.tag'")
    response = attach(compute_cloud, server, body, version="2.49")
    assert response.status_code == 200, response.text
    assert response.json["volumeAttachment"]["device"] == "/dev/vdq"
    assert "tag" not in response.json["volumeAttachment"]  # shown from 2.70
    assert (
        compute_cloud.delete(f"/servers/{server}/os-volume_attachments/{volume_id}").status_code
        == 202
    )


def test_limit_and_offset(compute_cloud, server):
    ids = [new_volume(compute_cloud, name=f"page{i}") for i in range(3)]
    for volume_id in ids:
        body = {"volumeAttachment": {"volumeId": volume_id}}
        assert attach(compute_cloud, server, body).status_code == 200
    every = attachments(compute_cloud, server).json["volumeAttachments"]
    assert len(every) == 3
    page = attachments(compute_cloud, server, query={"limit": "1", "offset": "1"})
    assert page.json["volumeAttachments"] == every[1:2]
    assert attachments(compute_cloud, server, query={"limit": "x"}).status_code == 400
    assert attachments(compute_cloud, server, query={"offset": "-1"}).status_code == 400
    for volume_id in ids:
        path = f"/servers/{server}/os-volume_attachments/{volume_id}"
        assert compute_cloud.delete(path).status_code == 202


def test_volumes_that_cannot_be_attached(compute_cloud, server):
    unknown = "0b5c5f9e-5a1b-4c51-9d52-3a8e8b8f0c11"
    response = attach(compute_cloud, server, {"volumeAttachment": {"volumeId": unknown}})
    assert response.status_code == 404
    assert error_of(response) == ("itemNotFound", f"Volume {unknown} could not be found.")

    theirs = new_volume(compute_cloud, who="other", name="beta-volume")
    response = attach(compute_cloud, server, {"volumeAttachment": {"volumeId": theirs}})
    assert response.status_code == 404

    busy = new_volume(compute_cloud, name="busy")
    other_server = compute_cloud.boot("member", "volumes-2")
    assert (
        attach(compute_cloud, other_server, {"volumeAttachment": {"volumeId": busy}}).status_code
        == 200
    )
    response = attach(compute_cloud, server, {"volumeAttachment": {"volumeId": busy}})
    assert response.status_code == 400
    assert "status must be 'available'" in error_of(response)[1]
    again = attach(compute_cloud, other_server, {"volumeAttachment": {"volumeId": busy}})
    assert again.status_code == 400 and "already attached" in error_of(again)[1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"volumeAttachment": {}}, "volumeAttachment.volumeId"),
        ({"volumeAttachment": {"volumeId": "nope"}}, "volumeAttachment.volumeId"),
        (
            {
                "volumeAttachment": {
                    "volumeId": "0b5c5f9e-5a1b-4c51-9d52-3a8e8b8f0c11",
                    "device": "vd",
                }
            },
            "volumeAttachment.device",
        ),
        ({"attachment": {}}, "volumeAttachment"),
    ],
)
def test_bad_bodies_name_the_field(compute_cloud, server, body, field):
    response = attach(compute_cloud, server, body)
    assert response.status_code == 400
    assert error_of(response)[1].startswith(f"Invalid input for field '{field}'")


def test_policy_and_projects(compute_cloud, server):
    volume_id = new_volume(compute_cloud, name="policy")
    body = {"volumeAttachment": {"volumeId": volume_id}}
    assert attach(compute_cloud, server, body, who="reader").status_code == 403
    assert attach(compute_cloud, server, body, who="other").status_code == 404
    assert attachments(compute_cloud, server, who="other").status_code == 404
    assert attach(compute_cloud, server, body, who="admin").status_code == 200
    path = f"/servers/{server}/os-volume_attachments/{volume_id}"
    assert compute_cloud.delete(path, who="reader").status_code == 403
    assert compute_cloud.delete(path, who="other").status_code == 404
    assert compute_cloud.delete(path).status_code == 202


def test_a_locked_server_keeps_its_volumes(compute_cloud):
    server = compute_cloud.boot("member", "volumes-locked")
    volume_id = new_volume(compute_cloud, name="locked")
    body = {"volumeAttachment": {"volumeId": volume_id}}
    assert attach(compute_cloud, server, body).status_code == 200
    lock = compute_cloud.post(f"/servers/{server}/action", {"lock": None})
    assert lock.status_code == 202
    path = f"/servers/{server}/os-volume_attachments/{volume_id}"
    refused = compute_cloud.delete(path)
    assert refused.status_code == 409
    assert error_of(refused) == ("conflictingRequest", f"Instance {server} is locked")
    assert (
        attach(
            compute_cloud, server, {"volumeAttachment": {"volumeId": new_volume(compute_cloud)}}
        ).status_code
        == 409
    )
    assert compute_cloud.delete(path, who="admin").status_code == 202


def test_a_stopped_server_attaches_too(compute_cloud):
    server = compute_cloud.boot("member", "volumes-stopped")
    compute_cloud.post(f"/servers/{server}/action", {"os-stop": None})
    wait_settled(server, "stopped")
    volume_id = new_volume(compute_cloud, name="cold")
    response = attach(compute_cloud, server, {"volumeAttachment": {"volumeId": volume_id}})
    assert response.status_code == 200, response.text
    assert instance_of(server).vm_state == "stopped"
