"""``/compute/v2.1/os-services``, for admins: the conductors and compute hosts with
their status (an operator's ``disabled``), their state (``up`` while heartbeats
arrive, ``down`` once they stop or the service is forced down), ``forced_down``
from 2.11 and uuids for ids from 2.53.

The API's own rows are left out, as Nova leaves out ``nova-osapi_compute``: they
do not heartbeat, so they would always read ``down``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import falcon

from cumulo.model import Service, ServiceBinary, ServiceList

from ..state import ApiState
from .common import context_of, microversion, project_token
from .listing import TEXT, nova_time, query_schema, read_query
from .microversions import HYPERVISOR_AND_SERVICE_UUIDS, SERVICE_FORCED_DOWN, Microversion, since

DOWN_AFTER = timedelta(seconds=180)
"""A service whose last heartbeat is older is ``down``: services heartbeat with
their periodic tasks (every 60 s by default), so three missed ones."""

COMPUTE_ZONE = "nova"
"""Nova's ``default_availability_zone``: compute hosts are in it (no aggregates)."""
INTERNAL_ZONE = "internal"
"""Nova's ``internal_service_availability_zone``, for every other service."""

LIST_QUERY = query_schema({"host": TEXT, "binary": TEXT}, strict=False)
"""Nova's ``index_query_schema`` (other parameters are ignored)."""


def last_heartbeat(service: Service) -> datetime | None:
    """When the service last reported (its row's last change, else its creation)."""
    return service.last_seen_up or service.updated_at or service.created_at


def is_up(service: Service, now: datetime | None = None) -> bool:
    """Nova's ``service_is_up``: a recent heartbeat and not forced down."""
    seen = last_heartbeat(service)
    if service.forced_down or seen is None:
        return False
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    return abs((now or datetime.now(UTC)) - seen) <= DOWN_AFTER


def service_id(version: Microversion, service: Service) -> int | str:
    """A service's id at ``version``: its row id, from 2.53 its uuid."""
    return str(service.uuid) if since(version, HYPERVISOR_AND_SERVICE_UUIDS) else service.id


def zone_of(service: Service) -> str:
    return COMPUTE_ZONE if service.binary == ServiceBinary.COMPUTE else INTERNAL_ZONE


def updated_time(service: Service) -> datetime | None:
    """Nova's ``updated_at`` moves with every heartbeat and every change; Cumulo
    keeps the two apart, so the later one."""
    times = [t for t in (service.updated_at, service.last_seen_up) if t is not None]
    return max(times) if times else None


def render_service(version: Microversion, service: Service) -> dict[str, Any]:
    body: dict[str, Any] = {
        "binary": str(service.binary),
        "host": service.host,
        "id": service_id(version, service),
        "zone": zone_of(service),
        "status": "disabled" if service.disabled else "enabled",
        "state": "up" if is_up(service) else "down",
        "updated_at": nova_time(updated_time(service)),
        "disabled_reason": service.disabled_reason,
    }
    if since(version, SERVICE_FORCED_DOWN):
        body["forced_down"] = service.forced_down
    return body


def rpc_services(context: Any) -> list[Service]:
    """The services that heartbeat (every one but the API's), by host."""
    return [s for s in ServiceList.get_all(context).objects if s.binary != ServiceBinary.API]


class Services:
    """``GET /os-services``."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = read_query(req, LIST_QUERY)
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:os-services:list", token)
        version = microversion(req)
        host, binary = query.get("host"), query.get("binary")
        chosen = [
            s
            for s in rpc_services(context_of(req, token))
            if (not host or s.host == host) and (not binary or s.binary == binary)
        ]
        resp.media = {"services": [render_service(version, s) for s in chosen]}
