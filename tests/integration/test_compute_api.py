"""The Compute API's flavors in a real ``cumulo api`` process (gunicorn, two workers,
SQLite), driven by the real ``openstack`` CLI and openstacksdk, and plain HTTP for
what the clients never send (no token, a bad microversion, a bad body).

Needs: nothing but this machine (the cloud of tests/integration/test_identity_api.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.integration.processes import Processes
from tests.integration.test_identity_api import Cloud, start_cloud

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Iterator[Cloud]:
    work = tmp_path_factory.mktemp("compute-api")
    processes = Processes()
    try:
        cloud = start_cloud(processes, work, f"sqlite:///{work / 'cumulo.db'}")
        cloud.openstack("project", "create", "demo")
        cloud.openstack("user", "create", "--password", "alice-pw", "--project", "demo", "alice")
        cloud.openstack("role", "add", "--user", "alice", "--project", "demo", "member")
        cloud.add_cloud("alice", "alice", "alice-pw", "demo")
        yield cloud
    finally:
        processes.stop_and_check_logs()


def compute(cloud: Cloud, method: str, path: str, token: str | None = None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["X-Auth-Token"] = token
    response = requests.request(
        method, f"{cloud.base}/compute/v2.1{path}", headers=headers, timeout=30, **kw
    )
    assert response.headers["x-openstack-request-id"].startswith("req-")
    assert "OpenStack-API-Version" in response.headers["Vary"]
    return response


def test_flavor_lifecycle_with_the_cli(cloud):
    made = cloud.openstack_json(
        "flavor", "create", "--ram", "1024", "--vcpus", "2", "--disk", "10", "m1.x"
    )
    assert (made["name"], made["ram"], made["vcpus"], made["disk"]) == ("m1.x", 1024, 2, 10)
    listed = cloud.openstack_json("flavor", "list")
    assert [f["Name"] for f in listed] == ["m1.x"]
    shown = cloud.openstack_json("flavor", "show", "m1.x")
    assert shown["id"] == made["id"] and shown["os-flavor-access:is_public"] is True

    cloud.openstack("flavor", "set", "--property", "k=v", "m1.x")
    assert cloud.openstack_json("flavor", "show", "m1.x")["properties"] == {"k": "v"}
    # The SDK negotiates 2.61 and reads the extra specs in the flavor body.
    assert cloud.sdk().compute.find_flavor("m1.x").extra_specs == {"k": "v"}
    # A member reads flavors too.
    assert [f["Name"] for f in cloud.openstack_json("flavor", "list", cloud="alice")] == ["m1.x"]

    cloud.openstack("flavor", "delete", "m1.x")
    assert cloud.openstack_json("flavor", "list") == []


def test_a_non_admin_create_is_refused(cloud):
    done = cloud.openstack(
        "flavor", "create", "--ram", "1", "--vcpus", "1", "m1.no", cloud="alice", ok=False
    )
    assert done.returncode != 0 and "403" in done.stderr
    token = cloud.token("alice", "alice-pw", "demo")
    body = {"flavor": {"name": "m1.no", "ram": 1, "vcpus": 1, "disk": 0}}
    refused = compute(cloud, "POST", "/flavors", token, json=body)
    assert refused.status_code == 403 and refused.json()["forbidden"]["code"] == 403


def test_no_token_is_a_401(cloud):
    response = compute(cloud, "GET", "/flavors/detail")
    assert response.status_code == 401
    assert response.json()["unauthorized"]["code"] == 401


def test_a_bad_microversion_is_a_406(cloud):
    token = cloud.token("admin", "admin-secret", "admin")
    response = compute(
        cloud, "GET", "/flavors", token, headers={"OpenStack-API-Version": "compute 2.99"}
    )
    assert response.status_code == 406
    assert "maximum is 2.61" in response.json()["notAcceptable"]["message"]
    assert response.headers["OpenStack-API-Version"] == "compute 2.1"


def test_a_bad_body_is_a_400_naming_the_field(cloud):
    token = cloud.token("admin", "admin-secret", "admin")
    body = {"flavor": {"name": "m1.bad", "ram": "lots", "vcpus": 1, "disk": 0}}
    response = compute(cloud, "POST", "/flavors", token, json=body)
    assert response.status_code == 400
    assert "'flavor.ram'" in response.json()["badRequest"]["message"]


def test_version_documents(cloud):
    listing = requests.get(f"{cloud.base}/compute/", timeout=30).json()["versions"]
    assert listing[-1]["version"] == "2.61"
    one = compute(cloud, "GET", "").json()["version"]
    assert (one["status"], one["min_version"]) == ("CURRENT", "2.1")
