"""Version documents, without a token: ``GET /compute/`` (v2.0 deprecated, v2.1
current with the microversion range) and ``GET /compute/v2.1``."""

from __future__ import annotations

from typing import Any

import falcon

from ..state import ApiState
from .common import PREFIX, V21
from .microversions import MAX_VERSION, MIN_VERSION

MEDIA_TYPE = "application/vnd.openstack.compute+json;version=2.1"


def _entry(
    req: falcon.Request, state: ApiState, id: str, path: str, status: str, updated: str
) -> dict[str, Any]:
    return {
        "id": id,
        "status": status,
        "version": str(MAX_VERSION) if id == "v2.1" else "",
        "min_version": str(MIN_VERSION) if id == "v2.1" else "",
        "updated": updated,
        "links": [{"rel": "self", "href": f"{state.base_url(req)}{path}/"}],
    }


def v20(req: falcon.Request, state: ApiState) -> dict[str, Any]:
    return _entry(req, state, "v2.0", f"{PREFIX}/v2", "DEPRECATED", "2011-01-21T11:33:21Z")


def v21(req: falcon.Request, state: ApiState) -> dict[str, Any]:
    return _entry(req, state, "v2.1", V21, "CURRENT", "2013-07-23T11:33:21Z")


class Versions:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"versions": [v20(req, self.state), v21(req, self.state)]}


class Version:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        entry = v21(req, self.state)
        entry["links"].append(
            {
                "rel": "describedby",
                "type": "text/html",
                "href": "https://docs.openstack.org/",
            }
        )
        entry["media-types"] = [{"base": "application/json", "type": MEDIA_TYPE}]
        resp.media = {"version": entry}
