"""cumulo/api/network/subnets.py: v4 and v6 subnets, pools, overlap refusal,
visibility through the network."""

from __future__ import annotations

import pytest

from cumulo.compute.network import NETWORK_ID

from .support import delete, error, get, post


@pytest.fixture(scope="module")
def network(compute_cloud) -> str:
    alpha = compute_cloud.projects["alpha"]
    body = {"network": {"name": "subnets-net", "project_id": alpha}}
    return str(post(compute_cloud, "/networks", body, "admin").json["network"]["id"])


def subnet(network_id: str, cidr: str, version: int = 4, **extra):
    return {"subnet": {"network_id": network_id, "ip_version": version, "cidr": cidr, **extra}}


def test_the_default_subnet(compute_cloud):
    subnets = get(compute_cloud, "/subnets", params={"network_id": str(NETWORK_ID)}).json
    (default,) = subnets["subnets"]
    assert default["cidr"] == "10.1.0.0/16" and default["gateway_ip"] == "10.1.0.1"
    assert default["allocation_pools"] == [{"start": "10.1.0.2", "end": "10.1.255.254"}]
    assert default["dns_nameservers"] == ["10.1.0.1"] and default["enable_dhcp"] is True


def test_v4_and_v6_subnets_with_defaults(compute_cloud, network):
    v4 = post(compute_cloud, "/subnets", subnet(network, "192.168.10.0/24", name="v4"))
    assert v4.status_code == 201, v4.text
    body = v4.json["subnet"]
    assert body["gateway_ip"] == "192.168.10.1" and body["ip_version"] == 4
    assert body["allocation_pools"] == [{"start": "192.168.10.2", "end": "192.168.10.254"}]
    v6 = post(
        compute_cloud,
        "/subnets",
        subnet(network, "fd00:10::/64", 6, dns_nameservers=["fd00:10::53"], enable_dhcp=False),
    )
    assert v6.status_code == 201, v6.text
    six = v6.json["subnet"]
    assert six["gateway_ip"] == "fd00:10::1" and six["enable_dhcp"] is False
    assert six["allocation_pools"][0]["start"] == "fd00:10::2"
    assert six["dns_nameservers"] == ["fd00:10::53"]
    shown = get(compute_cloud, f"/networks/{network}").json["network"]
    assert set(shown["subnets"]) == {body["id"], six["id"]}
    assert get(compute_cloud, f"/subnets/{six['id']}").json["subnet"]["cidr"] == "fd00:10::/64"


def test_overlapping_cidrs_on_one_network_are_refused(compute_cloud, network):
    post(compute_cloud, "/subnets", subnet(network, "172.20.0.0/16"))
    refused = post(compute_cloud, "/subnets", subnet(network, "172.20.5.0/24"))
    assert refused.status_code == 400
    assert "overlaps with another subnet" in error(refused)["message"]


def test_pools_must_lie_inside_the_cidr(compute_cloud, network):
    outside = subnet(
        network, "172.21.0.0/24", allocation_pools=[{"start": "172.21.0.10", "end": "172.21.1.5"}]
    )
    refused = post(compute_cloud, "/subnets", outside)
    assert (
        refused.status_code == 400 and "spans beyond the subnet cidr" in error(refused)["message"]
    )
    backwards = subnet(
        network, "172.21.0.0/24", allocation_pools=[{"start": "172.21.0.9", "end": "172.21.0.3"}]
    )
    assert "is after end" in error(post(compute_cloud, "/subnets", backwards))["message"]
    gateway = subnet(
        network, "172.21.0.0/24", allocation_pools=[{"start": "172.21.0.1", "end": "172.21.0.9"}]
    )
    assert (
        "conflicts with allocation pool"
        in error(post(compute_cloud, "/subnets", gateway))["message"]
    )
    wrong_version = post(compute_cloud, "/subnets", subnet(network, "fd00:99::/64", 4))
    assert wrong_version.status_code == 400 and "IPv4" in error(wrong_version)["message"]
    not_a_cidr = post(compute_cloud, "/subnets", subnet(network, "banana"))
    assert "not a valid IP subnet" in error(not_a_cidr)["message"]
    missing = post(compute_cloud, "/subnets", {"subnet": {"network_id": network, "ip_version": 4}})
    assert missing.status_code == 400 and "cidr" in error(missing)["message"]
    # Nothing half-written: none of those subnets exists.
    cidrs = {s["cidr"] for s in get(compute_cloud, "/subnets").json["subnets"]}
    assert "172.21.0.0/24" not in cidrs


def test_another_projects_subnets_are_not_found(compute_cloud, network):
    created = post(compute_cloud, "/subnets", subnet(network, "172.22.0.0/24")).json["subnet"]
    hidden = get(compute_cloud, f"/subnets/{created['id']}", "other")
    assert hidden.status_code == 404 and error(hidden)["type"] == "SubnetNotFound"
    seen = {s["id"] for s in get(compute_cloud, "/subnets", "other").json["subnets"]}
    assert created["id"] not in seen
    # beta cannot add a subnet to alpha's network (it does not see it), nor to the
    # shared network it does not own.
    assert (
        post(compute_cloud, "/subnets", subnet(network, "172.23.0.0/24"), "other").status_code
        == 404
    )
    shared = post(compute_cloud, "/subnets", subnet(str(NETWORK_ID), "10.2.0.0/16"), "other")
    assert shared.status_code == 403
    assert delete(compute_cloud, f"/subnets/{created['id']}", "other").status_code == 404
    assert delete(compute_cloud, f"/subnets/{created['id']}").status_code == 204
