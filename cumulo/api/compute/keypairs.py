"""``/compute/v2.1/os-keypairs``: a user's key pairs: list (2.35: ``limit``/``marker``),
create (a new key, its private half shown once) or import (a public key given),
show, delete. Key pairs belong to a user, not a project; an admin names another
user with 2.10's ``user_id``. :func:`keypair_of` is server create's lookup of
``key_name``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import falcon

from cumulo.db.keypairs import KeyPair, KeyPairExists, KeyPairNotFound
from cumulo.identity import Token

from ..errors import BadRequest, Conflict, NotFound, OverLimit
from ..media import read_json
from ..state import ApiState
from . import keypair_schemas, keys
from .common import microversion, project_token, v21_url
from .microversions import KEYPAIR_PAGING, KEYPAIR_TYPE, KEYPAIR_USER_ID, Microversion, since
from .quotas import limits_of
from .schemas import for_version


def keypair_of(state: ApiState, user_id: str, name: str) -> KeyPair:
    """The key pair a server create names (``key_name``), or Nova's 400."""
    try:
        return state.keypairs.get(user_id, name)
    except KeyPairNotFound:
        raise BadRequest("Invalid key_name provided.") from None


def _user_of(req: falcon.Request, token: Token, given: str | None = None) -> str:
    """Whose key pairs the request is about: from 2.10 the ``user_id`` an admin may
    name (the policy decides), else the caller's."""
    if since(microversion(req), KEYPAIR_USER_ID):
        given = given or req.get_param("user_id")
        if given:
            return given
    return token.user.id


def _authorized(state: ApiState, token: Token, action: str, user_id: str) -> None:
    state.policy.authorize(f"os_compute_api:os-keypairs:{action}", token, {"user_id": user_id})


def _not_found(error: KeyPairNotFound) -> NotFound:
    return NotFound(str(error))


def _brief(version: Microversion, keypair: KeyPair) -> dict[str, Any]:
    """What every key pair body has (a list item is only this): ``type`` from 2.2."""
    body = {
        "name": keypair.name,
        "public_key": keypair.public_key,
        "fingerprint": keypair.fingerprint,
    }
    if since(version, KEYPAIR_TYPE):
        body["type"] = keypair.type
    return body


def _timestamp(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value is not None else None


class KeyPairs:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state)
        user_id = _user_of(req, token)
        _authorized(self.state, token, "index", user_id)
        version = microversion(req)
        found = self.state.keypairs.list(user_id)
        more = False
        if since(version, KEYPAIR_PAGING):
            found, more = _page(req, found)
        body: dict[str, Any] = {"keypairs": [{"keypair": _brief(version, k)} for k in found]}
        if more and found:
            query = {k: v for k, v in req.params.items() if k != "marker"}
            query["marker"] = found[-1].name
            href = f"{v21_url(req, self.state)}/os-keypairs?"
            body["keypairs_links"] = [
                {"rel": "next", "href": href + falcon.to_query_str(query, prefix=False)}
            ]
        resp.media = body

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state)
        version = microversion(req)
        values = read_json(req, for_version(keypair_schemas.CREATE, version))["keypair"]
        user_id = _user_of(req, token, values.get("user_id"))
        _authorized(self.state, token, "create", user_id)
        key_type = values.get("type", keys.SSH)
        name = values["name"]
        self._check_quota(token, user_id)
        private_key = None
        if "public_key" in values:
            public_key = values["public_key"]
            try:
                fingerprint = keys.fingerprint(key_type, public_key)
            except keys.InvalidPublicKey as exc:
                raise BadRequest(f"Keypair data is invalid: {exc}") from None
        else:
            generated = keys.generate(key_type, user_id)
            private_key, public_key = generated.private_key, generated.public_key
            fingerprint = generated.fingerprint
        try:
            keypair = self.state.keypairs.create(user_id, name, fingerprint, public_key, key_type)
        except KeyPairExists as exc:
            raise Conflict(str(exc)) from None
        body = {**_brief(version, keypair), "user_id": user_id}
        if private_key is not None:
            body["private_key"] = private_key
        resp.status = falcon.HTTP_201 if since(version, KEYPAIR_TYPE) else falcon.HTTP_200
        resp.media = {"keypair": body}

    def _check_quota(self, token: Token, user_id: str) -> None:
        assert token.project is not None  # project_token
        allowed = limits_of(self.state, token.project.id)["key_pairs"]
        if 0 <= allowed <= self.state.keypairs.count(user_id):
            raise OverLimit("Quota exceeded, too many key pairs.")


def _page(req: falcon.Request, found: list[KeyPair]) -> tuple[list[KeyPair], bool]:
    """2.35's page: after the ``marker`` name, at most ``limit`` key pairs; and
    whether more follow."""
    marker, limit_text = req.get_param("marker"), req.get_param("limit")
    if marker is not None:
        names = [k.name for k in found]
        if marker not in names:
            raise BadRequest(f"marker [{marker}] not found")
        found = found[names.index(marker) + 1 :]
    if limit_text is None:
        return found, False
    if not limit_text.isdigit():
        raise BadRequest(f"Invalid input for query parameters limit. Value: {limit_text}.")
    limit = int(limit_text)
    return found[:limit], len(found) > limit


class KeyPairResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        token = project_token(req, self.state)
        user_id = _user_of(req, token)
        _authorized(self.state, token, "show", user_id)
        try:
            keypair = self.state.keypairs.get(user_id, name)
        except KeyPairNotFound as exc:
            raise _not_found(exc) from None
        body = {
            **_brief(microversion(req), keypair),
            "user_id": keypair.user_id,
            "deleted": False,
            "created_at": _timestamp(keypair.created_at),
            "updated_at": _timestamp(keypair.updated_at),
            "deleted_at": None,
            "id": keypair.id,
        }
        resp.media = {"keypair": body}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        token = project_token(req, self.state)
        user_id = _user_of(req, token)
        _authorized(self.state, token, "delete", user_id)
        try:
            self.state.keypairs.delete(user_id, name)
        except KeyPairNotFound as exc:
            raise _not_found(exc) from None
        version = microversion(req)
        resp.status = falcon.HTTP_204 if since(version, KEYPAIR_TYPE) else falcon.HTTP_202
