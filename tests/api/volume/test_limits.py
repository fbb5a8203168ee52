"""cumulo/api/volume/limits.py and availability_zones.py: what ``openstack limits
show`` and ``availability zone list`` ask of every service."""

from __future__ import annotations

import dataclasses

import falcon.testing

from cumulo.api.app import create_app

from .conftest import RAISED


def test_limits_show_the_quotas_and_the_usage(api):
    api.create(who="other", name="limited", size=3)
    response = api.get("/limits", who="other")
    assert response.status_code == 200, response.text
    limits = response.json["limits"]
    assert limits["rate"] == []
    absolute = limits["absolute"]
    assert absolute["maxTotalVolumes"] == RAISED["volumes"]
    assert absolute["maxTotalVolumeGigabytes"] == RAISED["gigabytes"]
    assert absolute["totalVolumesUsed"] >= 1 and absolute["totalGigabytesUsed"] >= 3
    assert api.get("/limits", who="member", project=api.project("other")).status_code == 403


def test_the_one_zone(api):
    response = api.get("/os-availability-zone", who="reader")
    assert response.json == {
        "availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": True}}]
    }


def test_quotas_and_limits_answer_without_a_volume_store(api):
    config = dataclasses.replace(api.cloud.config, volume_dir=None)
    client = falcon.testing.TestClient(create_app(config))
    headers = api.headers("member", None)
    project = api.project("member")
    quotas = client.simulate_get(
        f"/volume/v3/{project}/os-quota-sets/{project}", headers=headers, params={"usage": "True"}
    )
    assert quotas.status_code == 200, quotas.text
    assert quotas.json["quota_set"]["volumes"]["in_use"] == 0
    limits = client.simulate_get(f"/volume/v3/{project}/limits", headers=headers)
    assert limits.json["limits"]["absolute"]["totalVolumesUsed"] == 0
