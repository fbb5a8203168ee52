"""``GET /limits`` (cumulo/api/compute/limits.py): absolute limits and usage of the
caller's project, the keys of each microversion, another project's for admins."""

from __future__ import annotations

MAXIMUMS_2_1 = {
    "maxImageMeta",
    "maxPersonality",
    "maxPersonalitySize",
    "maxSecurityGroupRules",
    "maxSecurityGroups",
    "maxServerMeta",
    "maxTotalCores",
    "maxTotalFloatingIps",
    "maxTotalInstances",
    "maxTotalKeypairs",
    "maxTotalRAMSize",
    "maxServerGroups",
    "maxServerGroupMembers",
}
USED_2_1 = {
    "totalCoresUsed",
    "totalInstancesUsed",
    "totalRAMUsed",
    "totalSecurityGroupsUsed",
    "totalFloatingIpsUsed",
    "totalServerGroupsUsed",
}
GONE_2_36 = {
    "maxSecurityGroupRules",
    "maxSecurityGroups",
    "maxTotalFloatingIps",
    "totalSecurityGroupsUsed",
    "totalFloatingIpsUsed",
}


def absolute(cloud, who="member", version="latest", query=""):
    response = cloud.get(f"/limits{query}", who, version)
    assert response.status_code == 200, response.text
    assert response.json["limits"]["rate"] == []
    return response.json["limits"]["absolute"]


def test_keys_at_each_microversion(compute_cloud):
    assert set(absolute(compute_cloud, version="2.1")) == MAXIMUMS_2_1 | USED_2_1
    at_2_36 = set(absolute(compute_cloud, version="2.36"))
    assert at_2_36 == (MAXIMUMS_2_1 | USED_2_1) - GONE_2_36
    at_2_39 = set(absolute(compute_cloud, version="2.39"))
    assert at_2_39 == at_2_36 - {"maxImageMeta"}
    latest = set(absolute(compute_cloud))
    assert latest == at_2_39 - {"maxPersonality", "maxPersonalitySize"}


def test_values_and_usage(compute_cloud):
    before = absolute(compute_cloud, who="reader")
    assert before["maxTotalInstances"] == 10 and before["maxTotalCores"] == 20
    assert before["maxTotalRAMSize"] == 51200 and before["maxTotalKeypairs"] == 100
    compute_cloud.boot("member", "limited")
    after = absolute(compute_cloud, who="reader")
    assert after["totalInstancesUsed"] == before["totalInstancesUsed"] + 1
    assert after["totalCoresUsed"] == before["totalCoresUsed"] + 1
    assert after["totalRAMUsed"] == before["totalRAMUsed"] + 256


def test_another_projects_limits_are_for_admins(compute_cloud):
    alpha = compute_cloud.projects["alpha"]
    as_admin = absolute(compute_cloud, who="admin", query=f"?tenant_id={alpha}")
    assert as_admin == absolute(compute_cloud, who="member")
    refused = compute_cloud.get(f"/limits?tenant_id={alpha}", who="other")
    assert refused.status_code == 403
    assert "limits:other_project" in refused.json["forbidden"]["message"]


def test_a_token_is_needed(compute_cloud):
    response = compute_cloud.client.simulate_get("/compute/v2.1/limits")
    assert response.status_code == 401 and "unauthorized" in response.json
