"""``/identity/v3/domains``: read-only (there is one, ``Default``)."""

from __future__ import annotations

import falcon

from ..auth import authorized
from ..state import ApiState
from . import views
from .common import bool_param, listing, v3_url


class Domains:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        authorized(req, self.state, "identity:list_domains")
        found = self.state.identity.store.list_domains(
            name=req.get_param("name"), enabled=bool_param(req, "enabled")
        )
        v3 = v3_url(req, self.state)
        resp.media = listing(req, self.state, "domains", [views.domain(v3, d) for d in found])


class Domain:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, domain_id: str) -> None:
        authorized(req, self.state, "identity:get_domain", {"target.domain.id": domain_id})
        found = self.state.identity.store.get_domain(domain_id)
        resp.media = {"domain": views.domain(v3_url(req, self.state), found)}
