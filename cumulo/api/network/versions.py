"""``GET /network`` (Neutron's versions document) and ``GET /network/v2.0`` (its
resources), without a token, as the clients read them to find v2.0; and the
extension list (a token needed), which this subset leaves empty."""

from __future__ import annotations

import falcon

from ..auth import token_of
from ..state import ApiState
from .common import PREFIX, V20, Route

COLLECTIONS = ("networks", "subnets", "ports", "security-groups", "security-group-rules")


class Versions:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        link = [{"rel": "self", "href": f"{self.state.base_url(req)}{V20}/"}]
        resp.media = {"versions": [{"id": "v2.0", "status": "CURRENT", "links": link}]}


class Resources:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        base = f"{self.state.base_url(req)}{V20}"
        resp.media = {
            "resources": [
                {
                    "name": name.replace("-", "_")[:-1],
                    "collection": name.replace("-", "_"),
                    "links": [{"rel": "self", "href": f"{base}/{name}"}],
                }
                for name in COLLECTIONS
            ]
        }


class Extensions:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token_of(req, self.state)
        resp.media = {"extensions": []}


ROUTES: tuple[Route, ...] = (
    (PREFIX, Versions),
    (V20, Resources),
    (f"{V20}/extensions", Extensions),
)
