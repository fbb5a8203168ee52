"""``ApiState``: what every handler of one API worker shares: the configuration,
the identity manager (its database engine and key repository), the policy, the
mounted services, the image catalog, the key pair and quota stores, and the volume
store. Built once
per worker process, after the fork."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import falcon

from cumulo.db.keypairs import KeyPairStore
from cumulo.db.quotas import QuotaStore
from cumulo.identity import IdentityManager
from cumulo.image import ImageCatalog
from cumulo.network import NetworkStore
from cumulo.volume.store import VolumeStore

from .backend import ComputeBackend, LazyBackend
from .config import ApiConfig
from .policy import Policy
from .registry import MountedService


@dataclass
class ApiState:
    config: ApiConfig
    identity: IdentityManager
    policy: Policy
    services: tuple[MountedService, ...]
    backend_of: LazyBackend
    images: ImageCatalog
    keypairs: KeyPairStore
    quotas: QuotaStore
    networks: NetworkStore
    volumes: VolumeStore | None = None
    """The volume store (``/volume``); ``None``: the API has none configured."""

    @property
    def backend(self) -> ComputeBackend:
        """The conductor's and the hosts' clients (503 when the API has no bus)."""
        return self.backend_of.get()

    def base_url(self, req: falcon.Request) -> str:
        """The public base URL, no trailing slash: configured, else the request's."""
        return (self.config.public_url or req.prefix).rstrip("/")

    def catalog(self, req: falcon.Request, project_id: str) -> list[dict[str, Any]]:
        """The token catalog for a token scoped to ``project_id``."""
        base = self.base_url(req)
        region = self.config.region
        return [e for s in self.services for e in s.catalog_entries(base, region, project_id)]
