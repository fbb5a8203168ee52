"""The network service (a Neutron v2.0 subset) under ``/network``: the versions
document, networks, subnets, ports, security groups and their rules, and the
(read-only) quotas, on
:mod:`cumulo.network`'s records. Each route module lists its routes in ``ROUTES``;
:data:`MODULES` is every such module, so another resource (security groups) slots
in by adding its module here."""

from __future__ import annotations

from types import ModuleType

from ..registry import App, MountedService
from ..state import ApiState
from . import networks, ports, quotas, subnets, versions
from .common import PREFIX, neutron_error_body
from .policies import RULES
from .security_groups import add_security_group_routes

__all__ = ["MODULES", "SERVICE"]

MODULES: tuple[ModuleType, ...] = (versions, networks, subnets, ports, quotas)


def add_routes(app: App, state: ApiState) -> None:
    for module in MODULES:
        for path, resource in module.ROUTES:
            app.add_route(path, resource(state))
    add_security_group_routes(app, state)


SERVICE = MountedService(
    type="network",
    name="neutron",
    prefix=PREFIX,
    catalog_path="",
    add_routes=add_routes,
    error_body=neutron_error_body,
    policies=RULES,
)
