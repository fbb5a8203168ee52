"""``/identity/v3/users`` (create, list, show, update with ``--password``, delete)
and ``POST /v3/users/{id}/password``, a user's own change (it needs the original
password, not a token, as Keystone's). A new password or disabling revokes the
user's earlier tokens."""

from __future__ import annotations

import falcon

from cumulo.identity import DEFAULT_DOMAIN_ID
from cumulo.identity.exceptions import ProjectNotFound

from ..auth import authorized, token_of
from ..errors import ValidationFailed
from ..media import read_json
from ..state import ApiState
from ..validation import Schema
from . import views
from .common import bool_param, listing, v3_url
from .schemas import (
    DESCRIPTION,
    EMAIL,
    ENABLED,
    ID,
    NAME,
    NO_OPTIONS,
    NULLABLE_ID,
    PASSWORD,
    body,
    obj,
)

_FIELDS = {
    "name": NAME,
    "password": {**PASSWORD, "type": ["string", "null"]},
    "enabled": ENABLED,
    "default_project_id": NULLABLE_ID,
    "email": EMAIL,
    "description": DESCRIPTION,
    "options": NO_OPTIONS,
}
CREATE = Schema(body("user", obj({**_FIELDS, "domain_id": ID}, ["name"])))
UPDATE = Schema(body("user", obj(_FIELDS, minProperties=1)))
CHANGE_PASSWORD = Schema(
    body(
        "user",
        obj(
            {"password": PASSWORD, "original_password": PASSWORD}, ["password", "original_password"]
        ),
    )
)
_CHANGES = ("name", "enabled", "default_project_id", "email", "description")


class Users:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        authorized(req, self.state, "identity:list_users")
        found = self.state.identity.store.list_users(
            domain_id=req.get_param("domain_id"),
            name=req.get_param("name"),
            enabled=bool_param(req, "enabled"),
        )
        v3 = v3_url(req, self.state)
        resp.media = listing(req, self.state, "users", [views.user(v3, u) for u in found])

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = token_of(req, self.state)
        values = read_json(req, CREATE)["user"]
        self.state.policy.authorize("identity:create_user", token)
        domain_id = values.get("domain_id") or (
            token.project.domain_id if token.project else DEFAULT_DOMAIN_ID
        )
        _check_default_project(self.state, values.get("default_project_id"))
        user = self.state.identity.create_user(
            values["name"],
            domain_id,
            values.get("password"),
            enabled=values.get("enabled", True),
            default_project_id=values.get("default_project_id"),
            email=values.get("email"),
            description=values.get("description"),
        )
        resp.status = falcon.HTTP_201
        resp.media = {"user": views.user(v3_url(req, self.state), user)}


class User:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        authorized(req, self.state, "identity:get_user", {"target.user.id": user_id})
        user = self.state.identity.store.get_user(user_id)
        resp.media = {"user": views.user(v3_url(req, self.state), user)}

    def on_patch(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        token = token_of(req, self.state)
        values = read_json(req, UPDATE)["user"]
        self.state.policy.authorize("identity:update_user", token, {"target.user.id": user_id})
        _check_default_project(self.state, values.get("default_project_id"))
        changes = {k: values[k] for k in _CHANGES if k in values}
        user = self.state.identity.update_user(user_id, changes, password=values.get("password"))
        resp.media = {"user": views.user(v3_url(req, self.state), user)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        authorized(req, self.state, "identity:delete_user", {"target.user.id": user_id})
        self.state.identity.store.delete_user(user_id)
        resp.status = falcon.HTTP_204


def _check_default_project(state: ApiState, project_id: str | None) -> None:
    if project_id is None:
        return
    try:
        state.identity.store.get_project(project_id)
    except ProjectNotFound:
        raise ValidationFailed("user.default_project_id", f"no project {project_id!r}") from None


class UserPassword:
    """``POST /v3/users/{user_id}/password``: 204; a wrong original password is a 401."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        values = read_json(req, CHANGE_PASSWORD)["user"]
        self.state.identity.change_password(
            user_id, values["original_password"], values["password"]
        )
        resp.status = falcon.HTTP_204
