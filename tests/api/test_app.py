"""Tests of the application every worker runs (cumulo/api/app.py, errors.py,
middleware.py, media.py, registry.py): request ids, error bodies, limits, the
registry of mounted services, in-process through Falcon's WSGI test client."""

from __future__ import annotations

import json
import logging
import re

import falcon
import falcon.testing
import pytest

from cumulo.api.app import create_app
from cumulo.api.config import ApiConfig
from cumulo.api.errors import HttpError, internal_error_message
from cumulo.api.identity import SERVICE as IDENTITY
from cumulo.api.mounted import SERVICES
from cumulo.api.registry import MountedService, service_for

REQUEST_ID = re.compile(r"^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_every_response_carries_a_request_id(cloud):
    responses = [
        cloud.client.simulate_get("/identity"),
        cloud.client.simulate_get("/identity/v3"),
        cloud.client.simulate_get("/identity/v3/projects"),  # 401
        cloud.client.simulate_get("/nowhere"),  # 404
        cloud.client.simulate_delete("/identity/v3/auth/tokens"),  # 405
        cloud.login(password="wrong"),  # 401
    ]
    ids = [r.headers.get("x-openstack-request-id", "") for r in responses]
    assert all(REQUEST_ID.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_version_discovery(cloud):
    listing = cloud.client.simulate_get("/identity")
    assert listing.status_code == 300
    (entry,) = listing.json["versions"]["values"]
    assert entry["id"] == "v3.14" and entry["status"] == "stable"
    assert entry["links"] == [{"rel": "self", "href": "http://falconframework.org/identity/v3/"}]
    single = cloud.client.simulate_get("/identity/v3/")  # the trailing slash of the link
    assert single.status_code == 200 and single.json == {"version": entry}


def test_errors_have_keystones_shape(cloud):
    unknown = cloud.client.simulate_get("/identity/v3/nothing")
    assert unknown.status_code == 404
    assert unknown.json == {
        "error": {"code": 404, "title": "Not Found", "message": "The resource could not be found."}
    }
    not_allowed = cloud.client.simulate_patch("/identity/v3/projects")
    assert not_allowed.status_code == 405 and not_allowed.json["error"]["title"] == (
        "Method Not Allowed"
    )
    assert "GET" in not_allowed.headers["allow"] and "POST" in not_allowed.headers["allow"]


def test_a_401_says_where_to_authenticate(cloud):
    response = cloud.client.simulate_get("/identity/v3/projects")
    assert response.status_code == 401
    assert response.json["error"] == {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }
    assert response.headers["www-authenticate"] == (
        'Keystone uri="http://falconframework.org/identity"'
    )


def test_a_body_over_the_limit_is_refused_before_it_is_read(cloud):
    limit = cloud.config.max_body_bytes
    response = cloud.client.simulate_post(
        "/identity/v3/auth/tokens",
        body=b"{" + b" " * limit + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json["error"]["title"] == "Request Entity Too Large"
    assert response.json["error"]["message"] == (
        f"Request body too large: at most {limit} bytes are accepted."
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b'{"auth":', "application/json", 400, "Malformed request body: Input data was truncated"),
        (b"", "application/json", 400, "A JSON request body is required."),
        (b"auth", "text/plain", 415, "Expected application/json, got text/plain."),
        (b'{"auth": {}}', None, 400, "Invalid input for field 'auth.identity': is required"),
    ],
)
def test_bodies_that_are_not_json_or_not_ours(cloud, body, content_type, status, message):
    headers = {"Content-Type": content_type} if content_type else {}
    response = cloud.client.simulate_post("/identity/v3/auth/tokens", body=body, headers=headers)
    assert (response.status_code, response.json["error"]["message"]) == (status, message)


def _exploding_service() -> MountedService:
    class Boom:
        def on_get(self, req, resp):
            raise RuntimeError("SELECT secret FROM users -- an internal detail")

    def add_routes(app, state):
        app.add_route("/boom", Boom())

    def body(error: HttpError):
        return {"boomFault": {"code": error.status, "message": error.message}}

    return MountedService(
        type="boom",
        name="boom",
        prefix="/boom",
        catalog_path="/v1/{project_id}",
        add_routes=add_routes,
        error_body=body,
    )


@pytest.fixture(scope="module")
def two_services(cloud_config) -> falcon.testing.TestClient:
    app = create_app(cloud_config, services=(*SERVICES, _exploding_service()))
    return falcon.testing.TestClient(app)


def test_an_unexpected_failure_is_a_500_naming_the_request_id(two_services, caplog):
    with caplog.at_level(logging.ERROR, logger="cumulo.api.errors"):
        response = two_services.simulate_get("/boom")
    request_id = response.headers["x-openstack-request-id"]
    assert response.status_code == 500
    # The service's own error shape, nothing of the exception in it.
    assert response.json == {
        "boomFault": {"code": 500, "message": internal_error_message(request_id)}
    }
    assert "SELECT" not in response.text and "Traceback" not in response.text
    (record,) = caplog.records
    assert record.request_id == request_id and record.exc_info is not None
    assert "SELECT secret" in str(record.exc_info[1])


def test_a_mounted_service_joins_the_catalog(two_services):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "admin",
                        "domain": {"name": "Default"},
                        "password": "admin-secret",
                    }
                },
            },
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}},
        }
    }
    token = two_services.simulate_post("/identity/v3/auth/tokens", json=body).json["token"]
    project = token["project"]["id"]
    assert [entry["type"] for entry in token["catalog"]] == [
        "identity",
        "compute",
        "image",
        "network",
        "boom",
    ]
    boom = token["catalog"][4]
    assert {e["url"] for e in boom["endpoints"]} == {
        f"http://falconframework.org/boom/v1/{project}"
    }
    assert {e["interface"] for e in boom["endpoints"]} == {"public", "internal", "admin"}
    assert all(e["region"] == e["region_id"] == "RegionOne" for e in boom["endpoints"])


def test_the_catalog_uses_the_public_url_when_configured(cloud_config):
    config = ApiConfig(
        database_url=cloud_config.database_url,
        key_repository=cloud_config.key_repository,
        public_url="https://cloud.example.org/",
        region="north",
    )
    entry = IDENTITY.catalog_entry("https://cloud.example.org", "north", "p")
    app = falcon.testing.TestClient(create_app(config))
    assert app.simulate_get("/identity").json["versions"]["values"][0]["links"][0]["href"] == (
        "https://cloud.example.org/identity/v3/"
    )
    assert entry["endpoints"][0] == {
        "id": entry["endpoints"][0]["id"],
        "interface": "public",
        "region": "north",
        "region_id": "north",
        "url": "https://cloud.example.org/identity",
    }


def test_service_for_matches_whole_prefixes():
    assert service_for("/identity/v3/projects", SERVICES) is IDENTITY
    assert service_for("/identity", SERVICES) is IDENTITY
    assert service_for("/identityx", SERVICES) is None


def test_the_token_body(cloud):
    response = cloud.login()
    assert response.status_code == 201
    token = response.json["token"]
    assert set(token) == {
        "methods",
        "user",
        "audit_ids",
        "expires_at",
        "issued_at",
        "project",
        "is_domain",
        "roles",
        "catalog",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", token["expires_at"])
    assert token["user"]["domain"] == {"id": "default", "name": "Default"}
    assert [r["name"] for r in token["roles"]] == ["admin", "member", "reader"]
    assert response.headers["X-Subject-Token"].startswith("gAAAAA")
    nocatalog = cloud.client.simulate_get(
        "/identity/v3/auth/tokens",
        params={"nocatalog": ""},
        headers={"X-Auth-Token": cloud.admin_token(), "X-Subject-Token": cloud.admin_token()},
    )
    assert nocatalog.status_code == 200 and "catalog" not in nocatalog.json["token"]


def test_responses_are_json_encoded_by_msgspec(cloud):
    response = cloud.client.simulate_get("/identity/v3")
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.content) == response.json
    assert b": " not in response.content  # msgspec's compact encoding
