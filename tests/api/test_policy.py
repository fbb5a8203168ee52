"""Tests of cumulo/api/policy.py and the identity rules: defaults, self-service,
and an operator's policy.yaml overriding a default."""

from __future__ import annotations

import re
from pathlib import Path

import falcon.testing
import pytest

import cumulo.api.identity as identity_routes
from cumulo.api.app import create_app
from cumulo.api.config import ApiConfig
from cumulo.api.identity.policies import RULES


def test_every_rule_a_route_asks_for_has_a_default():
    asked = set()
    for module in Path(identity_routes.__file__).parent.glob("*.py"):
        asked |= set(re.findall(r'"(identity:[a-z_]+)"', module.read_text()))
    declared = {rule.name for rule in RULES}
    assert asked and asked <= declared, asked - declared


@pytest.fixture(scope="module")
def member(cloud):
    """A user ``carol`` with the member role on project ``team``."""
    admin = {"X-Auth-Token": cloud.admin_token()}
    post = cloud.client.simulate_post
    project = post("/identity/v3/projects", json={"project": {"name": "team"}}, headers=admin)
    user = post(
        "/identity/v3/users",
        json={"user": {"name": "carol", "password": "carol-pw"}},
        headers=admin,
    )
    roles = cloud.client.simulate_get(
        "/identity/v3/roles", params={"name": "member"}, headers=admin
    )
    project_id, user_id = project.json["project"]["id"], user.json["user"]["id"]
    role_id = roles.json["roles"][0]["id"]
    granted = cloud.client.simulate_put(
        f"/identity/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", headers=admin
    )
    assert granted.status_code == 204
    token = cloud.login("carol", "carol-pw", "team").headers["X-Subject-Token"]
    return {"token": token, "user_id": user_id, "project_id": project_id}


def test_a_member_reads_itself_and_its_project_only(cloud, member):
    headers = {"X-Auth-Token": member["token"]}
    get = cloud.client.simulate_get
    assert get(f"/identity/v3/users/{member['user_id']}", headers=headers).status_code == 200
    assert get(f"/identity/v3/projects/{member['project_id']}", headers=headers).status_code == 200
    assert (
        get(f"/identity/v3/users/{member['user_id']}/projects", headers=headers).json["projects"][
            0
        ]["name"]
        == "team"
    )
    own = get(
        "/identity/v3/role_assignments", params={"user.id": member["user_id"]}, headers=headers
    )
    assert own.status_code == 200 and len(own.json["role_assignments"]) == 1
    refused = get("/identity/v3/projects", headers=headers)
    assert refused.status_code == 403
    assert refused.json["error"] == {
        "code": 403,
        "title": "Forbidden",
        "message": "You are not authorized to perform the requested action: "
        "identity:list_projects.",
    }
    for path in ("/identity/v3/users", "/identity/v3/roles", "/identity/v3/role_assignments"):
        assert get(path, headers=headers).status_code == 403, path
    # Another user's record: 403 whether or not it exists (nothing to learn).
    assert get("/identity/v3/users/someone-else", headers=headers).status_code == 403


def test_a_policy_file_overrides_a_default(cloud_config, member, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text('"identity:list_projects": "role:reader"\n')
    config = ApiConfig(
        database_url=cloud_config.database_url,
        key_repository=cloud_config.key_repository,
        policy_file=policy,
    )
    client = falcon.testing.TestClient(create_app(config))
    listed = client.simulate_get("/identity/v3/projects", headers={"X-Auth-Token": member["token"]})
    assert listed.status_code == 200
    assert (
        client.simulate_get(
            "/identity/v3/users", headers={"X-Auth-Token": member["token"]}
        ).status_code
        == 403
    )
