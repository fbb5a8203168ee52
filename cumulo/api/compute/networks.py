"""``/os-networks``: Nova's proxy of the network service, which the ``openstack``
CLI falls back to when the catalog has no network service (``server create
--network private``). It lists the one flat network every host allocates on;
from 2.36 it answers 404, as Nova's does."""

from __future__ import annotations

from typing import Any

import falcon

from cumulo.compute.network import DEFAULT_SUBNET, NETWORK_ID

from ..errors import NotFound
from ..state import ApiState
from .common import microversion, project_token
from .microversions import NETWORK_PROXY_REMOVED, since
from .servers import NETWORK_LABEL


def _network() -> dict[str, Any]:
    return {"id": str(NETWORK_ID), "label": NETWORK_LABEL, "cidr": DEFAULT_SUBNET}


class _Proxy:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def _check(self, req: falcon.Request) -> None:
        token = project_token(req, self.state)
        if since(microversion(req), NETWORK_PROXY_REMOVED):
            raise falcon.HTTPNotFound()
        self.state.policy.authorize("os_compute_api:os-networks:view", token)


class Networks(_Proxy):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._check(req)
        resp.media = {"networks": [_network()]}


class NetworkResource(_Proxy):
    def on_get(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        self._check(req)
        if network_id not in (str(NETWORK_ID), NETWORK_LABEL):
            raise NotFound(f"Network {network_id} could not be found.")
        resp.media = {"network": _network()}
