"""A user's roles on a project: ``/identity/v3/projects/{p}/users/{u}/roles[/{r}]``
(``PUT`` gives, ``HEAD``/``GET`` checks, ``DELETE`` takes; the list)."""

from __future__ import annotations

import falcon

from cumulo.identity.records import RoleAssignment

from ..auth import authorized
from ..errors import NotFound
from ..state import ApiState
from . import views
from .common import listing, v3_url


class Grants:
    """``GET /v3/projects/{project_id}/users/{user_id}/roles``."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, user_id: str
    ) -> None:
        authorized(req, self.state, "identity:list_grants")
        store = self.state.identity.store
        store.get_project(project_id)
        store.get_user(user_id)
        found = store.roles_on_project(user_id, project_id)
        v3 = v3_url(req, self.state)
        resp.media = listing(req, self.state, "roles", [views.role(v3, r) for r in found])


class Grant:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_put(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        user_id: str,
        role_id: str,
    ) -> None:
        authorized(req, self.state, "identity:create_grant")
        self.state.identity.grant(user_id, project_id, role_id)
        resp.status = falcon.HTTP_204

    def on_head(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        user_id: str,
        role_id: str,
    ) -> None:
        self._check(req, project_id, user_id, role_id)
        resp.status = falcon.HTTP_204

    on_get = on_head  # Keystone answers a check the same way for GET

    def on_delete(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        project_id: str,
        user_id: str,
        role_id: str,
    ) -> None:
        authorized(req, self.state, "identity:revoke_grant")
        self.state.identity.store.revoke(RoleAssignment(user_id, project_id, role_id))
        resp.status = falcon.HTTP_204

    def _check(self, req: falcon.Request, project_id: str, user_id: str, role_id: str) -> None:
        authorized(req, self.state, "identity:check_grant")
        if not self.state.identity.store.has_assignment(
            RoleAssignment(user_id, project_id, role_id)
        ):
            raise NotFound(
                f"Could not find role assignment with role: {role_id}, user or group: "
                f"{user_id}, project, domain, or system: {project_id}."
            )
