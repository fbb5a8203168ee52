"""Images, key pairs, quotas, limits and availability zones in a real ``cumulo api``
process (gunicorn, two workers, SQLite), driven by the real ``openstack`` CLI:
``image list/show``, ``keypair create/list/show/delete``, ``quota show/set``,
``limits show --absolute`` and ``availability zone list --compute``.

Needs: nothing but this machine (no bus: nothing here changes a server).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cumulo.db.api import SqlStorage
from cumulo.db.engine import create_engine
from cumulo.image import add_image
from cumulo.model import Service
from cumulo.model.service import ServiceBinary
from cumulo.rpc import RequestContext
from tests.integration.processes import Processes
from tests.integration.test_identity_api import Cloud, start_cloud

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Iterator[Cloud]:
    work = tmp_path_factory.mktemp("api-images-keypairs-quotas")
    images = work / "images"
    disk = work / "disk"
    disk.write_bytes(b"\x00" * 65536)
    add_image(images, "cirros", disk, min_ram=64)
    processes = Processes()
    try:
        database_url = f"sqlite:///{work / 'cumulo.db'}"
        cloud = start_cloud(processes, work, database_url, ("--images-dir", str(images)))
        cloud.openstack("project", "create", "demo")
        cloud.openstack("user", "create", "--password", "alice-pw", "--project", "demo", "alice")
        cloud.openstack("role", "add", "--user", "alice", "--project", "demo", "member")
        cloud.add_cloud("alice", "alice", "alice-pw", "demo")
        # A compute host's service record, as its heartbeat writes it (no host runs here).
        service = Service(
            uuid=uuid.uuid4(),
            host="host-a",
            binary=ServiceBinary.COMPUTE,
            topic="compute",
            last_seen_up=datetime.now(UTC),
        )
        storage = SqlStorage(create_engine(database_url))
        storage.service_create(RequestContext(user_id="t", project_id="t"), service)
        yield cloud
    finally:
        processes.stop_and_check_logs()


def test_images_are_listed_and_shown(cloud):
    listed = cloud.openstack_json("image", "list", cloud="alice")
    assert [(i["Name"], i["Status"]) for i in listed] == [("cirros", "active")]
    shown = cloud.openstack_json("image", "show", "cirros", cloud="alice")
    assert shown["id"] == listed[0]["ID"] and shown["min_ram"] == 64
    assert shown["disk_format"] == "raw" and shown["size"] == 65536
    missing = cloud.openstack("image", "show", "nope", cloud="alice", ok=False)
    assert missing.returncode != 0 and "nope" in missing.stderr


def test_keypair_lifecycle(cloud, tmp_path):
    private = tmp_path / "alice.pem"
    cloud.openstack("keypair", "create", "--private-key", str(private), "k1", cloud="alice")
    # OSC makes the key itself (Nova stopped generating them in 2.92) and imports it.
    assert "PRIVATE KEY-----" in private.read_text()
    listed = cloud.openstack_json("keypair", "list", cloud="alice")
    assert [k["Name"] for k in listed] == ["k1"]
    shown = cloud.openstack_json("keypair", "show", "k1", cloud="alice")
    assert shown["name"] == "k1" and shown["fingerprint"] == listed[0]["Fingerprint"]
    assert shown["type"] == "ssh"
    # Another user's key pairs are their own.
    assert cloud.openstack_json("keypair", "list") == []
    again = cloud.openstack("keypair", "create", "k1", cloud="alice", ok=False)
    assert again.returncode != 0 and "already exists" in again.stderr
    cloud.openstack("keypair", "delete", "k1", cloud="alice")
    assert cloud.openstack_json("keypair", "list", cloud="alice") == []


def test_keypair_import(cloud, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public = ed25519.Ed25519PrivateKey.generate().public_key()
    key = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    path = tmp_path / "id.pub"
    path.write_bytes(key + b" alice@laptop\n")
    made = cloud.openstack_json("keypair", "create", "--public-key", str(path), "k2", cloud="alice")
    assert made["name"] == "k2"
    shown = cloud.openstack("keypair", "show", "--public-key", "k2", cloud="alice").stdout
    assert shown.strip() == (key + b" alice@laptop").decode()
    cloud.openstack("keypair", "delete", "k2", cloud="alice")


def _quota(cloud: Cloud, project: str | None, who: str = "admin") -> dict[str, int]:
    rows = cloud.openstack_json("quota", "show", *([project] if project else []), cloud=who)
    return {row["Resource"]: row["Limit"] for row in rows}


def test_quota_show_and_set(cloud):
    quota = _quota(cloud, "demo")
    assert quota["instances"] == 10 and quota["cores"] == 20 and quota["ram"] == 51200
    cloud.openstack("quota", "set", "--instances", "5", "--cores", "8", "demo")
    quota = _quota(cloud, "demo")
    assert quota["instances"] == 5 and quota["cores"] == 8
    # A member of the project reads its quotas (its own project's: finding a project by
    # name is for admins), and may not change them.
    assert _quota(cloud, None, "alice")["instances"] == 5
    refused = cloud.openstack("quota", "set", "--instances", "50", "demo", cloud="alice", ok=False)
    assert refused.returncode != 0 and "403" in refused.stderr


def test_limits_show(cloud):
    rows = cloud.openstack_json("limits", "show", "--absolute", cloud="alice")
    # OSC names them after the SDK's attributes (maxTotalKeypairs is ``keypairs``).
    absolute = {row["Name"]: row["Value"] for row in rows}
    assert absolute["keypairs"] == 100 and absolute["total_ram"] == 51200
    assert absolute["instances_used"] == 0 and absolute["total_cores_used"] == 0
    assert absolute["instances"] == _quota(cloud, None, "alice")["instances"]


def test_availability_zones(cloud):
    zones = cloud.openstack_json("availability", "zone", "list", "--compute")
    assert {(z["Zone Name"], z["Zone Status"]) for z in zones} >= {("nova", "available")}
    # A member lists the zones without the hosts (the detail is refused, and OSC
    # falls back to the list).
    mine = cloud.openstack_json("availability", "zone", "list", "--compute", cloud="alice")
    assert [(z["Zone Name"], z["Zone Status"]) for z in mine] == [("nova", "available")]
