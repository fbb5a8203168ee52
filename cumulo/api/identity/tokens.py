"""``/identity/v3/auth/tokens``: ``POST`` issues a token for a password (201, the
token in ``X-Subject-Token``), ``GET`` and ``HEAD`` validate the ``X-Subject-Token``
for the holder of a valid ``X-Auth-Token``."""

from __future__ import annotations

from typing import Any

import falcon

from cumulo.identity import PasswordCredentials, ProjectScope, Token, TokenInvalid

from ..auth import token_of
from ..errors import NotFound
from ..media import read_json
from ..state import ApiState
from ..validation import Schema
from . import views
from .schemas import ID, NAME, PASSWORD, body, obj

SUBJECT_HEADER = "X-Subject-Token"

_BY_ID_OR_NAME: list[dict[str, Any]] = [{"required": ["id"]}, {"required": ["name", "domain"]}]
_DOMAIN = obj({"id": ID, "name": NAME}, anyOf=[{"required": ["id"]}, {"required": ["name"]}])
_USER = obj(
    {"id": ID, "name": NAME, "domain": _DOMAIN, "password": PASSWORD},
    ["password"],
    anyOf=_BY_ID_OR_NAME,
)
_PROJECT = obj({"id": ID, "name": NAME, "domain": _DOMAIN}, anyOf=_BY_ID_OR_NAME)
AUTH = Schema(
    body(
        "auth",
        obj(
            {
                "identity": obj(
                    {
                        "methods": {
                            "type": "array",
                            "items": {"enum": ["password"]},
                            "minItems": 1,
                        },
                        "password": obj({"user": _USER}, ["user"]),
                    },
                    ["methods", "password"],
                ),
                "scope": {
                    "description": 'a project scope or "unscoped" (domain and system '
                    "scopes are not supported)",
                    "anyOf": [obj({"project": _PROJECT}, ["project"]), {"const": "unscoped"}],
                },
            },
            ["identity"],
        ),
    )
)


def _credentials(user: dict[str, Any]) -> PasswordCredentials:
    domain = user.get("domain", {})
    return PasswordCredentials(
        password=user["password"],
        user_id=user.get("id"),
        user_name=user.get("name"),
        domain_id=domain.get("id"),
        domain_name=domain.get("name"),
    )


def _scope(scope: Any) -> ProjectScope | None:
    if not isinstance(scope, dict):
        return None  # none asked for, or "unscoped"
    project = scope["project"]
    domain = project.get("domain", {})
    return ProjectScope(
        project_id=project.get("id"),
        name=project.get("name"),
        domain_id=domain.get("id"),
        domain_name=domain.get("name"),
    )


class Tokens:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        auth = read_json(req, AUTH)["auth"]
        credentials = _credentials(auth["identity"]["password"]["user"])
        token = self.state.identity.authenticate(credentials, _scope(auth.get("scope")))
        resp.status = falcon.HTTP_201
        resp.set_header(SUBJECT_HEADER, token.id)
        resp.media = self._render(req, token)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        subject = self._subject(req)
        resp.set_header(SUBJECT_HEADER, subject.id)
        resp.media = self._render(req, subject)

    def on_head(self, req: falcon.Request, resp: falcon.Response) -> None:
        subject = self._subject(req)
        resp.set_header(SUBJECT_HEADER, subject.id)
        resp.status = falcon.HTTP_200

    def _subject(self, req: falcon.Request) -> Token:
        token = token_of(req, self.state)
        presented = (req.get_header(SUBJECT_HEADER) or "").strip()
        try:
            subject = self.state.identity.validate(presented)
        except TokenInvalid as exc:
            # Keystone's answer for a subject token that is not (or no longer) valid.
            raise NotFound(f"Could not find token: {exc}") from None
        target = {"target.token.user_id": subject.user.id}
        self.state.policy.authorize("identity:validate_token", token, target)
        return subject

    def _render(self, req: falcon.Request, token: Token) -> dict[str, Any]:
        catalog = None
        if "nocatalog" not in req.params and token.project is not None:
            catalog = self.state.catalog(req, token.project.id)
        return views.token(token, catalog)
