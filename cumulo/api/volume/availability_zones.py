"""``GET /volume/v3/{project_id}/os-availability-zone``: the one zone volumes live
in, ``nova`` (``openstack availability zone list`` asks every service)."""

from __future__ import annotations

import falcon

from ..state import ApiState
from .common import caller
from .views import ZONE


class AvailabilityZones:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        caller(req, self.state, project_id, "volume:get_all")
        resp.media = {
            "availabilityZoneInfo": [{"zoneName": ZONE, "zoneState": {"available": True}}]
        }
