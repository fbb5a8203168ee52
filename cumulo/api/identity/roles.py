"""``/identity/v3/roles``: list, show, create, delete."""

from __future__ import annotations

import falcon

from cumulo.identity import Role as RoleRecord
from cumulo.identity.manager import new_id

from ..auth import authorized, token_of
from ..media import read_json
from ..state import ApiState
from ..validation import Schema
from . import views
from .common import listing, v3_url
from .schemas import DESCRIPTION, NAME, NO_OPTIONS, body, obj

CREATE = Schema(
    body(
        "role",
        obj(
            {
                "name": NAME,
                "description": DESCRIPTION,
                "domain_id": {"type": "null"},
                "options": NO_OPTIONS,
            },
            ["name"],
        ),
    )
)


class Roles:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        authorized(req, self.state, "identity:list_roles")
        found = self.state.identity.store.list_roles(name=req.get_param("name"))
        v3 = v3_url(req, self.state)
        resp.media = listing(req, self.state, "roles", [views.role(v3, r) for r in found])

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = token_of(req, self.state)
        values = read_json(req, CREATE)["role"]
        self.state.policy.authorize("identity:create_role", token)
        role = self.state.identity.store.create_role(
            RoleRecord(new_id(), values["name"], values.get("description"))
        )
        resp.status = falcon.HTTP_201
        resp.media = {"role": views.role(v3_url(req, self.state), role)}


class Role:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, role_id: str) -> None:
        authorized(req, self.state, "identity:get_role")
        role = self.state.identity.store.get_role(role_id)
        resp.media = {"role": views.role(v3_url(req, self.state), role)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, role_id: str) -> None:
        authorized(req, self.state, "identity:delete_role")
        self.state.identity.store.delete_role(role_id)
        resp.status = falcon.HTTP_204
