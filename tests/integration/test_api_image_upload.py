"""Glance v2's write path in a real ``cumulo api`` process (gunicorn, two workers
sharing one image directory), driven by the real ``openstack`` CLI: ``image
create --file`` (create, then the streamed upload, inspected with qemu-img),
``image list``, ``image show``, ``image set --property``, ``image save`` (the same
bytes back) and ``image delete``; a qcow2 declared raw is refused; an upload cut off
mid-body leaves the image ``killed`` and no file behind.

Needs: qemu-img (scripts/system-deps.sh) and nothing else (no bus).
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.integration.processes import Processes
from tests.integration.test_identity_api import ADMIN_PASSWORD, Cloud, start_cloud

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Iterator[Cloud]:
    work = tmp_path_factory.mktemp("api-image-upload")
    processes = Processes()
    try:
        database_url = f"sqlite:///{work / 'cumulo.db'}"
        images = work / "images"
        yield start_cloud(processes, work, database_url, ("--images-dir", str(images)))
    finally:
        processes.stop_and_check_logs()


@pytest.fixture(scope="module")
def qcow2(tmp_path_factory) -> Path:
    """A qcow2 with some data in it (converted from a raw file of random bytes)."""
    work = tmp_path_factory.mktemp("disk")
    raw = work / "disk.raw"
    raw.write_bytes(os.urandom(3 << 20))
    path = work / "disk.qcow2"
    subprocess.run(
        ["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(path)],
        check=True,
    )
    return path


def rest(cloud: Cloud, method: str, path: str, **kw) -> requests.Response:
    """A plain HTTP call with an admin token (checks the CLI does not show)."""
    headers = {"X-Auth-Token": cloud.token("admin", ADMIN_PASSWORD, "admin")}
    return requests.request(
        method, f"{cloud.base}/image/v2{path}", headers=headers, timeout=30, **kw
    )


def test_image_lifecycle_with_the_cli(cloud, qcow2, tmp_path):
    data = qcow2.read_bytes()
    made = cloud.openstack_json(
        "image",
        "create",
        "--file",
        str(qcow2),
        "--disk-format",
        "qcow2",
        "--container-format",
        "bare",
        "img",
    )
    image_id = made["id"]
    listed = cloud.openstack_json("image", "list")
    assert [(i["Name"], i["Status"]) for i in listed] == [("img", "active")]
    shown = cloud.openstack_json("image", "show", "img")
    assert shown["id"] == image_id and shown["status"] == "active"
    assert shown["size"] == len(data) and shown["checksum"] == hashlib.md5(data).hexdigest()
    assert shown["virtual_size"] == 3 << 20 and shown["disk_format"] == "qcow2"

    cloud.openstack("image", "set", "--property", "hw_disk_bus=virtio", "img")
    body = rest(cloud, "GET", f"/images/{image_id}").json()
    assert body["hw_disk_bus"] == "virtio" and body["os_hash_algo"] == "sha512"
    assert body["os_hash_value"] == hashlib.sha512(data).hexdigest()

    out = tmp_path / "out"
    cloud.openstack("image", "save", "--file", str(out), "img")
    assert out.read_bytes() == data

    cloud.openstack("image", "delete", "img")
    assert rest(cloud, "GET", f"/images/{image_id}").status_code == 404
    images = cloud.work / "images"
    assert sorted(p.name for p in images.iterdir() if not p.name.startswith(".")) == []


def test_a_mismatched_format_is_refused(cloud, qcow2):
    refused = cloud.openstack(
        "image",
        "create",
        "--file",
        str(qcow2),
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "liar",
        ok=False,
    )
    assert refused.returncode != 0 and "qemu-img detected qcow2" in refused.stderr
    # openstacksdk deletes the image it created when the upload fails; whatever is
    # left has no data.
    left = rest(cloud, "GET", "/images", params={"name": "liar"}).json()["images"]
    assert all(i["status"] == "queued" and i["size"] is None for i in left)
    for image in left:
        assert rest(cloud, "DELETE", f"/images/{image['id']}").status_code == 204


def test_an_upload_cut_off_leaves_the_image_killed(cloud):
    token = cloud.token("admin", ADMIN_PASSWORD, "admin")
    body = {"name": "cut", "disk_format": "raw", "container_format": "bare"}
    made = rest(cloud, "POST", "/images", json=body)
    assert made.status_code == 201, made.text
    image_id = made.json()["id"]
    url = urlsplit(cloud.base)
    with socket.create_connection((url.hostname, url.port), timeout=30) as raw:
        request = (
            f"PUT /image/v2/images/{image_id}/file HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\nX-Auth-Token: {token}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n"
        )
        raw.sendall(request.encode() + b"\0" * 4096)
        # the client goes away mid-body
    deadline = time.monotonic() + 30
    while True:
        status = rest(cloud, "GET", f"/images/{image_id}").json()["status"]
        if status == "killed":
            break
        assert time.monotonic() < deadline, f"the image stayed {status}"
        time.sleep(0.1)
    images = cloud.work / "images"
    assert not (images / image_id).exists()
    assert [p.name for p in images.iterdir() if p.name.startswith(".upload-")] == []
