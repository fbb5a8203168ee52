"""``GET /image/v2/images/{id}/file``: the data streamed with its MD5 and length; 204
for an image without data; 404 for an image the project cannot see, unless the
token has the ``service`` role (the compute hosts' credential)."""

from __future__ import annotations

import hashlib
import json

import pytest

from cumulo.identity import IdentityManager, IdentityStore, KeyRepository, TokenFormatter
from cumulo.image import add_image
from tests.api.compute.conftest import USER_PASSWORD, _login


@pytest.fixture(scope="module")
def service_token(compute_cloud):
    keys = KeyRepository(compute_cloud.config.key_repository)
    manager = IdentityManager(IdentityStore(compute_cloud.cloud.engine), TokenFormatter(keys))
    roles = {role.name: role.id for role in manager.store.list_roles()}
    if "service" not in roles:
        from cumulo.identity.manager import new_id
        from cumulo.identity.records import Role

        roles["service"] = manager.store.create_role(Role(new_id(), "service")).id
    project = manager.create_project("service", "default")
    user = manager.create_user("nova-host", "default", USER_PASSWORD)
    manager.grant(user.id, project.id, roles["service"])
    return _login(compute_cloud.client, "nova-host", USER_PASSWORD, "service")


@pytest.fixture(scope="module")
def private(compute_cloud, tmp_path_factory):
    disk = tmp_path_factory.mktemp("download") / "disk"
    disk.write_bytes(bytes(range(256)) * 9000)  # > 1 MiB: several chunks
    return add_image(
        compute_cloud.config.images_dir,
        "beta-only",
        disk,
        visibility="private",
        owner=compute_cloud.projects["beta"],
    )


def download(cloud, image_id, token):
    return cloud.client.simulate_get(
        f"/image/v2/images/{image_id}/file", headers={"X-Auth-Token": token}
    )


def test_the_owner_downloads_the_bytes(compute_cloud, private):
    response = download(compute_cloud, private.id, compute_cloud.tokens["other"])
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-MD5"] == private.checksum
    assert int(response.headers["Content-Length"]) == private.size == 256 * 9000
    assert response.content == bytes(range(256)) * 9000
    assert hashlib.sha512(response.content).hexdigest() == private.os_hash_value


def test_another_project_gets_404_and_a_service_token_the_data(
    compute_cloud, private, service_token
):
    hidden = download(compute_cloud, private.id, compute_cloud.tokens["member"])
    assert hidden.status_code == 404
    assert hidden.json["message"] == f"No image found with ID {private.id}"
    fetched = download(compute_cloud, private.id, service_token)
    assert fetched.status_code == 200 and fetched.content == bytes(range(256)) * 9000
    assert download(compute_cloud, private.id, compute_cloud.tokens["admin"]).status_code == 200


def test_an_image_without_data_is_204(compute_cloud, tmp_path):
    disk = tmp_path / "disk"
    disk.write_bytes(b"x")
    image = add_image(compute_cloud.config.images_dir, "queued", disk)
    meta = compute_cloud.config.images_dir / f"{image.id}.json"
    data = json.loads(meta.read_text())
    meta.write_text(json.dumps({**data, "status": "queued"}))
    (compute_cloud.config.images_dir / image.id).unlink()
    response = download(compute_cloud, image.id, compute_cloud.tokens["reader"])
    assert response.status_code == 204 and response.content == b""


def test_unknown_images_and_missing_tokens(compute_cloud):
    missing = download(compute_cloud, "0" * 8 + "-0000-0000-0000-" + "0" * 12, "x")
    assert missing.status_code == 401
    unknown = download(compute_cloud, "nope", compute_cloud.tokens["reader"])
    assert unknown.status_code == 404 and unknown.json["code"] == "404 Not Found"
