"""cumulo/api/network/ports.py, and servers booted on the network service: ports
with fixed IPs, an exhausted pool's 409, ports per server, ports given to a server
create, released when the server is deleted."""

from __future__ import annotations

import pytest

from cumulo.compute.network import NETWORK_ID
from tests.api.compute.conftest import IMAGE

from .support import delete, error, get, post

FLAVOR = "net.tiny"


@pytest.fixture(scope="module")
def tiny(compute_cloud) -> dict[str, str]:
    """A network of project alpha whose one subnet holds three addresses."""
    alpha = compute_cloud.projects["alpha"]
    net = post(
        compute_cloud, "/networks", {"network": {"name": "tiny", "project_id": alpha}}, "admin"
    )
    network = net.json["network"]["id"]
    body = {
        "subnet": {
            "network_id": network,
            "ip_version": 4,
            "cidr": "10.99.0.0/29",
            "allocation_pools": [{"start": "10.99.0.2", "end": "10.99.0.4"}],
        }
    }
    sub = post(compute_cloud, "/subnets", body)
    assert sub.status_code == 201, sub.text
    return {"network": network, "subnet": sub.json["subnet"]["id"]}


def test_ports_with_fixed_ips_and_an_exhausted_pool(compute_cloud, tiny):
    asked = {"port": {"network_id": tiny["network"], "fixed_ips": [{"ip_address": "10.99.0.3"}]}}
    first = post(compute_cloud, "/ports", asked)
    assert first.status_code == 201, first.text
    port = first.json["port"]
    assert port["fixed_ips"] == [{"subnet_id": tiny["subnet"], "ip_address": "10.99.0.3"}]
    assert port["mac_address"].startswith("fa:16:3e:") and port["device_id"] == ""
    assert "binding:host_id" not in port  # admins only
    again = post(compute_cloud, "/ports", asked)
    assert again.status_code == 409 and error(again)["type"] == "IpAddressInUse"
    outside = {"port": {"network_id": tiny["network"], "fixed_ips": [{"ip_address": "10.5.0.3"}]}}
    assert post(compute_cloud, "/ports", outside).status_code == 400
    made = [
        post(compute_cloud, "/ports", {"port": {"network_id": tiny["network"]}}) for _ in range(2)
    ]
    assert sorted(p.json["port"]["fixed_ips"][0]["ip_address"] for p in made) == [
        "10.99.0.2",
        "10.99.0.4",
    ]
    exhausted = post(compute_cloud, "/ports", {"port": {"network_id": tiny["network"]}})
    assert exhausted.status_code == 409
    assert error(exhausted)["type"] == "IpAddressGenerationFailure"
    assert "No more IP addresses available" in error(exhausted)["message"]
    listed = get(compute_cloud, "/ports", params={"network_id": tiny["network"]}).json["ports"]
    assert len(listed) == 3
    for p in [port, *(m.json["port"] for m in made)]:
        assert delete(compute_cloud, f"/ports/{p['id']}").status_code == 204
    assert get(compute_cloud, f"/ports/{port['id']}").status_code == 404


def test_another_projects_ports_are_not_found(compute_cloud):
    port = post(compute_cloud, "/ports", {"port": {"network_id": str(NETWORK_ID)}}).json["port"]
    hidden = get(compute_cloud, f"/ports/{port['id']}", "other")
    assert hidden.status_code == 404 and error(hidden)["type"] == "PortNotFound"
    assert port["id"] not in {p["id"] for p in get(compute_cloud, "/ports", "other").json["ports"]}
    assert delete(compute_cloud, f"/ports/{port['id']}", "other").status_code == 404
    admin_view = get(compute_cloud, f"/ports/{port['id']}", "admin").json["port"]
    assert admin_view["binding:host_id"] == ""
    assert delete(compute_cloud, f"/ports/{port['id']}").status_code == 204


@pytest.fixture(scope="module", autouse=True)
def flavor(compute_cloud) -> None:
    body = {"flavor": {"name": "net.tiny", "ram": 256, "vcpus": 1, "disk": 1, "id": "net.tiny"}}
    response = compute_cloud.post("/flavors", body, "admin")
    assert response.status_code == 200, response.text


def _boot(compute_cloud, name: str, networks) -> str:
    body = {"server": {"name": name, "imageRef": IMAGE, "flavorRef": FLAVOR, "networks": networks}}
    response = compute_cloud.post("/servers", body)
    assert response.status_code == 202, response.text
    server_id = response.json["server"]["id"]
    compute_cloud.wait(server_id, lambda s: s is not None and s["status"] in ("ACTIVE", "ERROR"))
    return str(server_id)


def test_a_server_gets_a_port_of_the_network_service_and_gives_it_back(compute_cloud):
    server = _boot(compute_cloud, "net-auto", "auto")
    (port,) = get(compute_cloud, "/ports", params={"device_id": server}).json["ports"]
    assert port["network_id"] == str(NETWORK_ID) and port["device_owner"] == "compute:nova"
    assert port["status"] == "ACTIVE"
    shown = compute_cloud.get(f"/servers/{server}").json["server"]
    (address,) = shown["addresses"]["private"]
    assert address["addr"] == port["fixed_ips"][0]["ip_address"]
    assert address["OS-EXT-IPS-MAC:mac_addr"] == port["mac_address"]
    assert get(compute_cloud, "/ports", "admin", params={"device_id": server}).json["ports"][0][
        "binding:host_id"
    ] in ("host-a", "host-b")
    assert compute_cloud.delete(f"/servers/{server}").status_code == 204
    compute_cloud.wait(server, lambda s: s is None)
    assert get(compute_cloud, "/ports", params={"device_id": server}).json["ports"] == []


def test_a_server_booted_on_a_network_and_on_a_port(compute_cloud, tiny):
    port = post(
        compute_cloud, "/ports", {"port": {"network_id": tiny["network"], "name": "mine"}}
    ).json["port"]
    server = _boot(compute_cloud, "net-two", [{"uuid": tiny["network"]}, {"port": port["id"]}])
    ports = get(compute_cloud, "/ports", params={"device_id": server}).json["ports"]
    assert {p["id"] for p in ports} >= {port["id"]} and len(ports) == 2
    addresses = compute_cloud.get(f"/servers/{server}").json["server"]["addresses"]["tiny"]
    assert len(addresses) == 2
    # A bound port cannot be given to another server.
    body = {
        "server": {
            "name": "x",
            "imageRef": IMAGE,
            "flavorRef": FLAVOR,
            "networks": [{"port": port["id"]}],
        }
    }
    taken = compute_cloud.post("/servers", body)
    assert taken.status_code == 409, taken.text
    assert compute_cloud.delete(f"/servers/{server}").status_code == 204
    compute_cloud.wait(server, lambda s: s is None)
    # The port made beforehand stays, unbound, with its address; the other is gone.
    kept = get(compute_cloud, f"/ports/{port['id']}").json["port"]
    assert kept["device_id"] == "" and kept["fixed_ips"] == port["fixed_ips"]
    assert [
        p["id"]
        for p in get(compute_cloud, "/ports", params={"network_id": tiny["network"]}).json["ports"]
    ] == [port["id"]]
    assert delete(compute_cloud, f"/ports/{port['id']}").status_code == 204


def test_server_create_refuses_what_the_project_may_not_use(compute_cloud, tiny):
    def create(networks, who="other"):
        body = {
            "server": {"name": "x", "imageRef": IMAGE, "flavorRef": FLAVOR, "networks": networks}
        }
        return compute_cloud.post("/servers", body, who)

    # beta does not see alpha's network, nor alpha's ports.
    refused = create([{"uuid": tiny["network"]}])
    assert (
        refused.status_code == 400 and "could not be found" in refused.json["badRequest"]["message"]
    )
    port = post(compute_cloud, "/ports", {"port": {"network_id": tiny["network"]}}).json["port"]
    assert create([{"port": port["id"]}]).status_code == 400
    assert create([{"uuid": tiny["network"], "fixed_ip": "10.99.0.2"}], "member").status_code == 400
    delete(compute_cloud, f"/ports/{port['id']}")


def test_a_build_on_an_exhausted_network_fails_and_leaves_no_port(compute_cloud, tiny):
    held = [
        post(compute_cloud, "/ports", {"port": {"network_id": tiny["network"]}}).json["port"]
        for _ in range(3)
    ]
    server = _boot(compute_cloud, "net-full", [{"uuid": tiny["network"]}])
    shown = compute_cloud.get(f"/servers/{server}").json["server"]
    assert shown["status"] == "ERROR"
    assert get(compute_cloud, "/ports", params={"device_id": server}).json["ports"] == []
    compute_cloud.delete(f"/servers/{server}")
    for port in held:
        delete(compute_cloud, f"/ports/{port['id']}")
