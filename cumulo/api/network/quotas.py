"""``/network/v2.0/quotas/{project_id}`` (and ``.../details.json``): the project's
network quotas, read-only, at Neutron's defaults (nothing enforces them yet), as
``openstack quota show`` reads them beside the compute ones. Usage counts the
project's networks, subnets and ports."""

from __future__ import annotations

from typing import Any

import falcon

from ..errors import Forbidden
from ..state import ApiState
from .common import V20, Route, owns, project_token

DEFAULTS: dict[str, int] = {
    "network": 100,
    "subnet": 100,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
    "subnetpool": -1,
}
"""Neutron's ``[quotas]`` defaults."""


class _Quotas:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def _check(self, req: falcon.Request, project_id: str) -> None:
        token = project_token(req, self.state, "get_quota")
        if not owns(token, project_id):
            raise Forbidden("Only admins read another project's quotas.")


class Quotas(_Quotas):
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        self._check(req, project_id)
        resp.media = {"quota": dict(DEFAULTS)}


class QuotaDetails(_Quotas):
    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        self._check(req, project_id)
        store = self.state.networks
        used = {
            "network": sum(1 for n in store.networks() if n.project_id == project_id),
            "subnet": sum(1 for s in store.subnets() if s.project_id == project_id),
            "port": len(store.ports(project_id=project_id)),
        }
        body: dict[str, Any] = {
            name: {"limit": limit, "used": used.get(name, 0), "reserved": 0}
            for name, limit in DEFAULTS.items()
        }
        resp.media = {"quota": body}


ROUTES: tuple[Route, ...] = (
    (f"{V20}/quotas/{{project_id}}", Quotas),
    (f"{V20}/quotas/{{project_id}}/details.json", QuotaDetails),
)
