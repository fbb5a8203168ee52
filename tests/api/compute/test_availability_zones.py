"""``/os-availability-zone`` (cumulo/api/compute/availability_zones.py): the zone of
the compute hosts for everyone, the zones with their hosts and services for admins."""

from __future__ import annotations


def test_everyone_sees_the_default_zone(compute_cloud):
    for who in ("reader", "other"):
        response = compute_cloud.get("/os-availability-zone", who)
        assert response.status_code == 200
        assert response.json == {
            "availabilityZoneInfo": [
                {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}
            ]
        }


def test_admins_see_hosts_and_services(compute_cloud):
    response = compute_cloud.get("/os-availability-zone/detail", "admin")
    assert response.status_code == 200
    zones = {z["zoneName"]: z for z in response.json["availabilityZoneInfo"]}
    assert set(zones) == {"internal", "nova"}
    nova = zones["nova"]
    assert nova["zoneState"] == {"available": True}
    assert set(nova["hosts"]) == {"host-a", "host-b"}
    status = nova["hosts"]["host-a"]["cumulo-compute"]
    assert status["available"] is True and status["active"] is True
    assert status["updated_at"] is None or status["updated_at"][:2] == "20"
    internal = zones["internal"]["hosts"]
    assert any("cumulo-conductor" in services for services in internal.values())


def test_the_detail_is_for_admins(compute_cloud):
    refused = compute_cloud.get("/os-availability-zone/detail", "member")
    assert refused.status_code == 403
    assert "os-availability-zone:detail" in refused.json["forbidden"]["message"]
