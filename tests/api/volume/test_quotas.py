"""cumulo/api/volume/quotas.py: a project's volume quotas, usage, the admin's update
and reset, and the create and extend checks (Cinder's 413 overLimit)."""

from __future__ import annotations

from .conftest import RAISED, error_of


def quota_path(api, who):
    return f"/os-quota-sets/{api.project(who)}"


def test_defaults_and_usage(api):
    admin = api.project("admin")  # a project with no limits of its own
    shown = api.get(f"/os-quota-sets/{admin}", who="admin")
    assert shown.status_code == 200, shown.text
    assert shown.json["quota_set"] == {"id": admin, "volumes": 10, "gigabytes": 1000}
    own = api.get(quota_path(api, "reader"), who="reader").json["quota_set"]
    assert (own["volumes"], own["gigabytes"]) == (RAISED["volumes"], RAISED["gigabytes"])
    before = api.get(quota_path(api, "member"), params={"usage": "True"}).json["quota_set"]
    api.create(name="counted", size=2)
    after = api.get(quota_path(api, "member"), params={"usage": "True"}).json["quota_set"]
    assert after["volumes"]["in_use"] == before["volumes"]["in_use"] + 1
    assert after["gigabytes"]["in_use"] == before["gigabytes"]["in_use"] + 2
    assert after["volumes"] == {**after["volumes"], "limit": 1000, "reserved": 0, "allocated": 0}
    defaults = api.get(f"{quota_path(api, 'member')}/defaults").json["quota_set"]
    assert (defaults["volumes"], defaults["gigabytes"]) == (10, 1000)
    bad = api.get(quota_path(api, "member"), params={"usage": "maybe"})
    assert bad.status_code == 400


def test_only_admins_set_quotas_and_only_theirs_are_shown(api):
    path = quota_path(api, "other")
    assert api.put(path, {"quota_set": {"volumes": 5}}, who="other").status_code == 403
    # A member reads their own project's quotas, not another's.
    assert api.get(path, who="member", project=api.project("member")).status_code == 403
    assert api.get(path, who="admin", project=api.project("admin")).status_code == 200


def test_create_and_extend_are_held_to_the_quotas(api):
    project = api.project("other")
    path = f"/os-quota-sets/{project}"
    used = api.get(path, who="other", params={"usage": "True"}).json["quota_set"]
    gigabytes_used = used["gigabytes"]["in_use"]
    volumes_used = used["volumes"]["in_use"]
    limits = {"volumes": volumes_used + 2, "gigabytes": gigabytes_used + 3}
    response = api.put(path, {"quota_set": limits}, who="admin", project=api.project("admin"))
    assert response.status_code == 200, response.text
    assert response.json["quota_set"] == limits
    try:
        too_big = api.post("/volumes", {"volume": {"size": 4}}, who="other")
        assert too_big.status_code == 413
        name, message = error_of(too_big)
        assert name == "overLimit"
        assert message == (
            "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
            f"gigabytes quota. Requested 4G, quota is {limits['gigabytes']}G and "
            f"{gigabytes_used}G has been consumed."
        )
        first = api.create(who="other", name="q1", size=2)
        grow = api.post(
            f"/volumes/{first['id']}/action", {"os-extend": {"new_size": 4}}, who="other"
        )
        assert grow.status_code == 413 and error_of(grow)[0] == "overLimit"
        api.create(who="other", name="q2", size=1)
        third = api.post("/volumes", {"volume": {"size": 1}}, who="other")
        assert third.status_code == 413
        assert "VolumeSizeExceedsAvailableQuota" in error_of(third)[1]
        # A limit below what is in use is refused.
        below = api.put(
            path, {"quota_set": {"volumes": 1}}, who="admin", project=api.project("admin")
        )
        assert below.status_code == 400
        assert "must be greater than or equal to already used" in error_of(below)[1]
        unlimited = {"gigabytes": -1}
        api.put(path, {"quota_set": unlimited}, who="admin", project=api.project("admin"))
        fourth = api.post("/volumes", {"volume": {"size": 1}}, who="other")
        assert fourth.status_code == 413
        assert error_of(fourth)[1] == (
            f"VolumeLimitExceeded: Maximum number of volumes allowed ({limits['volumes']}) "
            "exceeded for quota 'volumes'."
        )
    finally:
        reset = api.delete(path, who="admin", project=api.project("admin"))
        assert reset.status_code == 200
        assert api.get(path, who="other").json["quota_set"]["volumes"] == 10
        raised = api.put(path, {"quota_set": RAISED}, who="admin", project=api.project("admin"))
        assert raised.status_code == 200


def test_bad_quota_updates(api):
    path = quota_path(api, "other")
    admin = {"who": "admin", "project": api.project("admin")}
    for body, field in (
        ({"quota_set": {"snapshots": 3}}, "quota_set.snapshots"),
        ({"quota_set": {"volumes": -2}}, "quota_set.volumes"),
        ({"quota_set": {"volumes": "lots"}}, "quota_set.volumes"),
        ({"quota_set": {}}, "quota_set"),
    ):
        refused = api.put(path, body, **admin)
        assert refused.status_code == 400, body
        assert error_of(refused)[1].startswith(f"Invalid input for field '{field}'")
    missing = api.put("/os-quota-sets/no-such-project", {"quota_set": {"volumes": 3}}, **admin)
    assert missing.status_code == 400 and "not a valid project" in error_of(missing)[1]


def test_compute_quota_reset_keeps_volume_limits(api):
    project = api.project("other")
    assert api.cloud.delete(f"/os-quota-sets/{project}", who="admin").status_code == 202
    shown = api.get(f"/os-quota-sets/{project}", who="other").json["quota_set"]
    assert shown["volumes"] == RAISED["volumes"]
