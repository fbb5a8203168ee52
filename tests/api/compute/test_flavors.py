"""The compute service in one worker's application (cumulo/api/compute/): version
documents, microversion headers, token checks, Nova's error bodies, flavors and
their extra specs at each microversion."""

from __future__ import annotations

import pytest

V21 = "/compute/v2.1"


@pytest.fixture(scope="module")
def admin(cloud):
    return cloud.admin_token()


def get(cloud, path, token=None, version=None, **kw):
    headers = {}
    if token:
        headers["X-Auth-Token"] = token
    if version:
        headers["OpenStack-API-Version"] = f"compute {version}"
    return cloud.client.simulate_get(V21 + path, headers=headers, **kw)


def send(cloud, method, path, token, body=None, version=None):
    headers = {"X-Auth-Token": token}
    if version:
        headers["OpenStack-API-Version"] = f"compute {version}"
    return cloud.client.simulate_request(method, V21 + path, headers=headers, json=body)


def create(cloud, token, name, version="2.61", **extra):
    body = {"flavor": {"name": name, "ram": 1024, "vcpus": 2, "disk": 10, **extra}}
    return send(cloud, "POST", "/flavors", token, body, version)


def test_version_documents_need_no_token(cloud):
    listing = cloud.client.simulate_get("/compute/").json["versions"]
    assert [(v["id"], v["status"]) for v in listing] == [
        ("v2.0", "DEPRECATED"),
        ("v2.1", "CURRENT"),
    ]
    assert listing[1]["version"] == "2.61" and listing[1]["min_version"] == "2.1"
    one = cloud.client.simulate_get("/compute/v2.1").json["version"]
    assert one["id"] == "v2.1" and one["version"] == "2.61" and one["min_version"] == "2.1"
    assert one["links"][0]["href"].endswith("/compute/v2.1/")


def test_the_catalog_names_compute(cloud):
    body = cloud.login().json["token"]
    (compute,) = [e for e in body["catalog"] if e["type"] == "compute"]
    assert {e["url"] for e in compute["endpoints"]} == {"http://falconframework.org/compute/v2.1"}


def test_headers_are_echoed_on_every_response(cloud, admin):
    for response, version in [
        (get(cloud, "/flavors", admin), "2.1"),
        (get(cloud, "/flavors", admin, "latest"), "2.61"),
        (get(cloud, "/flavors/nope", admin, "2.55"), "2.55"),  # 404
        (get(cloud, "/flavors"), "2.1"),  # 401
    ]:
        assert response.headers["OpenStack-API-Version"] == f"compute {version}"
        assert response.headers["X-OpenStack-Nova-API-Version"] == version
        assert "OpenStack-API-Version" in response.headers["Vary"]
        assert response.headers["x-openstack-request-id"].startswith("req-")


def test_a_bad_microversion_is_a_406(cloud, admin):
    for version in ("2.62", "2.0", "x"):
        response = get(cloud, "/flavors", admin, version)
        assert response.status_code == 406, response.text
        assert response.json["notAcceptable"]["code"] == 406
        assert response.headers["X-OpenStack-Nova-API-Version"] == "2.1"
        assert response.headers["x-openstack-request-id"].startswith("req-")
    legacy = cloud.client.simulate_get(
        V21 + "/flavors", headers={"X-Auth-Token": admin, "X-OpenStack-Nova-API-Version": "9.9"}
    )
    assert legacy.status_code == 406


def test_missing_or_garbage_tokens_are_nova_401s(cloud):
    for token in (None, "garbage"):
        response = get(cloud, "/flavors", token)
        assert response.status_code == 401
        assert set(response.json) == {"unauthorized"}
        assert response.json["unauthorized"]["code"] == 401


def test_create_show_list_delete_at_each_microversion(cloud, admin):
    made = create(cloud, admin, "t.small", id="t.small", description="tiny")
    assert made.status_code == 200, made.text
    flavor = made.json["flavor"]
    assert flavor["extra_specs"] == {} and flavor["description"] == "tiny"
    assert flavor["swap"] == "" and flavor["OS-FLV-EXT-DATA:ephemeral"] == 0
    assert flavor["os-flavor-access:is_public"] is True
    assert flavor["OS-FLV-DISABLED:disabled"] is False and flavor["rxtx_factor"] == 1.0
    assert [link["rel"] for link in flavor["links"]] == ["self", "bookmark"]

    old = get(cloud, "/flavors/t.small", admin).json["flavor"]
    assert "description" not in old and "extra_specs" not in old
    at_255 = get(cloud, "/flavors/t.small", admin, "2.55").json["flavor"]
    assert at_255["description"] == "tiny" and "extra_specs" not in at_255

    assert get(cloud, "/flavors", admin).json["flavors"][0].keys() == {"id", "links", "name"}
    names = [f["name"] for f in get(cloud, "/flavors/detail", admin).json["flavors"]]
    assert "t.small" in names

    assert send(cloud, "DELETE", "/flavors/t.small", admin).status_code == 202
    gone = get(cloud, "/flavors/t.small", admin)
    assert gone.status_code == 404
    assert gone.json == {
        "itemNotFound": {"code": 404, "message": "Flavor t.small could not be found."}
    }


def test_a_duplicate_name_is_a_conflict(cloud, admin):
    assert create(cloud, admin, "t.dup").status_code == 200
    again = create(cloud, admin, "t.dup")
    assert again.status_code == 409
    assert again.json["conflictingRequest"]["message"] == "Flavor with name t.dup already exists."


@pytest.mark.parametrize(
    ("flavor", "version", "field"),
    [
        ({"name": "b", "ram": "lots", "vcpus": 1, "disk": 1}, None, "flavor.ram"),
        ({"name": "b", "ram": 0, "vcpus": 1, "disk": 1}, None, "flavor.ram"),
        ({"name": "b", "ram": 1, "disk": 1}, None, "flavor.vcpus"),
        (
            {"name": "b", "ram": 1, "vcpus": 1, "disk": 1, "description": "d"},
            "2.54",
            "flavor.description",
        ),
        ({"name": "b", "ram": 1, "vcpus": 1, "disk": 1, "colour": "red"}, None, "flavor.colour"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(cloud, admin, flavor, version, field):
    response = send(cloud, "POST", "/flavors", admin, {"flavor": flavor}, version)
    assert response.status_code == 400, response.text
    assert f"'{field}'" in response.json["badRequest"]["message"]


def test_filters_and_pages(cloud, admin):
    create(cloud, admin, "p.a", id="p.a")
    create(cloud, admin, "p.b", id="p.b", ram=4096)
    create(cloud, admin, "p.private", id="p.private", **{"os-flavor-access:is_public": False})

    def ids(query):
        response = get(cloud, "/flavors/detail", admin, query_string=query)
        assert response.status_code == 200, response.text
        return [f["id"] for f in response.json["flavors"] if f["id"].startswith("p.")]

    assert ids("") == ["p.a", "p.b"]  # absent: public only
    assert ids("is_public=True") == ["p.a", "p.b"]
    assert ids("is_public=False") == ["p.private"]
    assert ids("is_public=None") == ["p.a", "p.b", "p.private"]
    assert ids("minRam=2048") == ["p.b"]
    assert ids("marker=p.a") == ["p.b"]
    page = get(cloud, "/flavors", admin, query_string="is_public=None&limit=1").json
    assert len(page["flavors"]) == 1 and page["flavors_links"][0]["rel"] == "next"
    assert get(cloud, "/flavors", admin, query_string="marker=nope").status_code == 400
    assert get(cloud, "/flavors", admin, query_string="minRam=x").status_code == 400


def test_extra_specs(cloud, admin):
    create(cloud, admin, "e.x", id="e.x")
    path = "/flavors/e.x/os-extra_specs"
    added = send(
        cloud, "POST", path, admin, {"extra_specs": {"hw:cpu_policy": "dedicated", "n": 2}}
    )
    assert added.status_code == 200, added.text
    assert get(cloud, path, admin).json == {"extra_specs": {"hw:cpu_policy": "dedicated", "n": "2"}}
    assert get(cloud, path + "/n", admin).json == {"n": "2"}
    assert send(cloud, "PUT", path + "/n", admin, {"n": "3"}).json == {"n": "3"}
    assert send(cloud, "PUT", path + "/n", admin, {"m": "3"}).status_code == 400
    shown = get(cloud, "/flavors/e.x", admin, "2.61").json["flavor"]
    assert shown["extra_specs"] == {"hw:cpu_policy": "dedicated", "n": "3"}
    assert send(cloud, "DELETE", path + "/n", admin).status_code == 202
    missing = get(cloud, path + "/n", admin)
    assert missing.status_code == 404
    assert missing.json["itemNotFound"]["message"] == "Flavor e.x has no extra specs with key n."
    assert send(cloud, "DELETE", path + "/n", admin).status_code == 404


def test_description_is_changed_from_2_55(cloud, admin):
    create(cloud, admin, "d.x", id="d.x")
    body = {"flavor": {"description": "now described"}}
    assert send(cloud, "PUT", "/flavors/d.x", admin, body, "2.54").status_code == 405
    changed = send(cloud, "PUT", "/flavors/d.x", admin, body, "2.55")
    assert changed.status_code == 200, changed.text
    assert changed.json["flavor"]["description"] == "now described"
