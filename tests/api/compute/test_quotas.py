"""``/os-quota-sets`` (cumulo/api/compute/quotas.py): a project's limits, the
defaults, the detail with counted usage, setting (admins; checked against usage
unless forced) and resetting; the keys of each microversion; and the check a
server create makes."""

from __future__ import annotations

import pytest

from cumulo.api.app import build_state
from cumulo.api.compute.quotas import DEFAULTS, check_server_quota
from cumulo.api.errors import OverLimit
from cumulo.api.mounted import SERVICES
from cumulo.model import Flavor
from cumulo.rpc import RequestContext

NETWORK_KEYS = {"floating_ips", "fixed_ips", "security_groups", "security_group_rules"}
FILE_KEYS = {"injected_files", "injected_file_content_bytes", "injected_file_path_bytes"}
LATEST_KEYS = set(DEFAULTS) - NETWORK_KEYS - FILE_KEYS


@pytest.fixture(scope="module")
def beta(compute_cloud):
    return compute_cloud.projects["beta"]


@pytest.fixture(scope="module")
def alpha(compute_cloud):
    return compute_cloud.projects["alpha"]


@pytest.fixture
def reset(compute_cloud, alpha, beta):
    yield
    for project in (alpha, beta):
        compute_cloud.delete(f"/os-quota-sets/{project}", who="admin")


def test_defaults_at_each_microversion(compute_cloud, alpha):
    at_2_1 = compute_cloud.get(f"/os-quota-sets/{alpha}", version="2.1").json["quota_set"]
    assert at_2_1 == {"id": alpha, **DEFAULTS}
    assert at_2_1["instances"] == 10 and at_2_1["cores"] == 20 and at_2_1["ram"] == 51200
    assert at_2_1["key_pairs"] == 100 and at_2_1["metadata_items"] == 128
    at_2_36 = compute_cloud.get(f"/os-quota-sets/{alpha}", version="2.36").json["quota_set"]
    assert set(at_2_36) == {"id"} | LATEST_KEYS | FILE_KEYS
    latest = compute_cloud.get(f"/os-quota-sets/{alpha}").json["quota_set"]
    assert set(latest) == {"id"} | LATEST_KEYS
    defaults = compute_cloud.get(f"/os-quota-sets/{alpha}/defaults", who="other")
    assert defaults.status_code == 200
    assert defaults.json["quota_set"] == {"id": alpha, **{k: DEFAULTS[k] for k in LATEST_KEYS}}


def test_readers_of_the_project_or_admins_only(compute_cloud, alpha):
    assert compute_cloud.get(f"/os-quota-sets/{alpha}", who="reader").status_code == 200
    assert compute_cloud.get(f"/os-quota-sets/{alpha}", who="admin").status_code == 200
    for path in (f"/os-quota-sets/{alpha}", f"/os-quota-sets/{alpha}/detail"):
        refused = compute_cloud.get(path, who="other")
        assert refused.status_code == 403
        assert "os-quota-sets" in refused.json["forbidden"]["message"]


def test_only_admins_set_and_reset(compute_cloud, alpha, reset):
    body = {"quota_set": {"instances": 3}}
    for who in ("member", "reader"):
        assert compute_cloud.put(f"/os-quota-sets/{alpha}", body, who).status_code == 403
        assert compute_cloud.delete(f"/os-quota-sets/{alpha}", who).status_code == 403


def test_set_then_reset(compute_cloud, alpha, reset):
    body = {"quota_set": {"instances": 50, "cores": "40", "key_pairs": -1}}
    response = compute_cloud.put(f"/os-quota-sets/{alpha}", body, who="admin")
    assert response.status_code == 200, response.text
    updated = response.json["quota_set"]
    assert "id" not in updated and set(updated) == LATEST_KEYS
    assert (updated["instances"], updated["cores"], updated["key_pairs"]) == (50, 40, -1)
    shown = compute_cloud.get(f"/os-quota-sets/{alpha}", who="reader").json["quota_set"]
    assert (shown["instances"], shown["ram"]) == (50, 51200)
    assert compute_cloud.delete(f"/os-quota-sets/{alpha}", who="admin").status_code == 202
    assert compute_cloud.get(f"/os-quota-sets/{alpha}").json["quota_set"]["instances"] == 10


@pytest.mark.parametrize(
    ("body", "version", "field"),
    [
        ({"quota_set": {"instances": "many"}}, "latest", "quota_set.instances"),
        ({"quota_set": {"instances": -2}}, "latest", "quota_set.instances"),
        ({"quota_set": {"widgets": 1}}, "latest", "quota_set.widgets"),
        ({"quota_set": {"force": "maybe"}}, "latest", "quota_set.force"),
        ({"quota_set": {"floating_ips": 1}}, "2.36", "quota_set.floating_ips"),
        ({"quota_set": {"injected_files": 1}}, "2.57", "quota_set.injected_files"),
        ({"quotas": {}}, "latest", "quota_set"),
    ],
)
def test_bad_bodies_name_the_field(compute_cloud, alpha, body, version, field, reset):
    response = compute_cloud.put(f"/os-quota-sets/{alpha}", body, "admin", version)
    assert response.status_code == 400
    assert f"'{field}'" in response.json["badRequest"]["message"]


def test_keys_gone_later_are_still_settable_earlier(compute_cloud, alpha, reset):
    body = {"quota_set": {"floating_ips": 3, "injected_files": 2}}
    response = compute_cloud.put(f"/os-quota-sets/{alpha}", body, "admin", "2.35")
    assert response.status_code == 200
    assert response.json["quota_set"]["floating_ips"] == 3


def test_an_unknown_project_is_refused(compute_cloud, reset):
    body = {"quota_set": {"instances": 1}}
    response = compute_cloud.put("/os-quota-sets/nope", body, who="admin")
    assert response.status_code == 400
    assert response.json["badRequest"]["message"] == "Project ID nope is not a valid project."


def test_detail_counts_usage_and_a_limit_below_it_needs_force(compute_cloud, beta, reset):
    compute_cloud.boot("other", "q1")
    compute_cloud.boot("other", "q2")
    detail = compute_cloud.get(f"/os-quota-sets/{beta}/detail", who="other").json["quota_set"]
    assert detail["id"] == beta and set(detail) == {"id"} | LATEST_KEYS
    assert detail["instances"] == {"in_use": 2, "limit": 10, "reserved": 0}
    assert detail["cores"]["in_use"] == 2 and detail["ram"]["in_use"] == 512
    low = {"quota_set": {"instances": 1}}
    refused = compute_cloud.put(f"/os-quota-sets/{beta}", low, who="admin")
    assert refused.status_code == 400
    assert refused.json["badRequest"]["message"] == (
        "Quota limit 1 for instances must be greater than or equal to already used and reserved 2."
    )
    forced = {"quota_set": {"instances": 1, "force": True}}
    assert compute_cloud.put(f"/os-quota-sets/{beta}", forced, who="admin").status_code == 200


def test_server_create_check(compute_cloud, beta, reset):
    state = build_state(compute_cloud.config, SERVICES)
    context = RequestContext(user_id="u", project_id=beta, roles=["member"])
    used = compute_cloud.get(f"/os-quota-sets/{beta}/detail", who="admin").json["quota_set"]
    cores_used = used["cores"]["in_use"]
    compute_cloud.put(f"/os-quota-sets/{beta}", {"quota_set": {"cores": cores_used + 2}}, "admin")
    flavor = Flavor(flavorid="q", name="q", memory_mb=256, vcpus=2, root_gb=1)
    check_server_quota(state, context, beta, 1, flavor)  # fits exactly
    with pytest.raises(OverLimit) as raised:
        check_server_quota(state, context, beta, 2, flavor)
    assert str(raised.value) == (
        f"Quota exceeded for cores: Requested 4, but already used {cores_used} of "
        f"{cores_used + 2} cores"
    )
    assert raised.value.status == 403
    compute_cloud.put(f"/os-quota-sets/{beta}", {"quota_set": {"cores": -1}}, "admin")
    check_server_quota(state, context, beta, 3, flavor)  # unlimited


def test_a_multiple_create_builds_as_many_as_fit(compute_cloud, alpha, reset):
    from cumulo.api.compute.quotas import allowed_server_count

    state = build_state(compute_cloud.config, SERVICES)
    context = RequestContext(user_id="u", project_id=alpha, roles=["member"])
    used = compute_cloud.get(f"/os-quota-sets/{alpha}/detail", who="admin").json["quota_set"]
    instances = used["instances"]["in_use"]
    compute_cloud.put(
        f"/os-quota-sets/{alpha}", {"quota_set": {"instances": instances + 3}}, "admin"
    )
    flavor = Flavor(flavorid="q", name="q", memory_mb=1, vcpus=0, root_gb=1)
    assert allowed_server_count(state, context, alpha, 1, 5, flavor) == 3
    assert allowed_server_count(state, context, alpha, 2, 2, flavor) == 2
    with pytest.raises(OverLimit, match="Quota exceeded for instances: Requested 4"):
        allowed_server_count(state, context, alpha, 4, 5, flavor)
