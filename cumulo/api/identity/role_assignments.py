"""``GET /identity/v3/role_assignments``, with Keystone's filters ``user.id``,
``scope.project.id``, ``role.id`` and ``include_names``. There are no groups,
domain or system assignments and no inheritance, so filters on those match
nothing and ``effective`` lists the same assignments."""

from __future__ import annotations

import falcon

from ..auth import token_of
from ..state import ApiState
from . import views
from .common import listing, v3_url

_MATCH_NOTHING = ("group.id", "scope.domain.id", "scope.system", "scope.OS-INHERIT:inherited_to")


class RoleAssignments:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = token_of(req, self.state)
        user_id = req.get_param("user.id")
        target = {"target.user.id": user_id} if user_id else {}
        self.state.policy.authorize("identity:list_role_assignments", token, target)
        found = []
        if not any(name in req.params for name in _MATCH_NOTHING):
            found = self.state.identity.store.list_assignments(
                user_id=user_id,
                project_id=req.get_param("scope.project.id"),
                role_id=req.get_param("role.id"),
            )
        include_names = "include_names" in req.params and req.get_param(
            "include_names", default="true"
        ).lower() not in ("false", "0")
        v3 = v3_url(req, self.state)
        items = [views.assignment(v3, a, include_names) for a in found]
        resp.media = listing(req, self.state, "role_assignments", items)
