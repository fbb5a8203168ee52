"""Glance v2's write path (cumulo/api/image/): create, upload (inspected with a real
``qemu-img``), JSON-patch update, delete, and the list's filters and sorting over
images of two projects; every bad input gets Glance's error and leaves nothing
half-written."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import uuid

import falcon.testing
import pytest

from cumulo.api.app import create_app
from tests.api.compute.conftest import IMAGE

PATCH = "application/openstack-images-v2.1-json-patch"
OCTET = "application/octet-stream"
MIB = 1 << 20


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", "create", "-q", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def disks(tmp_path_factory):
    """Small disk files made by qemu-img: raw, qcow2, a qcow2 with a backing file
    and one with an external data file, a VHD, an ISO-looking raw, and text."""
    work = tmp_path_factory.mktemp("disks")
    qemu_img("-f", "raw", str(work / "disk.raw"), "1M")
    with (work / "disk.raw").open("r+b") as raw:
        raw.write(b"cumulo raw disk" * 100)
    qemu_img("-f", "qcow2", str(work / "disk.qcow2"), "2M")
    qemu_img("-f", "qcow2", "-b", str(work / "disk.qcow2"), "-F", "qcow2", str(work / "over.qcow2"))
    qemu_img("-f", "qcow2", "-o", f"data_file={work / 'data.raw'}", str(work / "ext.qcow2"), "1M")
    qemu_img("-f", "vpc", str(work / "disk.vhd"), "1M")
    iso = bytearray(64 * 1024)
    iso[0x8001:0x8006] = b"CD001"
    (work / "disk.iso").write_bytes(bytes(iso))
    (work / "notes.txt").write_text("not a disk image\n")
    return {path.name: path.read_bytes() for path in work.iterdir()}


def call(cloud, method, path, who="member", **kw):
    headers = dict(kw.pop("headers", {}))
    if who:
        headers["X-Auth-Token"] = cloud.tokens[who]
    return cloud.client.simulate_request(method, "/image/v2" + path, headers=headers, **kw)


def create(cloud, who="member", **body):
    body = {"disk_format": "raw", "container_format": "bare", "name": "img", **body}
    response = call(cloud, "POST", "/images", who, json=body)
    assert response.status_code == 201, response.text
    return response.json


def upload(cloud, image_id, data, who="member", client=None, **headers):
    target = client or cloud.client
    return target.simulate_put(
        f"/image/v2/images/{image_id}/file",
        headers={"X-Auth-Token": cloud.tokens[who], "Content-Type": OCTET, **headers},
        body=data,
    )


def show(cloud, image_id, who="member"):
    return call(cloud, "GET", f"/images/{image_id}", who)


def leftovers(cloud):
    """Temporary files of the catalog's directory (none once a request is answered)."""
    return [p.name for p in cloud.config.images_dir.iterdir() if p.name.startswith(".upload-")]


# --- create ---------------------------------------------------------------------------


def test_create_is_queued_and_owned_by_the_project(compute_cloud):
    image = create(
        compute_cloud,
        name="cirros-x",
        disk_format="qcow2",
        min_ram=64,
        min_disk=1,
        protected=False,
        tags=["a", "b"],
        hw_disk_bus="virtio",
    )
    assert image["status"] == "queued" and image["visibility"] == "private"
    assert image["owner"] == compute_cloud.projects["alpha"]
    assert image["hw_disk_bus"] == "virtio" and image["tags"] == ["a", "b"]
    assert image["size"] is None and image["checksum"] is None
    assert image["min_ram"] == 64 and image["disk_format"] == "qcow2"
    assert show(compute_cloud, image["id"], "reader").json == image
    assert show(compute_cloud, image["id"], "other").status_code == 404
    # queued: no data to download yet
    assert call(compute_cloud, "GET", f"/images/{image['id']}/file").status_code == 204


def test_create_with_an_id_and_the_location_header(compute_cloud):
    wanted = str(uuid.uuid4())
    response = call(compute_cloud, "POST", "/images", json={"id": wanted, "name": "n"})
    assert response.status_code == 201 and response.json["id"] == wanted
    assert response.headers["Location"] == f"/v2/images/{wanted}"
    again = call(compute_cloud, "POST", "/images", json={"id": wanted})
    assert again.status_code == 409 and again.json["code"] == "409 Conflict"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"disk_format": "exe"}, 400, "disk_format"),
        ({"container_format": "tar"}, 400, "container_format"),
        ({"min_ram": -1}, 400, "min_ram"),
        ({"min_disk": "1"}, 400, "min_disk"),
        ({"protected": "yes"}, 400, "protected"),
        ({"tags": ["a", "a"]}, 400, "tags"),
        ({"name": "x" * 256}, 400, "name"),
        ({"visibility": "shared"}, 400, "visibility"),
        ({"hw_disk_bus": 3}, 400, "hw_disk_bus"),
        ({"bad key!": "x"}, 400, "bad key!"),
        ({"status": "active"}, 403, "'status' is read-only"),
        ({"checksum": "0"}, 403, "'checksum' is read-only"),
        ({"visibility": "public"}, 403, "publicize_image"),
        ({"id": "nope"}, 400, "id"),
    ],
)
def test_create_refuses_bad_bodies(compute_cloud, body, status, words):
    response = call(compute_cloud, "POST", "/images", json=body)
    assert response.status_code == status, response.text
    assert words in response.json["message"]
    assert response.json["code"].startswith(str(status))


def test_create_needs_a_member_and_json(compute_cloud):
    assert call(compute_cloud, "POST", "/images", "reader", json={}).status_code == 403
    garbage = call(
        compute_cloud, "POST", "/images", body="{", headers={"Content-Type": "application/json"}
    )
    assert garbage.status_code == 400 and "Malformed" in garbage.json["message"]
    listed = call(compute_cloud, "POST", "/images", json=[1])
    assert listed.status_code == 400


def test_an_admin_creates_a_public_image(compute_cloud):
    image = create(compute_cloud, "admin", visibility="public")
    assert image["visibility"] == "public"
    assert show(compute_cloud, image["id"], "other").status_code == 200


# --- upload and download --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "disk_format", "virtual_size"),
    [
        ("disk.raw", "raw", MIB),
        ("disk.qcow2", "qcow2", 2 * MIB),
        ("disk.vhd", "vhd", None),
        ("disk.iso", "iso", 64 * 1024),
    ],
)
def test_upload_records_checksums_and_the_virtual_size(
    compute_cloud, disks, name, disk_format, virtual_size
):
    data = disks[name]
    image = create(compute_cloud, disk_format=disk_format)
    response = upload(compute_cloud, image["id"], data)
    assert response.status_code == 204, response.text
    shown = show(compute_cloud, image["id"]).json
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["os_hash_algo"] == "sha512"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    if virtual_size is not None:
        assert shown["virtual_size"] == virtual_size
    else:
        assert shown["virtual_size"] >= MIB
    download = call(compute_cloud, "GET", f"/images/{image['id']}/file", "reader")
    assert download.status_code == 200 and download.content == data
    assert download.headers["Content-MD5"] == shown["checksum"]
    again = upload(compute_cloud, image["id"], data)
    assert again.status_code == 409 and "active" in again.json["message"]
    assert leftovers(compute_cloud) == []


@pytest.mark.parametrize(
    ("name", "declared", "words"),
    [
        ("disk.qcow2", "raw", "qemu-img detected qcow2"),
        ("disk.raw", "qcow2", "qemu-img detected raw"),
        ("notes.txt", "vmdk", "not vmdk"),
        ("disk.raw", "iso", "not an ISO"),
        ("over.qcow2", "qcow2", "backing file"),
        ("ext.qcow2", "qcow2", "external data file"),
    ],
)
def test_refused_data_leaves_the_image_queued_without_data(
    compute_cloud, disks, name, declared, words
):
    image = create(compute_cloud, disk_format=declared)
    response = upload(compute_cloud, image["id"], disks[name])
    assert response.status_code == 400, response.text
    assert words in response.json["message"] and response.json["code"] == "400 Bad Request"
    shown = show(compute_cloud, image["id"]).json
    assert shown["status"] == "queued" and shown["size"] is None
    assert not (compute_cloud.config.images_dir / image["id"]).exists()
    assert leftovers(compute_cloud) == []


def test_uploads_over_the_size_limit_are_413(compute_cloud, disks):
    config = dataclasses.replace(compute_cloud.config, image_size_limit=4096)
    small = falcon.testing.TestClient(create_app(config))
    image = create(compute_cloud)
    declared = upload(compute_cloud, image["id"], disks["disk.raw"], client=small)
    assert declared.status_code == 413, declared.text
    assert declared.json["code"] == "413 Request Entity Too Large"
    assert "4096 bytes" in declared.json["message"]
    assert show(compute_cloud, image["id"]).json["status"] == "queued"
    # no length declared (chunked): refused once the limit is passed
    chunked = upload(
        compute_cloud, image["id"], disks["disk.raw"], client=small, **{"Content-Length": None}
    )
    assert chunked.status_code == 413, chunked.text
    assert show(compute_cloud, image["id"]).json["status"] == "queued"
    assert not (compute_cloud.config.images_dir / image["id"]).exists()
    assert leftovers(compute_cloud) == []
    # under the limit: fine, and a body over the JSON limit is no problem for an upload
    assert upload(compute_cloud, image["id"], disks["disk.raw"]).status_code == 204


def test_a_truncated_upload_kills_the_image(compute_cloud, disks):
    image = create(compute_cloud)
    data = disks["disk.raw"]
    response = upload(compute_cloud, image["id"], data[:1000], **{"Content-Length": str(len(data))})
    assert response.status_code == 400 and "1000 of the" in response.json["message"]
    assert show(compute_cloud, image["id"]).json["status"] == "killed"
    assert not (compute_cloud.config.images_dir / image["id"]).exists()
    assert leftovers(compute_cloud) == []
    assert upload(compute_cloud, image["id"], data).status_code == 409


def test_upload_refusals(compute_cloud, disks):
    image = create(compute_cloud)
    data = disks["disk.raw"]
    assert upload(compute_cloud, image["id"], data, "other").status_code == 404
    assert upload(compute_cloud, image["id"], data, "reader").status_code == 403
    wrong = upload(compute_cloud, image["id"], data, **{"Content-Type": "application/json"})
    assert wrong.status_code == 415
    bare = create(compute_cloud, disk_format=None, container_format=None)
    unset = upload(compute_cloud, bare["id"], data)
    assert unset.status_code == 400 and "disk_format" in unset.json["message"]
    assert upload(compute_cloud, str(uuid.uuid4()), data).status_code == 404
    assert show(compute_cloud, image["id"]).json["status"] == "queued"


# --- update ---------------------------------------------------------------------------


def patch(cloud, image_id, operations, who="member", content_type=PATCH):
    return call(
        cloud,
        "PATCH",
        f"/images/{image_id}",
        who,
        body=json.dumps(operations),
        headers={"Content-Type": content_type},
    )


def test_patch_changes_attributes_and_properties(compute_cloud):
    image = create(compute_cloud, name="before", hw_vif_model="e1000", os_distro="x")
    response = patch(
        compute_cloud,
        image["id"],
        [
            {"op": "replace", "path": "/name", "value": "after"},
            {"op": "add", "path": "/hw_disk_bus", "value": "scsi"},
            {"op": "replace", "path": "/hw_vif_model", "value": "virtio"},
            {"op": "remove", "path": "/os_distro"},
            {"op": "replace", "path": "/min_ram", "value": 128},
            {"op": "replace", "path": "/tags", "value": ["t"]},
            {"op": "replace", "path": "/protected", "value": True},
            {"op": "replace", "path": "/disk_format", "value": "qcow2"},
        ],
    )
    assert response.status_code == 200, response.text
    changed = response.json
    assert changed["name"] == "after" and changed["hw_disk_bus"] == "scsi"
    assert changed["hw_vif_model"] == "virtio" and "os_distro" not in changed
    assert changed["min_ram"] == 128 and changed["tags"] == ["t"] and changed["protected"]
    assert changed["disk_format"] == "qcow2"
    assert show(compute_cloud, image["id"]).json == changed


@pytest.mark.parametrize(
    ("operations", "status", "words"),
    [
        ([{"op": "replace", "path": "/status", "value": "active"}], 403, "'status' is read-only"),
        ([{"op": "replace", "path": "/id", "value": "x"}], 403, "'id' is read-only"),
        ([{"op": "add", "path": "/checksum", "value": "x"}], 403, "'checksum' is read-only"),
        ([{"op": "remove", "path": "/name"}], 403, "cannot be removed"),
        ([{"op": "remove", "path": "/nothing_here"}], 409, "does not exist"),
        ([{"op": "replace", "path": "/nothing_here", "value": "x"}], 409, "does not exist"),
        ([{"op": "replace", "path": "/min_disk", "value": "x"}], 400, "min_disk"),
        ([{"op": "replace", "path": "/visibility", "value": "public"}], 403, "publicize"),
        ([{"op": "add", "path": "/hw_disk_bus", "value": 1}], 400, "hw_disk_bus"),
        ([{"op": "add", "path": "/a/b", "value": "x"}], 400, "JSON pointer"),
        ([{"op": "move", "path": "/name", "value": "x"}], 400, "op"),
        ([{"op": "replace", "path": "/name"}], 400, "needs a value"),
        ({"op": "replace"}, 400, "expected array"),
    ],
)
def test_patch_refusals(compute_cloud, operations, status, words):
    image = create(compute_cloud, name="same")
    response = patch(compute_cloud, image["id"], operations)
    assert response.status_code == status, response.text
    assert words in response.json["message"]
    assert show(compute_cloud, image["id"]).json["name"] == "same"


def test_patch_needs_its_media_type_and_the_owner(compute_cloud, disks):
    image = create(compute_cloud)
    rename = [{"op": "replace", "path": "/name", "value": "x"}]
    as_json = patch(compute_cloud, image["id"], rename, content_type="application/json")
    assert as_json.status_code == 415
    assert patch(compute_cloud, image["id"], rename, "other").status_code == 404
    assert patch(compute_cloud, image["id"], rename, "reader").status_code == 403
    # the seeded image has no owner: only an admin changes it
    assert patch(compute_cloud, IMAGE, rename).status_code == 403
    upload(compute_cloud, image["id"], disks["disk.raw"])
    reformat = [{"op": "replace", "path": "/disk_format", "value": "qcow2"}]
    late = patch(compute_cloud, image["id"], reformat)
    assert late.status_code == 403 and "queued" in late.json["message"]
    public = [{"op": "replace", "path": "/visibility", "value": "public"}]
    assert patch(compute_cloud, image["id"], public, "admin").json["visibility"] == "public"


# --- delete ---------------------------------------------------------------------------


def test_delete_removes_data_and_metadata(compute_cloud, disks):
    image = create(compute_cloud, protected=True)
    upload(compute_cloud, image["id"], disks["disk.raw"])
    path = f"/images/{image['id']}"
    assert call(compute_cloud, "DELETE", path, "other").status_code == 404
    assert call(compute_cloud, "DELETE", path, "reader").status_code == 403
    protected = call(compute_cloud, "DELETE", path)
    assert protected.status_code == 403 and "protected" in protected.json["message"]
    patch(compute_cloud, image["id"], [{"op": "replace", "path": "/protected", "value": False}])
    assert call(compute_cloud, "DELETE", path).status_code == 204
    assert show(compute_cloud, image["id"]).status_code == 404
    directory = compute_cloud.config.images_dir
    assert not (directory / image["id"]).exists()
    assert not (directory / f"{image['id']}.json").exists()
    assert call(compute_cloud, "DELETE", path).status_code == 404
    other = create(compute_cloud, "other")
    assert call(compute_cloud, "DELETE", f"/images/{other['id']}", "admin").status_code == 204


# --- list -----------------------------------------------------------------------------


def test_list_filters_sorting_and_paging(compute_cloud):
    tag = uuid.uuid4().hex[:6]
    mine = [create(compute_cloud, name=f"{tag}-{n}", min_ram=r) for n, r in (("b", 3), ("a", 9))]
    theirs = create(compute_cloud, "other", name=f"{tag}-c")
    beta = compute_cloud.projects["beta"]

    def names(who="member", **params):
        params = {"limit": "1000", **params}
        response = call(compute_cloud, "GET", "/images", who, params=params)
        assert response.status_code == 200, response.text
        return [i["name"] for i in response.json["images"] if i["name"].startswith(tag)]

    assert names() == [f"{tag}-a", f"{tag}-b"]  # newest first; beta's private one unseen
    assert names("other") == [f"{tag}-c"]
    assert set(names("admin")) == {f"{tag}-a", f"{tag}-b", f"{tag}-c"}
    assert names(visibility="private") == [f"{tag}-a", f"{tag}-b"]
    assert names("admin", owner=beta) == [f"{tag}-c"]
    assert names(owner=beta) == []
    assert names(sort_key="name", sort_dir="asc") == [f"{tag}-a", f"{tag}-b"]
    assert names(sort_key="min_ram", sort_dir="asc") == [f"{tag}-b", f"{tag}-a"]
    assert names(sort="name:desc") == [f"{tag}-b", f"{tag}-a"]
    assert names(status="queued", name=f"{tag}-b") == [f"{tag}-b"]
    ids = f"in:{mine[0]['id']},{theirs['id']}"
    assert names(id=ids) == [f"{tag}-b"]
    first = call(compute_cloud, "GET", "/images", params={"limit": "1"}).json
    assert len(first["images"]) == 1 and "marker=" in first["next"]
    for params, words in (
        ({"sort_key": "owner_secret"}, "Invalid sort key"),
        ({"sort_dir": "up"}, "Invalid sort direction"),
        ({"sort_key": "name", "sort_dir": "asc,desc"}, "more sort_dir"),
        ({"sort": "name", "sort_key": "name"}, "cannot be combined"),
    ):
        response = call(compute_cloud, "GET", "/images", params=params)
        assert response.status_code == 400 and words in response.json["message"], params


# --- booting: the properties reach the driver as ImageMeta ----------------------------


@pytest.fixture
def spawned(compute_cloud, monkeypatch):
    """The ``ImageMeta`` each fake host's driver is given to spawn a guest with (the
    real fake driver, its ``spawn`` wrapped to note its argument)."""
    seen = {}
    for driver in compute_cloud.cloud.drivers.values():
        original = driver.spawn

        def spawn(context, instance, image_meta, *args, _original=original, **kw):
            seen[str(instance.uuid)] = image_meta
            return _original(context, instance, image_meta, *args, **kw)

        monkeypatch.setattr(driver, "spawn", spawn)
    return seen


@pytest.fixture(scope="module")
def flavor(compute_cloud):
    body = {"flavor": {"name": "img.tiny", "ram": 256, "vcpus": 1, "disk": 1, "id": "img.tiny"}}
    response = compute_cloud.post("/flavors", body, "admin")
    assert response.status_code == 200, response.text
    return "img.tiny"


def boot(compute_cloud, flavor, image_id, who="member"):
    body = {"server": {"name": "vm", "flavorRef": flavor, "imageRef": image_id, "networks": "none"}}
    return compute_cloud.post("/servers", body, who)


def test_a_booted_guest_gets_the_images_properties(compute_cloud, disks, flavor, spawned):
    properties = {
        "hw_disk_bus": "virtio",
        "hw_vif_model": "e1000",
        "hw_machine_type": "q35",
        "hw_qemu_guest_agent": "yes",
        "hw_cpu_cores": "2",
        "os_distro": "cirros",
        "my_own_note": "kept in Glance, not for the drivers",
    }
    image = create(compute_cloud, name="props", disk_format="qcow2", **properties)
    assert upload(compute_cloud, image["id"], disks["disk.qcow2"]).status_code == 204
    response = boot(compute_cloud, flavor, image["id"])
    assert response.status_code == 202, response.text
    server_id = response.json["server"]["id"]
    server = compute_cloud.wait(server_id, lambda s: s is not None and s["status"] != "BUILD")
    assert server["status"] == "ACTIVE", server
    meta = spawned[server_id]
    assert str(meta.id) == image["id"] and meta.disk_format == "qcow2"
    assert meta.size == len(disks["disk.qcow2"]) and meta.virtual_size == 2 * MIB
    props = meta.properties
    assert props.hw_disk_bus == "virtio" and props.hw_vif_model == "e1000"
    assert props.hw_machine_type == "q35" and props.hw_qemu_guest_agent is True
    assert props.hw_cpu_cores == 2 and props.os_distro == "cirros"
    assert compute_cloud.delete(f"/servers/{server_id}").status_code == 204


def test_server_create_refuses_bad_property_values_and_unusable_images(
    compute_cloud, disks, flavor
):
    image = create(compute_cloud, name="bad-bus", hw_disk_bus="floppy-x")
    assert upload(compute_cloud, image["id"], disks["disk.raw"]).status_code == 204
    response = boot(compute_cloud, flavor, image["id"])
    assert response.status_code == 400, response.text
    message = response.json["badRequest"]["message"]
    assert "hw_disk_bus" in message and "floppy-x" in message and image["id"] in message
    queued = create(compute_cloud, name="no-data")
    not_active = boot(compute_cloud, flavor, queued["id"])
    assert not_active.status_code == 400
    assert "is not active" in not_active.json["badRequest"]["message"]
    private = create(compute_cloud, "other", name="beta-private")
    upload(compute_cloud, private["id"], disks["disk.raw"], "other")
    hidden = boot(compute_cloud, flavor, private["id"])
    assert hidden.status_code == 400
    assert hidden.json["badRequest"]["message"] == "Can not find requested image"


def test_the_size_limit_is_a_cumulo_api_option():
    from cumulo.api.config import DEFAULT_IMAGE_SIZE_LIMIT
    from cumulo.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["api"]).image_size_limit == DEFAULT_IMAGE_SIZE_LIMIT == 10 << 30
    assert parser.parse_args(["api", "--image-size-limit", "4096"]).image_size_limit == 4096
