"""``/os-networks``: Nova's proxy of the network service, which the ``openstack``
CLI falls back to when the catalog has no network service (``server create
--network private``). It lists the networks the project may boot on (its own and
the shared ones, from :mod:`cumulo.network`), each with its first subnet's CIDR;
from 2.36 it answers 404, as Nova's does."""

from __future__ import annotations

from typing import Any

import falcon

from cumulo.identity import Token
from cumulo.network import NetworkRecord

from ..errors import NotFound
from ..state import ApiState
from .common import microversion, project_token
from .microversions import NETWORK_PROXY_REMOVED, since


class _Proxy:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def _check(self, req: falcon.Request) -> Token:
        token = project_token(req, self.state)
        if since(microversion(req), NETWORK_PROXY_REMOVED):
            raise falcon.HTTPNotFound()
        self.state.policy.authorize("os_compute_api:os-networks:view", token)
        return token

    def _visible(self, token: Token) -> list[NetworkRecord]:
        assert token.project is not None  # project_token
        project = token.project.id
        return [n for n in self.state.networks.networks() if n.shared or n.project_id == project]

    def _render(self, network: NetworkRecord) -> dict[str, Any]:
        cidr = None
        if network.subnet_ids:
            cidr = str(self.state.networks.subnet(network.subnet_ids[0]).cidr)
        return {"id": str(network.id), "label": network.name, "cidr": cidr}


class Networks(_Proxy):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = self._check(req)
        resp.media = {"networks": [self._render(n) for n in self._visible(token)]}


class NetworkResource(_Proxy):
    def on_get(self, req: falcon.Request, resp: falcon.Response, network_id: str) -> None:
        token = self._check(req)
        for network in self._visible(token):
            if network_id in (str(network.id), network.name):
                resp.media = {"network": self._render(network)}
                return
        raise NotFound(f"Network {network_id} could not be found.")
