"""``/compute/v2.1/flavors/{flavor_id}/os-extra_specs``: list, add or replace, show,
replace one, delete one (readers read, admins write)."""

from __future__ import annotations

import falcon

from cumulo.model import Flavor

from ..errors import BadRequest, NotFound
from ..media import read_json
from ..state import ApiState
from . import schemas
from .common import context_of, project_token


def _text(value: object) -> str:
    # Nova stores numbers and booleans given as values as their text.
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


class ExtraSpecs:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:os-flavor-extra-specs:index", token)
        flavor = Flavor.get_by_flavorid(context_of(req, token), flavor_id)
        resp.media = {"extra_specs": dict(flavor.extra_specs)}

    def on_post(self, req: falcon.Request, resp: falcon.Response, flavor_id: str) -> None:
        token = project_token(req, self.state)
        specs = read_json(req, schemas.EXTRA_SPECS)["extra_specs"]
        self.state.policy.authorize("os_compute_api:os-flavor-extra-specs:create", token)
        flavor = Flavor.get_by_flavorid(context_of(req, token), flavor_id)
        flavor.update_extra_specs({k: _text(v) for k, v in specs.items()})
        resp.media = {"extra_specs": specs}


class ExtraSpec:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, flavor_id: str, key: str) -> None:
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:os-flavor-extra-specs:show", token)
        flavor = Flavor.get_by_flavorid(context_of(req, token), flavor_id)
        if key not in flavor.extra_specs:
            raise NotFound(f"Flavor {flavor_id} has no extra specs with key {key}.")
        resp.media = {key: flavor.extra_specs[key]}

    def on_put(self, req: falcon.Request, resp: falcon.Response, flavor_id: str, key: str) -> None:
        token = project_token(req, self.state)
        body = read_json(req, schemas.ONE_EXTRA_SPEC)
        if key not in body:
            raise BadRequest("Request body and URI mismatch")
        self.state.policy.authorize("os_compute_api:os-flavor-extra-specs:update", token)
        flavor = Flavor.get_by_flavorid(context_of(req, token), flavor_id)
        flavor.update_extra_specs({key: _text(body[key])})
        resp.media = body

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, flavor_id: str, key: str
    ) -> None:
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:os-flavor-extra-specs:delete", token)
        flavor = Flavor.get_by_flavorid(context_of(req, token), flavor_id)
        flavor.delete_extra_spec(key)
        resp.status = falcon.HTTP_202
