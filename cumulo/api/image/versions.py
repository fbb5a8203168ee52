"""``GET /image`` (and ``/image/v2``): Glance's versions document, without a token
(300, as Glance answers it), which the clients read to find v2."""

from __future__ import annotations

import falcon

from ..state import ApiState
from .common import V2

CURRENT = "v2.16"
SUPPORTED = ("v2.15", "v2.14", "v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8", "v2.7")
"""Earlier v2 minor versions, all served by the same routes."""


class Versions:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        link = [{"rel": "self", "href": f"{self.state.base_url(req)}{V2}/"}]
        entries = [{"id": CURRENT, "status": "CURRENT", "links": link}]
        entries += [{"id": v, "status": "SUPPORTED", "links": link} for v in SUPPORTED]
        resp.status = falcon.HTTP_300
        resp.media = {"versions": entries}
