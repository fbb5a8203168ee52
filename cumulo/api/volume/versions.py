"""``GET /volume`` and ``/volume/v3``: Cinder's versions document, without a token
(300 for the root, as Cinder answers it; 200 for ``/v3``), which the clients read to
find v3 and its microversion range."""

from __future__ import annotations

import falcon

from ..state import ApiState
from .common import MAX_VERSION, MIN_VERSION, V3, version_text


class Versions:
    def __init__(self, state: ApiState, *, choices: bool) -> None:
        self.state = state
        self.choices = choices

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        entry = {
            "id": "v3.0",
            "status": "CURRENT",
            "version": version_text(MAX_VERSION),
            "min_version": version_text(MIN_VERSION),
            "updated": "2016-02-08T12:20:21Z",
            "links": [{"rel": "self", "href": f"{self.state.base_url(req)}{V3}/"}],
            "media-types": [
                {
                    "base": "application/json",
                    "type": "application/vnd.openstack.volume+json;version=3",
                }
            ],
        }
        if self.choices:
            resp.status = falcon.HTTP_300
        resp.media = {"versions": [entry]}
