"""The services mounted on the API's one listener, each under devstack's prefix
(``/identity`` now; ``/compute``, ``/image``, ``/volume`` and ``/network`` later).

An entry says where a service lives, how it adds its routes, the shape of its error
bodies and how it appears in the token's catalog, so a new service slots in by
adding one entry to :data:`cumulo.api.mounted.SERVICES`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import falcon

from .errors import ErrorBody
from .policy import Rule

if TYPE_CHECKING:
    from .state import ApiState

App: TypeAlias = "falcon.App[falcon.Request, falcon.Response]"

INTERFACES = ("public", "internal", "admin")
_IDS = uuid.UUID("6f1d7c1e-1c55-4d55-9a53-6d2b3c1f0a11")  # namespace of the catalog's ids


@dataclass(frozen=True)
class MountedService:
    """One service on the listener."""

    type: str
    """The catalog type (``identity``, ``compute``, ``block-storage``...)."""
    name: str
    """The catalog name (``keystone``, ``nova``...)."""
    prefix: str
    """Its path prefix, without a trailing slash (``/identity``)."""
    catalog_path: str
    """Appended to base URL + prefix in the catalog; ``{project_id}`` is the token's
    project (``""`` for identity, ``/v2.1`` for compute, ``/v3/{project_id}`` for volume)."""
    add_routes: Callable[[App, ApiState], None]
    error_body: ErrorBody
    policies: tuple[Rule, ...] = ()
    """The service's default policy rules (overridable in ``policy.yaml``)."""
    middleware: tuple[Callable[[], object], ...] = ()
    """Falcon middleware the service needs on every request (each one checks that the
    path is its own): the compute microversion negotiation."""
    aliases: tuple[str, ...] = ()
    """Other catalog types the service is listed under too, for clients that look
    for an older name (block-storage: ``volumev3``, ``volume``)."""

    def owns(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    def catalog_entries(self, base_url: str, region: str, project_id: str) -> list[dict[str, Any]]:
        """The service's catalog entry, then one per alias (same endpoints)."""
        entry = self.catalog_entry(base_url, region, project_id)
        return [entry] + [
            self.catalog_entry(base_url, region, project_id, alias) for alias in self.aliases
        ]

    def catalog_entry(
        self, base_url: str, region: str, project_id: str, type_: str | None = None
    ) -> dict[str, Any]:
        url = base_url + self.prefix + self.catalog_path.format(project_id=project_id)
        type_ = type_ or self.type
        return {
            "type": type_,
            "name": self.name,
            "id": uuid.uuid5(_IDS, type_).hex,
            "endpoints": [
                {
                    "id": uuid.uuid5(_IDS, f"{type_}:{interface}").hex,
                    "interface": interface,
                    "region": region,
                    "region_id": region,
                    "url": url,
                }
                for interface in INTERFACES
            ],
        }


def service_for(path: str, services: tuple[MountedService, ...]) -> MountedService | None:
    """The service whose prefix ``path`` is under, if any."""
    for service in services:
        if service.owns(path):
            return service
    return None
