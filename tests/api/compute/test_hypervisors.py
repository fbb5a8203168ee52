"""``/os-hypervisors`` against a real embedded cloud (two fake hosts): the fields at
each microversion, ids then uuids (2.53), paging (2.33), the hostname pattern and
``with_servers`` (2.53) and the routes they replaced, statistics, admins only."""

from __future__ import annotations

import json
import uuid

import pytest

from cumulo.model import ComputeNodeList, Service, ServiceBinary
from tests.api.compute.contexts import admin_context

BRIEF_KEYS = {"id", "hypervisor_hostname", "state", "status"}
_USAGE = (
    "vcpus memory_mb local_gb vcpus_used memory_mb_used local_gb_used free_ram_mb "
    "free_disk_gb current_workload running_vms disk_available_least"
)
USAGE_KEYS = set(_USAGE.split())
DETAIL_KEYS = BRIEF_KEYS | USAGE_KEYS
DETAIL_KEYS |= {"hypervisor_type", "hypervisor_version", "host_ip", "service", "cpu_info"}
STATISTICS_KEYS = USAGE_KEYS | {"count"}


@pytest.fixture(scope="module")
def nodes(compute_cloud):
    """host-a's and host-b's nodes by host, once a server runs on one of them."""
    compute_cloud.boot("member", "guest")
    found = ComputeNodeList.get_all(admin_context(compute_cloud)).objects
    return {n.host: n for n in found}


def hypervisors(compute_cloud, path="", version="latest", **params):
    response = compute_cloud.get(f"/os-hypervisors{path}", "admin", version, params=params)
    assert response.status_code == 200, response.text
    return response.json


def test_list_at_2_1_has_ids_and_the_brief_fields(compute_cloud, nodes):
    listed = hypervisors(compute_cloud, version="2.1")["hypervisors"]
    assert [h["hypervisor_hostname"] for h in listed] == ["host-a", "host-b"]
    assert all(set(h) == BRIEF_KEYS for h in listed)
    assert [h["id"] for h in listed] == [nodes["host-a"].id, nodes["host-b"].id]
    assert {(h["state"], h["status"]) for h in listed} == {("up", "enabled")}
    at_2_52 = hypervisors(compute_cloud, version="2.52")["hypervisors"]
    assert [h["id"] for h in at_2_52] == [nodes["host-a"].id, nodes["host-b"].id]
    at_2_53 = hypervisors(compute_cloud, version="2.53")["hypervisors"]
    assert [h["id"] for h in at_2_53] == [str(nodes["host-a"].uuid), str(nodes["host-b"].uuid)]
    assert all(set(h) == BRIEF_KEYS for h in at_2_53)


def test_detail_fields_and_cpu_info_per_microversion(compute_cloud, nodes):
    at_2_27 = hypervisors(compute_cloud, "/detail", "2.27")["hypervisors"]
    assert all(set(h) == DETAIL_KEYS for h in at_2_27)
    a = at_2_27[0]
    node = nodes["host-a"]
    assert (a["vcpus"], a["memory_mb"], a["local_gb"]) == (
        node.vcpus,
        node.memory_mb,
        node.local_gb,
    )
    assert a["host_ip"] == str(node.host_ip) and a["hypervisor_type"] == "fake"
    assert isinstance(a["cpu_info"], str)
    assert json.loads(a["cpu_info"])["topology"]["cores"] == node.cpu_info.topology.cores
    assert set(a["service"]) == {"id", "host", "disabled_reason"}
    assert isinstance(a["service"]["id"], int) and a["service"]["host"] == "host-a"
    at_2_28 = hypervisors(compute_cloud, "/detail", "2.28")["hypervisors"][0]
    assert at_2_28["cpu_info"]["vendor"] == node.cpu_info.vendor
    latest = hypervisors(compute_cloud, "/detail")["hypervisors"][0]
    assert set(latest) == DETAIL_KEYS
    assert uuid.UUID(latest["service"]["id"]) and latest["id"] == str(node.uuid)
    assert sum(h["running_vms"] for h in hypervisors(compute_cloud, "/detail")["hypervisors"]) >= 1


def test_show_by_id_then_by_uuid(compute_cloud, nodes):
    node = nodes["host-b"]
    shown = hypervisors(compute_cloud, f"/{node.id}", "2.1")["hypervisor"]
    assert set(shown) == DETAIL_KEYS and shown["hypervisor_hostname"] == "host-b"
    assert hypervisors(compute_cloud, f"/{node.uuid}")["hypervisor"]["id"] == str(node.uuid)
    cases = [
        ("2.53", str(node.id), 400, f"Invalid uuid {node.id}"),
        ("2.53", str(uuid.uuid4()), 404, "could not be found"),
        ("2.1", "nope", 404, "Hypervisor with ID 'nope' could not be found."),
        ("2.1", str(node.uuid), 404, "could not be found"),
    ]
    for version, hypervisor, status, message in cases:
        response = compute_cloud.get(f"/os-hypervisors/{hypervisor}", "admin", version)
        assert response.status_code == status, (version, hypervisor)
        assert message in response.text


def test_with_servers_from_2_53(compute_cloud, nodes):
    listed = hypervisors(compute_cloud, with_servers="true")["hypervisors"]
    hosting = [h for h in listed if "servers" in h]
    assert len(hosting) == 1  # Nova leaves the key out of a node without servers
    assert set(hosting[0]["servers"][0]) == {"name", "uuid"}
    node_id = hosting[0]["id"]
    shown = hypervisors(compute_cloud, f"/{node_id}", with_servers="1")["hypervisor"]
    assert shown["servers"] == hosting[0]["servers"]
    assert "servers" not in hypervisors(compute_cloud, f"/{node_id}")["hypervisor"]
    # Before 2.53 the parameter means nothing.
    assert all(
        "servers" not in h for h in hypervisors(compute_cloud, version="2.52")["hypervisors"]
    )
    bad = compute_cloud.get("/os-hypervisors", "admin", params={"with_servers": "maybe"})
    assert bad.status_code == 400 and "with_servers" in bad.text


def test_unknown_parameters_are_refused_from_2_53(compute_cloud, nodes):
    for path in ("", "/detail", f"/{nodes['host-a'].uuid}"):
        refused = compute_cloud.get(f"/os-hypervisors{path}", "admin", params={"sort": "x"})
        assert refused.status_code == 400 and "sort" in refused.text
    assert len(hypervisors(compute_cloud, version="2.52", sort="x")["hypervisors"]) == 2


def test_hostname_pattern_from_2_53(compute_cloud, nodes):
    found = hypervisors(compute_cloud, "/detail", hypervisor_hostname_pattern="st-b")
    assert [h["hypervisor_hostname"] for h in found["hypervisors"]] == ["host-b"]
    missing = compute_cloud.get(
        "/os-hypervisors", "admin", params={"hypervisor_hostname_pattern": "zzz"}
    )
    assert missing.status_code == 404
    assert "No hypervisor matching 'zzz' could be found." in missing.text
    paged = compute_cloud.get(
        "/os-hypervisors", "admin", params={"hypervisor_hostname_pattern": "h", "limit": "1"}
    )
    assert paged.status_code == 400


def test_search_and_servers_routes_until_2_52(compute_cloud, nodes):
    found = hypervisors(compute_cloud, "/host-a/search", "2.52")["hypervisors"]
    assert [(h["hypervisor_hostname"], set(h)) for h in found] == [("host-a", BRIEF_KEYS)]
    with_servers = hypervisors(compute_cloud, "/host/servers", "2.1")["hypervisors"]
    assert [h["hypervisor_hostname"] for h in with_servers] == ["host-a", "host-b"]
    assert any("servers" in h for h in with_servers)
    assert compute_cloud.get("/os-hypervisors/zzz/search", "admin", "2.1").status_code == 404
    assert compute_cloud.get("/os-hypervisors/host-a/search", "admin", "2.53").status_code == 404
    assert compute_cloud.get("/os-hypervisors/host-a/servers", "admin", "2.53").status_code == 404


def test_paging_from_2_33(compute_cloud, nodes):
    a, b = nodes["host-a"], nodes["host-b"]
    first = hypervisors(compute_cloud, version="2.33", limit="1")
    assert [h["id"] for h in first["hypervisors"]] == [a.id]
    (link,) = first["hypervisors_links"]
    assert link["href"].endswith(f"/os-hypervisors?limit=1&marker={a.id}")
    second = hypervisors(compute_cloud, version="2.33", limit="1", marker=str(a.id))
    assert [h["id"] for h in second["hypervisors"]] == [b.id]
    assert "hypervisors_links" not in second
    detail = hypervisors(compute_cloud, "/detail", limit="1", marker=str(a.uuid))
    assert [h["id"] for h in detail["hypervisors"]] == [str(b.uuid)]
    # Before 2.33 there is no paging.
    assert len(hypervisors(compute_cloud, version="2.32", limit="1")["hypervisors"]) == 2
    bad = compute_cloud.get("/os-hypervisors", "admin", "2.33", params={"marker": "999"})
    assert bad.status_code == 400 and bad.json["badRequest"]["message"] == "marker [999] not found"
    negative = compute_cloud.get("/os-hypervisors", "admin", "2.33", params={"limit": "-1"})
    assert negative.status_code == 400


def test_statistics_sum_the_enabled_nodes(compute_cloud, nodes):
    stats = hypervisors(compute_cloud, "/statistics", "2.1")["hypervisor_statistics"]
    assert set(stats) == STATISTICS_KEYS
    assert stats["count"] == 2
    assert stats["vcpus"] == nodes["host-a"].vcpus + nodes["host-b"].vcpus
    assert stats["running_vms"] >= 1


def test_a_disabled_or_forced_down_service_shows(compute_cloud, nodes):
    context = admin_context(compute_cloud)
    service = Service.get_by_host_and_binary(context, "host-b", ServiceBinary.COMPUTE)
    service.disabled, service.disabled_reason, service.forced_down = True, "maintenance", True
    service.save()
    try:
        listed = hypervisors(compute_cloud, "/detail")["hypervisors"]
        b = next(h for h in listed if h["hypervisor_hostname"] == "host-b")
        assert (b["state"], b["status"], b["service"]["disabled_reason"]) == (
            "down",
            "disabled",
            "maintenance",
        )
        stats = hypervisors(compute_cloud, "/statistics")["hypervisor_statistics"]
        assert stats["count"] == 1 and stats["vcpus"] == nodes["host-a"].vcpus
    finally:
        service.disabled, service.disabled_reason, service.forced_down = False, None, False
        service.save()


def test_uptime_is_not_reported_by_these_hosts(compute_cloud, nodes):
    response = compute_cloud.get(f"/os-hypervisors/{nodes['host-a'].uuid}/uptime", "admin")
    assert response.status_code == 501
    assert response.json["notImplemented"]["code"] == 501
    missing = compute_cloud.get(f"/os-hypervisors/{uuid.uuid4()}/uptime", "admin")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "path", ["", "/detail", "/statistics", "/1", "/1/uptime", "/host-a/search"]
)
@pytest.mark.parametrize("who", ["member", "reader", "other"])
def test_hypervisors_are_for_admins(compute_cloud, nodes, path, who):
    response = compute_cloud.get(f"/os-hypervisors{path}", who, "2.1")
    assert response.status_code == 403
    assert "os_compute_api:os-hypervisors:" in response.json["forbidden"]["message"]


def test_aggregates_are_an_empty_list_for_admins(compute_cloud):
    assert compute_cloud.get("/os-aggregates", "admin").json == {"aggregates": []}
    assert compute_cloud.get("/os-aggregates", "member").status_code == 403
