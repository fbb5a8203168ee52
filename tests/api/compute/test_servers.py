"""``/compute/v2.1/servers`` against a real embedded cloud: create through the
conductor, the bodies per microversion, Nova's list filters, project isolation,
policy, bad input, update, delete, metadata and tags."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from cumulo.model import Instance

IMAGE = "8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2"

BRIEF_2_1 = {"id", "links", "name"}
DETAIL_2_1 = {
    "id", "name", "status", "tenant_id", "user_id", "metadata", "hostId", "image", "flavor",
    "created", "updated", "addresses", "accessIPv4", "accessIPv6", "links",
    "OS-DCF:diskConfig", "OS-EXT-AZ:availability_zone", "config_drive", "key_name",
    "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at", "OS-EXT-STS:task_state",
    "OS-EXT-STS:vm_state", "OS-EXT-STS:power_state", "os-extended-volumes:volumes_attached",
    "security_groups", "progress",
}  # fmt: skip
ADMIN_2_1 = {
    "OS-EXT-SRV-ATTR:host",
    "OS-EXT-SRV-ATTR:hypervisor_hostname",
    "OS-EXT-SRV-ATTR:instance_name",
}
ADMIN_2_3 = {
    "OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:launch_index",
    "OS-EXT-SRV-ATTR:kernel_id", "OS-EXT-SRV-ATTR:ramdisk_id", "OS-EXT-SRV-ATTR:hostname",
    "OS-EXT-SRV-ATTR:root_device_name", "OS-EXT-SRV-ATTR:user_data",
}  # fmt: skip


@pytest.fixture(scope="module")
def flavor(compute_cloud) -> str:
    body = {"flavor": {"name": "s.tiny", "ram": 256, "vcpus": 1, "disk": 1, "id": "s.tiny"}}
    response = compute_cloud.post("/flavors", body, "admin")
    assert response.status_code == 200, response.text
    return "s.tiny"


def server_body(flavor: str, **fields: Any) -> dict[str, Any]:
    server = {"name": "vm", "flavorRef": flavor, "imageRef": IMAGE, "networks": "auto"}
    server.update(fields)
    return {"server": server}


def create(compute_cloud, flavor: str, who: str = "member", **fields: Any) -> str:
    response = compute_cloud.post("/servers", server_body(flavor, **fields), who)
    assert response.status_code == 202, response.text
    server_id: str = response.json["server"]["id"]
    compute_cloud.wait(server_id, lambda s: s is not None and s["status"] != "BUILD", who)
    return server_id


def delete(compute_cloud, server_id: str, who: str = "member") -> None:
    response = compute_cloud.delete(f"/servers/{server_id}", who)
    assert response.status_code == 204, response.text
    compute_cloud.wait(server_id, lambda s: s is None, who)


def test_create_answers_202_with_the_id_and_password_then_the_server_becomes_active(
    compute_cloud, flavor
):
    body = server_body(flavor, name="web-1", metadata={"role": "web"}, description="first")
    response = compute_cloud.post("/servers", body)
    assert response.status_code == 202, response.text
    created = response.json["server"]
    assert set(created) == {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}
    assert len(created["adminPass"]) == 12
    assert response.headers["Location"].endswith(f"/compute/v2.1/servers/{created['id']}")
    server = compute_cloud.wait(created["id"], lambda s: s["status"] != "BUILD")
    assert server["status"] == "ACTIVE"
    assert server["name"] == "web-1" and server["metadata"] == {"role": "web"}
    assert server["description"] == "first"
    assert server["tenant_id"] == compute_cloud.projects["alpha"]
    assert server["OS-EXT-STS:vm_state"] == "active" and server["OS-EXT-STS:power_state"] == 1
    assert server["OS-EXT-AZ:availability_zone"] == "nova"
    assert server["flavor"]["original_name"] == "s.tiny" and server["flavor"]["ram"] == 256
    assert server["image"]["id"] == IMAGE
    (address,) = server["addresses"]["private"]
    assert address["version"] == 4 and address["OS-EXT-IPS:type"] == "fixed"
    delete(compute_cloud, created["id"])


def test_fields_appear_at_the_microversion_that_introduced_them(compute_cloud, flavor):
    server_id = create(compute_cloud, flavor, name="versions")
    shown = {
        version: compute_cloud.get(f"/servers/{server_id}", "member", version).json["server"]
        for version in ("2.1", "2.8", "2.9", "2.18", "2.19", "2.25", "2.26", "2.46", "2.47")
    }
    assert set(shown["2.1"]) == DETAIL_2_1
    assert set(shown["2.8"]) == DETAIL_2_1
    assert set(shown["2.9"]) == DETAIL_2_1 | {"locked"}
    assert set(shown["2.18"]) == DETAIL_2_1 | {"locked"}
    assert set(shown["2.19"]) == DETAIL_2_1 | {"locked", "description"}
    assert set(shown["2.25"]) == set(shown["2.19"])
    assert set(shown["2.26"]) == DETAIL_2_1 | {"locked", "description", "tags"}
    assert set(shown["2.46"]["flavor"]) == {"id", "links"}
    assert set(shown["2.47"]["flavor"]) == {
        "vcpus", "ram", "disk", "ephemeral", "swap", "original_name", "extra_specs",
    }  # fmt: skip
    listed = compute_cloud.get("/servers", "member", "2.1").json["servers"]
    assert all(set(item) == BRIEF_2_1 for item in listed)
    admin = {
        version: compute_cloud.get(f"/servers/{server_id}", "admin", version).json["server"]
        for version in ("2.1", "2.3", "2.15", "2.16")
    }
    assert set(admin["2.1"]) == DETAIL_2_1 | ADMIN_2_1
    assert set(admin["2.3"]) == DETAIL_2_1 | ADMIN_2_1 | ADMIN_2_3
    assert set(admin["2.15"]) == set(admin["2.3"]) | {"locked"}
    assert set(admin["2.16"]) == set(admin["2.15"]) | {"host_status"}
    assert admin["2.16"]["host_status"] == "UP"
    assert admin["2.3"]["OS-EXT-SRV-ATTR:host"] in ("host-a", "host-b")
    assert admin["2.3"]["OS-EXT-SRV-ATTR:reservation_id"].startswith("r-")
    assert admin["2.3"]["OS-EXT-SRV-ATTR:launch_index"] == 0
    delete(compute_cloud, server_id)


def test_another_projects_server_is_a_404_everywhere(compute_cloud, flavor):
    server_id = create(compute_cloud, flavor, name="private")
    for path in (f"/servers/{server_id}", f"/servers/{server_id}/metadata"):
        response = compute_cloud.get(path, "other")
        assert response.status_code == 404, response.text
        assert response.json == {
            "itemNotFound": {"code": 404, "message": f"Instance {server_id} could not be found."}
        }
    assert compute_cloud.delete(f"/servers/{server_id}", "other").status_code == 404
    assert (
        compute_cloud.put(f"/servers/{server_id}", {"server": {"name": "x"}}, "other").status_code
        == 404
    )
    listed = compute_cloud.get("/servers/detail", "other").json["servers"]
    assert server_id not in {s["id"] for s in listed}
    # all_tenants is an admin's (policy get_all_tenants): refused to others.
    assert compute_cloud.get("/servers?all_tenants=1", "other").status_code == 403
    everyone = compute_cloud.get("/servers/detail?all_tenants=1", "admin").json["servers"]
    assert server_id in {s["id"] for s in everyone}
    assert server_id not in {
        s["id"] for s in compute_cloud.get("/servers", "admin").json["servers"]
    }
    delete(compute_cloud, server_id)


def test_readers_read_but_do_not_create_change_or_delete(compute_cloud, flavor):
    server_id = create(compute_cloud, flavor, name="read-me")
    assert compute_cloud.get(f"/servers/{server_id}", "reader").status_code == 200
    assert compute_cloud.get("/servers/detail", "reader").status_code == 200
    for response in (
        compute_cloud.post("/servers", server_body(flavor), "reader"),
        compute_cloud.put(f"/servers/{server_id}", {"server": {"name": "x"}}, "reader"),
        compute_cloud.delete(f"/servers/{server_id}", "reader"),
        compute_cloud.post(f"/servers/{server_id}/metadata", {"metadata": {"a": "b"}}, "reader"),
    ):
        assert response.status_code == 403, response.text
        assert "forbidden" in response.json
    delete(compute_cloud, server_id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"flavorRef": None}, "server.flavorRef"),
        ({"imageRef": "not-a-uuid"}, "server.imageRef"),
        ({"networks": "everything"}, "server.networks"),
        ({"bogus": 1}, "server.bogus"),
        ({"user_data": "not base64!"}, "server.user_data"),
        ({"accessIPv4": "1.2.3"}, "server.accessIPv4"),
        ({"min_count": 0}, "server.min_count"),
        ({"metadata": {"k": 1}}, "server.metadata.k"),
        ({"name": ""}, "server.name"),
    ],
)
def test_a_bad_create_body_is_a_400_naming_the_field(compute_cloud, flavor, change, field):
    response = compute_cloud.post("/servers", server_body(flavor, **change))
    assert response.status_code == 400, response.text
    assert response.json["badRequest"]["message"].startswith(f"Invalid input for field '{field}'")


def test_create_refuses_what_does_not_exist(compute_cloud, flavor):
    missing = compute_cloud.post("/servers", server_body("no-such-flavor"))
    assert missing.status_code == 400
    assert missing.json["badRequest"]["message"] == "Flavor no-such-flavor could not be found."
    network = server_body(flavor, networks=[{"uuid": str(uuid.uuid4())}])
    assert compute_cloud.post("/servers", network).status_code == 400
    zone = compute_cloud.post("/servers", server_body(flavor, availability_zone="mars"))
    assert zone.status_code == 400 and "availability zone" in zone.json["badRequest"]["message"]
    # Before 2.37 networks may be left out; from 2.37 they are required.
    old = {"server": {"name": "old", "flavorRef": flavor, "imageRef": IMAGE}}
    assert compute_cloud.post("/servers", old, version="2.37").status_code == 400
    # personality is gone from 2.57
    files = server_body(flavor, personality=[{"path": "/etc/motd", "contents": "aGk="}])
    assert compute_cloud.post("/servers", files, version="2.57").status_code == 400
    assert "'server.personality'" in compute_cloud.post("/servers", files).text


def test_networks_none_builds_a_server_without_addresses(compute_cloud, flavor):
    server_id = create(compute_cloud, flavor, name="isolated", networks="none")
    server = compute_cloud.get(f"/servers/{server_id}").json["server"]
    assert server["status"] == "ACTIVE" and server["addresses"] == {}
    delete(compute_cloud, server_id)
    listed = create(compute_cloud, flavor, name="on-private", networks=[{"uuid": "private"}])
    assert compute_cloud.get(f"/servers/{listed}").json["server"]["addresses"]["private"]
    delete(compute_cloud, listed)


def test_an_image_mapping_beside_imageRef_is_an_image_boot(compute_cloud, flavor):
    """What OSC sends for `server create --image`."""
    bdm = [
        {
            "uuid": IMAGE,
            "boot_index": 0,
            "source_type": "image",
            "destination_type": "local",
            "delete_on_termination": True,
        }
    ]
    server_id = create(compute_cloud, flavor, name="osc-style", block_device_mapping_v2=bdm)
    server = compute_cloud.get(f"/servers/{server_id}").json["server"]
    assert server["status"] == "ACTIVE" and server["image"]["id"] == IMAGE
    delete(compute_cloud, server_id)


def test_max_count_builds_several_servers_sharing_a_reservation(compute_cloud, flavor):
    body = server_body(flavor, name="batch", max_count=3, return_reservation_id=True)
    response = compute_cloud.post("/servers", body)
    assert response.status_code == 202, response.text
    reservation = response.json["reservation_id"]
    assert reservation.startswith("r-")
    listed = compute_cloud.get(f"/servers/detail?reservation_id={reservation}").json["servers"]
    assert sorted(s["name"] for s in listed) == ["batch-1", "batch-2", "batch-3"]
    for server in listed:
        compute_cloud.wait(server["id"], lambda s: s["status"] != "BUILD")
        delete(compute_cloud, server["id"])


def test_list_filters_sort_and_pages(compute_cloud, flavor):
    ids = [create(compute_cloud, flavor, name=f"page-{n}") for n in range(4)]
    stopped = Instance.get_by_uuid(compute_cloud.cloud.context(), uuid.UUID(ids[0]))
    compute_cloud.cloud.compute.stop_instance(compute_cloud.cloud.context(), stopped)
    compute_cloud.wait(ids[0], lambda s: s["status"] == "SHUTOFF")

    def names(query: str) -> list[str]:
        response = compute_cloud.get(f"/servers/detail?{query}")
        assert response.status_code == 200, response.text
        return [s["name"] for s in response.json["servers"]]

    assert names("name=page-&sort_key=display_name&sort_dir=asc") == [
        "page-0", "page-1", "page-2", "page-3",
    ]  # fmt: skip
    assert names("name=page-[12]&sort_key=display_name&sort_dir=desc") == ["page-2", "page-1"]
    assert names("name=page-&status=SHUTOFF") == ["page-0"]
    assert names("name=page-&status=active&sort_key=display_name&sort_dir=asc") == [
        "page-1", "page-2", "page-3",
    ]  # fmt: skip
    # an unknown status: no servers before 2.38, a 400 from 2.38
    assert compute_cloud.get("/servers?status=nonsense", version="2.37").json["servers"] == []
    assert compute_cloud.get("/servers?status=nonsense", version="2.38").status_code == 400

    first = compute_cloud.get("/servers?name=page-&sort_key=display_name&sort_dir=asc&limit=2")
    page = first.json
    assert [s["name"] for s in page["servers"]] == ["page-0", "page-1"]
    (link,) = page["servers_links"]
    assert link["rel"] == "next" and f"marker={page['servers'][-1]['id']}" in link["href"]
    marker = page["servers"][-1]["id"]
    rest = names(f"name=page-&sort_key=display_name&sort_dir=asc&marker={marker}")
    assert rest == ["page-2", "page-3"]
    assert compute_cloud.get(f"/servers?marker={uuid.uuid4()}").status_code == 400
    assert compute_cloud.get("/servers?limit=-1").status_code == 400
    assert compute_cloud.get("/servers?sort_key=host").status_code == 400  # admins' key
    # host is an admin's filter
    host = compute_cloud.get(f"/servers/{ids[1]}", "admin").json["server"]
    on_host = compute_cloud.get(
        f"/servers/detail?all_tenants=1&host={host['OS-EXT-SRV-ATTR:host']}", "admin"
    ).json["servers"]
    assert ids[1] in {s["id"] for s in on_host}
    assert all(s["OS-EXT-SRV-ATTR:host"] == host["OS-EXT-SRV-ATTR:host"] for s in on_host)
    for server_id in ids:
        delete(compute_cloud, server_id)
    # changes-since lists deleted servers too, as Nova's does
    deleted = compute_cloud.get("/servers/detail?changes-since=2000-01-01T00:00:00Z").json
    assert {"DELETED"} <= {s["status"] for s in deleted["servers"] if s["id"] in ids}


def test_osc_list_query_is_accepted(compute_cloud, flavor):
    """`openstack server list` sends deleted=False, which a non-admin may send."""
    response = compute_cloud.get("/servers/detail?deleted=False")
    assert response.status_code == 200, response.text


def test_update_name_description_and_access_addresses(compute_cloud, flavor):
    server_id = create(compute_cloud, flavor, name="before")
    body = {"server": {"name": "after", "description": "renamed", "accessIPv4": "192.0.2.4"}}
    response = compute_cloud.put(f"/servers/{server_id}", body)
    assert response.status_code == 200, response.text
    server = response.json["server"]
    assert (server["name"], server["description"], server["accessIPv4"]) == (
        "after",
        "renamed",
        "192.0.2.4",
    )
    # description is 2.19's
    old = compute_cloud.put(
        f"/servers/{server_id}", {"server": {"description": "x"}}, version="2.18"
    )
    assert old.status_code == 400 and "server.description" in old.text
    delete(compute_cloud, server_id)


def test_metadata_routes(compute_cloud, flavor):
    server_id = create(compute_cloud, flavor, name="meta", metadata={"a": "1"})
    base = f"/servers/{server_id}/metadata"
    assert compute_cloud.get(base).json == {"metadata": {"a": "1"}}
    assert compute_cloud.post(base, {"metadata": {"b": "2"}}).json == {
        "metadata": {"a": "1", "b": "2"}
    }
    assert compute_cloud.put(f"{base}/c", {"meta": {"c": "3"}}).json == {"meta": {"c": "3"}}
    assert compute_cloud.get(f"{base}/c").json == {"meta": {"c": "3"}}
    mismatch = compute_cloud.put(f"{base}/c", {"meta": {"d": "4"}})
    assert mismatch.status_code == 400
    assert compute_cloud.delete(f"{base}/a").status_code == 204
    assert compute_cloud.get(f"{base}/a").status_code == 404
    assert compute_cloud.put(base, {"metadata": {"z": "9"}}).json == {"metadata": {"z": "9"}}
    assert compute_cloud.post(base, {"metadata": {"k": 5}}).status_code == 400
    delete(compute_cloud, server_id)


def test_tags_routes_from_2_26(compute_cloud, flavor):
    server_id = create(compute_cloud, flavor, name="tagged", tags=["blue"])
    base = f"/servers/{server_id}/tags"
    assert compute_cloud.get(base).json == {"tags": ["blue"]}
    assert compute_cloud.get(base, version="2.25").status_code == 404
    assert compute_cloud.put(f"{base}/red", None).status_code == 201
    assert compute_cloud.put(f"{base}/red", None).status_code == 204
    assert compute_cloud.get(f"{base}/red").status_code == 204
    assert compute_cloud.put(base, {"tags": ["x", "y"]}).json == {"tags": ["x", "y"]}
    assert compute_cloud.get("/servers?tags=x,y&name=tagged").json["servers"][0]["id"] == server_id
    assert compute_cloud.get("/servers?not-tags=x&name=tagged").json["servers"] == []
    assert compute_cloud.delete(f"{base}/x").status_code == 204
    assert compute_cloud.delete(f"{base}/x").status_code == 404
    assert compute_cloud.delete(base).status_code == 204
    assert compute_cloud.get(base).json == {"tags": []}
    # tags at create are 2.52's
    old = compute_cloud.post("/servers", server_body(flavor, tags=["a"]), version="2.51")
    assert old.status_code == 400
    delete(compute_cloud, server_id)


def test_a_server_no_host_can_take_is_error_with_a_fault_and_can_be_deleted(compute_cloud):
    body = {"flavor": {"name": "huge", "ram": 256, "vcpus": 1, "disk": 1_000_000, "id": "huge"}}
    assert compute_cloud.post("/flavors", body, "admin").status_code == 200
    response = compute_cloud.post("/servers", server_body("huge", name="too-big"))
    assert response.status_code == 202, response.text
    server_id = response.json["server"]["id"]
    server = compute_cloud.wait(server_id, lambda s: s["status"] != "BUILD")
    assert server["status"] == "ERROR"
    assert server["fault"]["code"] == 500 and "details" not in server["fault"]
    assert "fault" not in compute_cloud.get("/servers/detail?name=web").text
    delete(compute_cloud, server_id)


def test_a_locked_server_refuses_a_members_delete(compute_cloud, flavor):
    server_id = create(compute_cloud, flavor, name="locked")
    instance = Instance.get_by_uuid(compute_cloud.cloud.context(), uuid.UUID(server_id))
    instance.obj_set_context(compute_cloud.cloud.context())
    instance.locked = True
    instance.save()
    response = compute_cloud.delete(f"/servers/{server_id}")
    assert response.status_code == 409
    assert response.json["conflictingRequest"]["message"] == f"Instance {server_id} is locked"
    assert compute_cloud.get(f"/servers/{server_id}", version="2.9").json["server"]["locked"]
    delete(compute_cloud, server_id, "admin")


def test_a_malformed_server_id_is_a_404(compute_cloud):
    response = compute_cloud.get("/servers/not-a-uuid")
    assert response.status_code == 404
    assert "itemNotFound" in response.json


def test_os_networks_proxy_until_2_36(compute_cloud):
    listed = compute_cloud.get("/os-networks", version=None)
    assert listed.status_code == 200
    assert [n["label"] for n in listed.json["networks"]] == ["private"]
    assert compute_cloud.get("/os-networks/private", version=None).status_code == 200
    assert compute_cloud.get("/os-networks/nope", version=None).status_code == 404
    assert compute_cloud.get("/os-networks", version="2.36").status_code == 404


def test_diagnostics_are_an_admins_in_the_format_of_the_microversion(compute_cloud, flavor):
    server_id = create(compute_cloud, flavor, name="diag")
    path = f"/servers/{server_id}/diagnostics"
    assert compute_cloud.get(path).status_code == 403
    new = compute_cloud.get(path, "admin", "2.48")
    assert new.status_code == 200, new.text
    document = new.json
    assert document["driver"] == "fake" and document["state"] == "running"
    assert document["num_cpus"] == len(document["cpu_details"]) == 1
    assert document["memory_details"]["maximum"] == 256
    assert {"read_bytes", "write_requests", "errors_count"} <= set(document["disk_details"][0])
    old = compute_cloud.get(path, "admin", "2.47").json
    assert "cpu0_time" in old and "memory" in old and "driver" not in old
    instance = Instance.get_by_uuid(compute_cloud.cloud.context(), uuid.UUID(server_id))
    compute_cloud.cloud.compute.stop_instance(compute_cloud.cloud.context(), instance)
    compute_cloud.wait(server_id, lambda s: s["status"] == "SHUTOFF")
    assert compute_cloud.get(path, "admin").status_code == 409
    delete(compute_cloud, server_id)


def _statements_of(request) -> int:
    """The SQL statements (on every engine of this process) one request runs: those
    of this thread, where the test client calls the application (the hosts' threads
    go on recording their own work meanwhile)."""
    import threading

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements: list[str] = []
    caller = threading.get_ident()

    def record(conn, cursor, statement, *args) -> None:
        if threading.get_ident() != caller:
            return
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        response = request()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    return len(statements)


def test_a_detailed_list_costs_the_same_statements_for_2_or_6_servers(compute_cloud, flavor):
    ids = [create(compute_cloud, flavor, name=f"count-{n}") for n in range(2)]

    def listing():
        return compute_cloud.get("/servers/detail?name=count-&all_tenants=1", "admin")

    few = _statements_of(listing)
    assert len(listing().json["servers"]) == 2
    ids += [create(compute_cloud, flavor, name=f"count-{n}") for n in range(2, 6)]
    assert len(listing().json["servers"]) == 6
    # token 3, policy roles 1, servers 4 (+1: the rules of their groups, every server
    # being in its project's default group at least), hosts 1, volumes 1
    assert _statements_of(listing) == few == 11
    for server_id in ids:
        delete(compute_cloud, server_id)


def test_an_admin_forces_the_host_with_the_zone(compute_cloud, flavor):
    refused = compute_cloud.post("/servers", server_body(flavor, availability_zone="nova:host-a"))
    assert refused.status_code == 403
    for host in ("host-a", "host-b"):
        server_id = create(
            compute_cloud, flavor, "admin", name=f"on-{host}", availability_zone=f"nova:{host}"
        )
        shown = compute_cloud.get(f"/servers/{server_id}", "admin").json["server"]
        assert shown["OS-EXT-SRV-ATTR:host"] == host
        assert shown["OS-EXT-AZ:availability_zone"] == "nova"
        delete(compute_cloud, server_id, "admin")


def test_auto_live_migration_of_a_server_without_local_disks(compute_cloud):
    """A flavor with no root disk has nothing to copy: "auto" is no block migration
    (the fake source refuses a block migration of shared or absent disks)."""
    body = {"flavor": {"name": "diskless", "ram": 256, "vcpus": 1, "disk": 0, "id": "diskless"}}
    assert compute_cloud.post("/flavors", body, "admin").status_code == 200
    server_id = create(compute_cloud, "diskless", name="diskless")
    source = compute_cloud.get(f"/servers/{server_id}", "admin").json["server"]
    migrate = {"os-migrateLive": {"host": None, "block_migration": "auto"}}
    response = compute_cloud.post(f"/servers/{server_id}/action", migrate, "admin", "2.30")
    assert response.status_code == 202, response.text
    moved = compute_cloud.wait(
        server_id,
        lambda s: (
            s["OS-EXT-SRV-ATTR:host"] != source["OS-EXT-SRV-ATTR:host"]
            and s["OS-EXT-STS:task_state"] is None
        ),
        "admin",
    )
    assert moved["status"] == "ACTIVE"
    delete(compute_cloud, server_id)
