"""``/network/v2.0/quotas/{project_id}`` (and ``/details``, ``/default``): the
project's network quotas as Neutron shows them, so that ``openstack quota show``,
which asks every service in the catalog, keeps working. Cumulo limits no network
resource (every limit is -1, unlimited); the details count what the project has."""

from __future__ import annotations

from typing import Any

import falcon

from cumulo.model import SecurityGroupList

from ..compute.common import context_of
from ..registry import App
from ..state import ApiState
from .common import V2, project_token

UNLIMITED = -1


def _counts(context: Any, project_id: str) -> dict[str, int]:
    groups = SecurityGroupList.get_all(context, project_id).objects
    return {
        "security_group": len(groups),
        "security_group_rule": sum(len(group.rules) for group in groups),
    }


class Quota:
    """``GET`` one project's limits; ``kind`` ``details`` adds use, ``default`` the
    defaults (the same: nothing is limited)."""

    def __init__(self, state: ApiState, kind: str = "") -> None:
        self.state = state
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        token = project_token(req, self.state)
        project_id = project_id.removesuffix(".json")
        target = {"project_id": project_id, "tenant_id": project_id}
        self.state.policy.authorize("get_quota", token, target)
        context = context_of(req, token)
        if self.kind == "details":
            used = _counts(context, project_id)
            quota: dict[str, Any] = {
                name: {"limit": UNLIMITED, "used": count, "reserved": 0}
                for name, count in used.items()
            }
        else:
            quota = {"security_group": UNLIMITED, "security_group_rule": UNLIMITED}
        resp.media = {"quota": quota}


def add_quota_routes(app: App, state: ApiState) -> None:
    app.add_route(f"{V2}/quotas/{{project_id}}", Quota(state))
    app.add_route(f"{V2}/quotas/{{project_id}}/details", Quota(state, "details"))
    app.add_route(f"{V2}/quotas/{{project_id}}/details.json", Quota(state, "details"))
    app.add_route(f"{V2}/quotas/{{project_id}}/default", Quota(state, "default"))
