"""cumulo/api/volume/versions.py and the microversion negotiation of common.py."""

from __future__ import annotations

from .conftest import error_of


def test_versions_document_without_a_token(api):
    client = api.cloud.client
    root = client.simulate_get("/volume")
    assert root.status_code == 300
    (entry,) = root.json["versions"]
    assert entry["id"] == "v3.0" and entry["status"] == "CURRENT"
    assert entry["version"] == "3.0" and entry["min_version"] == "3.0"
    assert entry["links"][0]["rel"] == "self"
    assert entry["links"][0]["href"].endswith("/volume/v3/")
    v3 = client.simulate_get("/volume/v3/")
    assert v3.status_code == 200 and v3.json == root.json
    assert root.headers["OpenStack-API-Version"] == "volume 3.0"


def test_the_microversion_is_echoed_and_checked(api):
    response = api.get("/volumes", version="3.0")
    assert response.status_code == 200
    assert response.headers["OpenStack-API-Version"] == "volume 3.0"
    assert "OpenStack-API-Version" in response.headers["Vary"]
    latest = api.get("/volumes", version="latest")
    assert latest.headers["OpenStack-API-Version"] == "volume 3.0"
    for bad in ("3.1", "2.0", "three"):
        refused = api.get("/volumes", version=bad)
        assert refused.status_code == 406, bad
        assert error_of(refused)[0] == "notAcceptable"
        assert refused.headers["OpenStack-API-Version"] == "volume 3.0"
    # Another service's version is not ours to refuse.
    other = api.cloud.client.simulate_get(
        api.url("/volumes", "member", None),
        headers={
            "X-Auth-Token": api.cloud.tokens["member"],
            "OpenStack-API-Version": "compute 2.90",
        },
    )
    assert other.status_code == 200


def test_the_catalog_lists_block_storage_and_its_aliases(api):
    from cumulo.cli.api_client import password_auth

    body = password_auth("member", "user-secret", "alpha")
    response = api.cloud.client.simulate_post("/identity/v3/auth/tokens", json=body)
    catalog = {e["type"]: e for e in response.json["token"]["catalog"]}
    project = api.project("member")
    for kind in ("block-storage", "volumev3", "volume"):
        urls = {e["url"] for e in catalog[kind]["endpoints"]}
        assert len(urls) == 1 and urls.pop().endswith(f"/volume/v3/{project}")


def test_no_token_and_another_projects_path(api):
    anonymous = api.cloud.client.simulate_get(api.url("/volumes", "member", None))
    assert anonymous.status_code == 401
    assert error_of(anonymous)[0] == "unauthorized"
    foreign = api.get("/volumes", who="member", project=api.project("other"))
    assert foreign.status_code == 403
    assert error_of(foreign)[0] == "forbidden"
    # Admins may address any project.
    assert api.get("/volumes", who="admin", project=api.project("member")).status_code == 200
