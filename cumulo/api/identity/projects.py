"""``/identity/v3/projects`` (create, list, show, update, delete), a user's projects
(``/v3/users/{id}/projects``) and the token holder's (``/v3/auth/projects``)."""

from __future__ import annotations

from typing import Any

import falcon

from cumulo.identity import DEFAULT_DOMAIN_ID

from ..auth import authorized, token_of
from ..errors import ValidationFailed
from ..media import read_json
from ..state import ApiState
from ..validation import Schema
from . import views
from .common import bool_param, listing, v3_url
from .schemas import DESCRIPTION, ENABLED, ID, NAME, NO_OPTIONS, NULLABLE_ID, body, obj

_TAGS: dict[str, Any] = {"type": "array", "maxItems": 0}
"""Project tags are not supported: an empty list is accepted."""

CREATE = Schema(
    body(
        "project",
        obj(
            {
                "name": NAME,
                "domain_id": ID,
                "description": DESCRIPTION,
                "enabled": ENABLED,
                "is_domain": {"const": False},
                "parent_id": NULLABLE_ID,
                "tags": _TAGS,
                "options": NO_OPTIONS,
            },
            ["name"],
        ),
    )
)
UPDATE = Schema(
    body(
        "project",
        obj(
            {
                "name": NAME,
                "description": DESCRIPTION,
                "enabled": ENABLED,
                "tags": _TAGS,
                "options": NO_OPTIONS,
            },
            minProperties=1,
        ),
    )
)


class Projects:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        authorized(req, self.state, "identity:list_projects")
        found = self.state.identity.store.list_projects(
            domain_id=req.get_param("domain_id"),
            name=req.get_param("name"),
            enabled=bool_param(req, "enabled"),
        )
        v3 = v3_url(req, self.state)
        resp.media = listing(req, self.state, "projects", [views.project(v3, p) for p in found])

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = token_of(req, self.state)
        values = read_json(req, CREATE)["project"]
        self.state.policy.authorize("identity:create_project", token)
        # Projects are not nested: the parent is the domain (what Keystone reports).
        domain_id = values.get("domain_id") or (
            token.project.domain_id if token.project else DEFAULT_DOMAIN_ID
        )
        if values.get("parent_id") not in (None, domain_id):
            raise ValidationFailed("project.parent_id", "nested projects are not supported")
        project = self.state.identity.create_project(
            values["name"], domain_id, values.get("description"), values.get("enabled", True)
        )
        resp.status = falcon.HTTP_201
        resp.media = {"project": views.project(v3_url(req, self.state), project)}


class Project:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        authorized(req, self.state, "identity:get_project", {"target.project.id": project_id})
        project = self.state.identity.store.get_project(project_id)
        resp.media = {"project": views.project(v3_url(req, self.state), project)}

    def on_patch(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        token = token_of(req, self.state)
        values = read_json(req, UPDATE)["project"]
        self.state.policy.authorize("identity:update_project", token)
        changes = {k: values[k] for k in ("name", "description", "enabled") if k in values}
        project = self.state.identity.store.update_project(project_id, changes)
        resp.media = {"project": views.project(v3_url(req, self.state), project)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        authorized(req, self.state, "identity:delete_project")
        self.state.identity.store.delete_project(project_id)
        resp.status = falcon.HTTP_204


class UserProjects:
    """``GET /v3/users/{user_id}/projects``: the projects a user has a role on."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        authorized(req, self.state, "identity:list_user_projects", {"target.user.id": user_id})
        self.state.identity.store.get_user(user_id)  # 404 for no such user
        found = self.state.identity.store.list_projects(
            user_id=user_id, name=req.get_param("name"), enabled=bool_param(req, "enabled")
        )
        v3 = v3_url(req, self.state)
        resp.media = listing(req, self.state, "projects", [views.project(v3, p) for p in found])


class AuthProjects:
    """``GET /v3/auth/projects``: the projects the token's user may scope to."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = token_of(req, self.state)
        found = self.state.identity.store.list_projects(user_id=token.user.id, enabled=True)
        v3 = v3_url(req, self.state)
        resp.media = listing(req, self.state, "projects", [views.project(v3, p) for p in found])
