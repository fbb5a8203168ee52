"""cumulo/api/volume/volumes.py: create (empty and from an image), list, detail with
filters and paging, show, update and delete, and what each refuses."""

from __future__ import annotations

import shutil
import struct
import subprocess
import uuid

import pytest

from cumulo.image import add_image
from tests.api.compute.conftest import IMAGE

from .conftest import error_of

FIELDS = {
    "id",
    "name",
    "description",
    "size",
    "status",
    "attachments",
    "bootable",
    "created_at",
    "updated_at",
    "user_id",
    "os-vol-tenant-attr:tenant_id",
    "availability_zone",
    "volume_type",
    "links",
    "metadata",
    "encrypted",
    "multiattach",
    "snapshot_id",
    "source_volid",
    "consistencygroup_id",
    "replication_status",
}


def test_create_show_and_the_body_fields(api):
    created = api.create(name="data", description="for the database", size=2)
    assert set(created) == FIELDS
    assert created["status"] == "available" and created["size"] == 2
    assert created["name"] == "data" and created["description"] == "for the database"
    assert created["attachments"] == [] and created["bootable"] == "false"
    assert created["availability_zone"] == "nova" and created["volume_type"] == "__DEFAULT__"
    assert created["os-vol-tenant-attr:tenant_id"] == api.project("member")
    assert created["user_id"] == api.cloud.users["member"]
    assert created["encrypted"] is False and created["multiattach"] is False
    assert created["links"][0]["href"].endswith(
        f"/volume/v3/{api.project('member')}/volumes/{created['id']}"
    )
    shown = api.show(created["id"], who="reader")
    assert shown["id"] == created["id"] and shown["created_at"] == created["created_at"]
    # The store holds it, sized as asked.
    volume = api.cloud.cloud.volume_store.get(created["id"])
    assert volume.size_gb == 2 and volume.name == "data"


def test_what_openstackclient_sends_is_accepted(api):
    body = {
        "volume": {
            "size": "1",
            "consistencygroup_id": None,
            "snapshot_id": None,
            "name": "osc",
            "description": None,
            "volume_type": None,
            "availability_zone": None,
            "metadata": {},
            "imageRef": None,
            "source_volid": None,
            "backup_id": None,
        }
    }
    response = api.post("/volumes", body)
    assert response.status_code == 202, response.text
    assert response.json["volume"]["description"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "volume"),
        ({"volume": {"size": 0}}, "volume.size"),
        ({"volume": {"size": "one"}}, "volume.size"),
        ({"volume": {"size": 1, "name": "x" * 256}}, "volume.name"),
        ({"volume": {"size": 1, "snapshot_id": str(uuid.uuid4())}}, "volume.snapshot_id"),
        ({"volume": {"size": 1, "source_volid": str(uuid.uuid4())}}, "volume.source_volid"),
        ({"volume": {"size": 1, "metadata": {"k": "v"}}}, "volume.metadata"),
        ({"volume": {"size": 1, "multiattach": True}}, "volume.multiattach"),
        ({"volume": {"size": 1, "imageRef": "not-a-uuid"}}, "volume.imageRef"),
        ({"volume": {"size": 1}, "extra": 1}, "extra"),
    ],
)
def test_create_refuses_bad_bodies_naming_the_field(api, body, field):
    response = api.post("/volumes", body)
    assert response.status_code == 400, response.text
    name, message = error_of(response)
    assert name == "badRequest"
    assert message.startswith(f"Invalid input for field '{field}'"), message


def test_create_refuses_what_the_store_does_not_have(api):
    no_size = api.post("/volumes", {"volume": {"name": "x"}})
    assert no_size.status_code == 400 and "volume.size" in error_of(no_size)[1]
    zone = api.post("/volumes", {"volume": {"size": 1, "availability_zone": "elsewhere"}})
    assert zone.status_code == 400 and error_of(zone)[1] == "Invalid availability zone: elsewhere"
    kind = api.post("/volumes", {"volume": {"size": 1, "volume_type": "ssd"}})
    assert kind.status_code == 404 and error_of(kind)[0] == "itemNotFound"
    image = api.post("/volumes", {"volume": {"size": 1, "imageRef": str(uuid.uuid4())}})
    assert image.status_code == 400 and "image" in error_of(image)[1]
    malformed = api.cloud.client.simulate_post(
        api.url("/volumes", "member", None),
        headers={**api.headers("member", None), "Content-Type": "application/json"},
        body=b"{not json",
    )
    assert malformed.status_code == 400 and error_of(malformed)[0] == "badRequest"
    assert api.post("/volumes", {"volume": {"size": 1}}, who="reader").status_code == 403


def test_a_volume_from_a_raw_image_holds_its_bytes(api):
    created = api.create(name="boot", imageRef=IMAGE)
    assert created["status"] == "available" and created["bootable"] == "true"
    assert created["volume_image_metadata"] == {"image_id": IMAGE}
    path = api.cloud.cloud.volume_store.get(created["id"]).path
    with open(path, "rb") as disk:
        assert disk.read(65536) == b"\0" * 65536
    with open(path, "rb") as disk:
        disk.seek(0, 2)
        assert disk.tell() == 1024**3  # the volume's size, not the image's


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")
def test_a_qcow2_image_is_converted_to_raw(api, tmp_path):
    raw = tmp_path / "pattern.raw"
    raw.write_bytes(b"cumulo!\n" * 8192)
    qcow2 = tmp_path / "pattern.qcow2"
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)], check=True
    )
    images = api.cloud.config.images_dir
    image = add_image(images, "pattern", qcow2)
    assert image.disk_format == "qcow2"
    created = api.create(name="from-qcow2", imageRef=image.id)
    assert created["status"] == "available"
    with open(api.cloud.cloud.volume_store.get(created["id"]).path, "rb") as disk:
        assert disk.read(65536) == raw.read_bytes()


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")
def test_an_image_larger_than_the_volume_is_refused(api, tmp_path):
    big = tmp_path / "big.qcow2"  # 2 GiB virtual, a few KiB on disk
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(big), "1537M"], check=True)
    image = add_image(api.cloud.config.images_dir, "big", big)
    refused = api.post("/volumes", {"volume": {"size": 1, "imageRef": image.id}})
    assert refused.status_code == 400
    assert "Size of specified image 2GB is larger than volume size 1GB" in error_of(refused)[1]
    assert api.create(size=2, imageRef=image.id)["status"] == "available"
    # min_disk counts too.
    small = tmp_path / "small.raw"
    small.write_bytes(b"\1" * 4096)
    needy = add_image(api.cloud.config.images_dir, "needy", small, min_disk=3)
    refused = api.post("/volumes", {"volume": {"size": 2, "imageRef": needy.id}})
    assert "Size of specified image 3GB is larger than volume size 2GB" in error_of(refused)[1]


def test_an_unreadable_image_is_refused(api, tmp_path):
    broken = tmp_path / "broken.qcow2"
    broken.write_bytes(b"QFI\xfb" + b"\0" * 512)  # qcow2's magic, then no valid header
    image = add_image(api.cloud.config.images_dir, "broken", broken)
    response = api.post("/volumes", {"volume": {"size": 1, "imageRef": image.id}})
    assert response.status_code == 400, response.text
    assert error_of(response) == ("badRequest", f"Image {image.id} could not be read.")
    assert "broken" not in response.text  # no path, no qemu-img output


def _corrupt_qcow2(tmp_path):
    """A qcow2 whose header reads fine and whose first cluster's address is garbage:
    ``qemu-img info`` sizes it, ``qemu-img convert`` fails."""
    raw = tmp_path / "data.raw"
    raw.write_bytes(b"x" * 1048576)
    qcow2 = tmp_path / "corrupt.qcow2"
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(qcow2)], check=True
    )
    with qcow2.open("r+b") as disk:
        header = disk.read(104)
        disk.seek(struct.unpack(">Q", header[40:48])[0])
        l2_offset = struct.unpack(">Q", disk.read(8))[0] & 0x00FFFFFFFFFFFE00
        disk.seek(l2_offset)
        entry = struct.unpack(">Q", disk.read(8))[0]
        disk.seek(l2_offset)
        disk.write(struct.pack(">Q", (entry & 0xFF00000000000000) | 0x12345))
    return qcow2


@pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")
def test_a_failed_copy_leaves_the_volume_in_error_with_a_message(api, tmp_path):
    image = add_image(api.cloud.config.images_dir, "corrupt", _corrupt_qcow2(tmp_path))
    response = api.post("/volumes", {"volume": {"size": 1, "imageRef": image.id}})
    assert response.status_code == 202, response.text
    volume = response.json["volume"]
    assert volume["status"] == "error"
    assert volume["error_message"] == f"Image {image.id} could not be copied into the volume."
    assert api.show(volume["id"])["status"] == "error"
    errors = api.get("/volumes/detail", params={"status": "error"}).json["volumes"]
    assert volume["id"] in {v["id"] for v in errors}
    # An error volume can be deleted.
    assert api.delete(f"/volumes/{volume['id']}").status_code == 202


def test_list_detail_filters_and_paging(api):
    made = [api.create(who="other", name=f"page-{i}")["id"] for i in range(3)]
    listing = api.get("/volumes", who="other")
    assert listing.status_code == 200
    summaries = listing.json["volumes"]
    assert [v["id"] for v in summaries[:3]] == made[::-1]  # newest first
    assert set(summaries[0]) == {"id", "name", "links"}
    detail = api.get("/volumes/detail", who="other").json["volumes"]
    assert set(detail[0]) >= FIELDS
    named = api.get("/volumes/detail", who="other", params={"name": "page-1"}).json["volumes"]
    assert [v["id"] for v in named] == [made[1]]
    available = api.get("/volumes/detail", who="other", params={"status": "available"})
    assert made[0] in {v["id"] for v in available.json["volumes"]}
    assert api.get("/volumes", who="other", params={"status": "in-use"}).json["volumes"] == []
    first = api.get("/volumes", who="other", params={"limit": "1"}).json
    assert [v["id"] for v in first["volumes"]] == [made[2]]
    (next_link,) = first["volumes_links"]
    assert next_link["rel"] == "next" and f"marker={made[2]}" in next_link["href"]
    second = api.get("/volumes", who="other", params={"limit": "1", "marker": made[2]}).json
    assert [v["id"] for v in second["volumes"]] == [made[1]]
    bad_marker = api.get("/volumes", who="other", params={"marker": str(uuid.uuid4())})
    assert bad_marker.status_code == 400 and "Marker" in error_of(bad_marker)[1]
    bad_limit = api.get("/volumes", who="other", params={"limit": "-1"})
    assert bad_limit.status_code == 400 and "limit" in error_of(bad_limit)[1]
    # Another project's volumes are not listed; an admin sees them with all_tenants.
    mine = {v["id"] for v in api.get("/volumes").json["volumes"]}
    assert not mine & set(made)
    everyone = api.get("/volumes", who="admin", params={"all_tenants": "1"}).json["volumes"]
    assert set(made) <= {v["id"] for v in everyone}


def test_another_projects_volume_is_not_found(api):
    theirs = api.create(who="other", name="theirs")["id"]
    for response in (
        api.get(f"/volumes/{theirs}"),
        api.put(f"/volumes/{theirs}", {"volume": {"name": "mine"}}),
        api.delete(f"/volumes/{theirs}"),
        api.post(f"/volumes/{theirs}/action", {"os-extend": {"new_size": 2}}),
    ):
        assert response.status_code == 404, response.text
        assert error_of(response) == ("itemNotFound", f"Volume {theirs} could not be found.")
    assert api.get("/volumes/not-a-uuid").status_code == 404
    assert api.show(theirs, who="admin")["id"] == theirs


def test_update_name_and_description(api):
    volume = api.create(name="before")
    response = api.put(f"/volumes/{volume['id']}", {"volume": {"name": "after"}})
    assert response.status_code == 200, response.text
    assert response.json["volume"]["name"] == "after"
    assert response.json["volume"]["description"] is None
    described = api.put(f"/volumes/{volume['id']}", {"volume": {"description": "notes"}})
    assert described.json["volume"]["description"] == "notes"
    assert described.json["volume"]["name"] == "after"
    assert api.show(volume["id"])["description"] == "notes"
    for body, field in (
        ({"volume": {}}, "volume"),
        ({"volume": {"size": 3}}, "volume.size"),
        ({"volume": {"name": 5}}, "volume.name"),
    ):
        refused = api.put(f"/volumes/{volume['id']}", body)
        assert refused.status_code == 400
        assert error_of(refused)[1].startswith(f"Invalid input for field '{field}'")
    assert (
        api.put(f"/volumes/{volume['id']}", {"volume": {"name": "r"}}, "reader").status_code == 403
    )


def test_delete(api):
    volume = api.create(name="gone")
    assert api.delete(f"/volumes/{volume['id']}", who="reader").status_code == 403
    response = api.delete(f"/volumes/{volume['id']}")
    assert response.status_code == 202
    assert api.get(f"/volumes/{volume['id']}").status_code == 404
    assert api.delete(f"/volumes/{volume['id']}").status_code == 404


def test_an_old_release_record_without_details_is_served(api):
    # A volume an older release's store wrote (no details file) shows with defaults.
    store = api.cloud.cloud.volume_store
    old = store.create(1, "old", project_id=api.project("member"), user_id="someone")
    assert not (store.root / f"{old.id}.details").exists()
    shown = api.show(str(old.id))
    assert shown["description"] is None and shown["bootable"] == "false"
    assert shown["status"] == "available"


def test_bad_input_before_a_token_is_a_401_and_types_are_named(api):
    anonymous = api.cloud.client.simulate_post(
        api.url("/volumes", "member", None), json={"volume": {"size": "x"}}
    )
    assert anonymous.status_code == 401
    refused = api.post("/volumes", {"volume": {"size": True}})
    assert error_of(refused)[1] == (
        "Invalid input for field 'volume.size': expected integer or string or null, got boolean"
    )


def test_an_api_without_a_volume_store_answers_503(api):
    import dataclasses

    import falcon.testing

    from cumulo.api.app import create_app

    config = dataclasses.replace(api.cloud.config, volume_dir=None)
    client = falcon.testing.TestClient(create_app(config))
    response = client.simulate_get(
        api.url("/volumes", "member", None), headers=api.headers("member", None)
    )
    assert response.status_code == 503
    assert error_of(response) == (
        "serviceUnavailable",
        "This API has no volume store configured.",
    )
