"""``GET /volume/v3/{project_id}/limits``: the project's absolute volume limits and
what it uses (``openstack limits show`` asks for them beside the compute ones);
no rate limits."""

from __future__ import annotations

import falcon

from ..state import ApiState
from .common import caller
from .quotas import limits_of, usage_of


class Limits:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        who = caller(req, self.state, project_id, "limits_extension:used_limits")
        limits = limits_of(self.state, who.project_id)
        used = usage_of(self.state, who.project_id)
        resp.media = {
            "limits": {
                "rate": [],
                "absolute": {
                    "maxTotalVolumes": limits["volumes"],
                    "maxTotalVolumeGigabytes": limits["gigabytes"],
                    "totalVolumesUsed": used["volumes"],
                    "totalGigabytesUsed": used["gigabytes"],
                },
            }
        }
