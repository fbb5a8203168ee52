"""Version discovery: ``GET /identity`` (300, the list) and ``GET /identity/v3`` (the
one version), without a token, as keystoneauth1 reads them."""

from __future__ import annotations

from typing import Any

import falcon

from ..state import ApiState
from .common import V3

VERSION = "v3.14"
UPDATED = "2020-04-07T00:00:00Z"
MEDIA_TYPE = "application/vnd.openstack.identity-v3+json"


def version_entry(req: falcon.Request, state: ApiState) -> dict[str, Any]:
    return {
        "id": VERSION,
        "status": "stable",
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{state.base_url(req)}{V3}/"}],
        "media-types": [{"base": "application/json", "type": MEDIA_TYPE}],
    }


class Versions:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.status = falcon.HTTP_300
        resp.media = {"versions": {"values": [version_entry(req, self.state)]}}


class Version:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"version": version_entry(req, self.state)}
