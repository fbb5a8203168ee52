"""cumulo/api/network/networks.py and versions.py: the versions document, the
default shared network, admin-only create and delete, visibility per project."""

from __future__ import annotations

from cumulo.cli.api_client import password_auth
from cumulo.compute.network import NETWORK_ID
from tests.api.compute.conftest import USER_PASSWORD

from .support import delete, error, get, post


def test_the_versions_document_and_the_resources_need_no_token(compute_cloud):
    response = compute_cloud.client.simulate_get("/network")
    assert response.status_code == 200
    (version,) = response.json["versions"]
    assert version["id"] == "v2.0" and version["status"] == "CURRENT"
    assert version["links"][0]["href"].endswith("/network/v2.0/")
    resources = compute_cloud.client.simulate_get("/network/v2.0").json["resources"]
    assert {r["collection"] for r in resources} >= {"networks", "subnets", "ports"}
    assert get(compute_cloud, "/extensions").json == {"extensions": []}
    unauthenticated = compute_cloud.client.simulate_get("/network/v2.0/networks")
    assert unauthenticated.status_code == 401
    assert error(unauthenticated)["type"] == "HTTPUnauthorized"


def test_the_catalog_names_the_network_service(compute_cloud):
    body = password_auth("member", USER_PASSWORD, "alpha")
    response = compute_cloud.client.simulate_post("/identity/v3/auth/tokens", json=body)
    catalog = response.json["token"]["catalog"]
    (network,) = [entry for entry in catalog if entry["type"] == "network"]
    assert network["name"] == "neutron"
    assert all(e["url"].endswith("/network") for e in network["endpoints"])


def test_everyone_sees_the_default_shared_network(compute_cloud):
    for who in ("member", "reader", "other", "admin"):
        networks = get(compute_cloud, "/networks", who).json["networks"]
        (private,) = [n for n in networks if n["name"] == "private"]
        assert private["id"] == str(NETWORK_ID) and private["shared"] is True
        assert private["status"] == "ACTIVE" and private["mtu"] == 1500
        assert len(private["subnets"]) == 1
    shown = get(compute_cloud, f"/networks/{NETWORK_ID}").json["network"]
    assert shown["name"] == "private"
    by_name = get(compute_cloud, "/networks", params={"name": "private"}).json["networks"]
    assert [n["id"] for n in by_name] == [str(NETWORK_ID)]
    fields = get(compute_cloud, "/networks", params={"fields": ["id", "name"]}).json
    assert all(set(n) == {"id", "name"} for n in fields["networks"])


def test_only_admins_create_and_delete_networks(compute_cloud):
    refused = post(compute_cloud, "/networks", {"network": {"name": "nope"}}, "member")
    assert refused.status_code == 403 and error(refused)["type"] == "HTTPForbidden"
    alpha = compute_cloud.projects["alpha"]
    created = post(
        compute_cloud, "/networks", {"network": {"name": "alpha-net", "project_id": alpha}}, "admin"
    )
    assert created.status_code == 201, created.text
    network = created.json["network"]
    assert network["project_id"] == alpha and network["shared"] is False
    # The member of alpha sees it; beta's member gets a 404, as for no network.
    assert get(compute_cloud, f"/networks/{network['id']}").status_code == 200
    hidden = get(compute_cloud, f"/networks/{network['id']}", "other")
    assert hidden.status_code == 404 and error(hidden)["type"] == "NetworkNotFound"
    names = {n["name"] for n in get(compute_cloud, "/networks", "other").json["networks"]}
    assert "alpha-net" not in names
    assert delete(compute_cloud, f"/networks/{network['id']}", "member").status_code == 403
    assert delete(compute_cloud, f"/networks/{network['id']}", "admin").status_code == 204
    gone = get(compute_cloud, f"/networks/{network['id']}")
    assert gone.status_code == 404
    assert "could not be found" in error(gone)["message"]


def test_a_network_with_ports_cannot_be_deleted(compute_cloud):
    network = post(compute_cloud, "/networks", {"network": {"name": "busy"}}, "admin").json[
        "network"
    ]
    post(
        compute_cloud,
        "/subnets",
        {"subnet": {"network_id": network["id"], "ip_version": 4, "cidr": "10.77.0.0/24"}},
        "admin",
    )
    port = post(compute_cloud, "/ports", {"port": {"network_id": network["id"]}}, "admin").json[
        "port"
    ]
    refused = delete(compute_cloud, f"/networks/{network['id']}", "admin")
    assert refused.status_code == 409 and error(refused)["type"] == "NetworkInUse"
    assert delete(compute_cloud, f"/ports/{port['id']}", "admin").status_code == 204
    assert delete(compute_cloud, f"/networks/{network['id']}", "admin").status_code == 204


def test_the_default_network_stays(compute_cloud):
    refused = delete(compute_cloud, f"/networks/{NETWORK_ID}", "admin")
    assert refused.status_code == 409 and error(refused)["type"] == "NetworkInUse"


def test_bad_input_is_named(compute_cloud):
    bad = post(compute_cloud, "/networks", {"network": {"mtu": "big"}}, "admin")
    assert bad.status_code == 400
    assert "network.mtu" in error(bad)["message"]
    unknown = get(compute_cloud, "/networks", params={"colour": "red"})
    assert unknown.status_code == 400 and "colour" in error(unknown)["message"]
    assert get(compute_cloud, "/networks/not-a-uuid").status_code == 404


def test_quotas_are_read_for_the_project(compute_cloud):
    alpha = compute_cloud.projects["alpha"]
    quota = get(compute_cloud, f"/quotas/{alpha}").json["quota"]
    assert quota["network"] == 100 and quota["port"] == 500
    details = get(compute_cloud, f"/quotas/{alpha}/details.json").json["quota"]
    assert details["port"]["limit"] == 500 and details["port"]["reserved"] == 0
    refused = get(compute_cloud, f"/quotas/{alpha}", "other")
    assert refused.status_code == 403 and error(refused)["type"] == "HTTPForbidden"
    assert get(compute_cloud, f"/quotas/{alpha}", "admin").status_code == 200
