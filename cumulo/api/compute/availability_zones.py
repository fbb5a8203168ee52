"""``/compute/v2.1/os-availability-zone`` (+ ``/detail`` for admins): the zones
servers may be placed in, from the service records. Every compute host is in
Nova's default zone ``nova`` (Cumulo has no host aggregates); the control services
are in ``internal``, which only the detail shows, as in Nova."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import falcon

from cumulo.model import Service, ServiceList

from ..state import ApiState
from .common import context_of, project_token
from .services import INTERNAL_ZONE, is_up, zone_of


def _timestamp(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") if moment else None


def _zones(services: list[Service], detailed: bool, down_time: float) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    zones: dict[str, dict[str, Any]] = {}
    for service in sorted(services, key=lambda s: (zone_of(s), s.host, str(s.binary))):
        zone = zone_of(service)
        if not detailed and zone == INTERNAL_ZONE:
            continue
        entry = zones.setdefault(
            zone,
            {
                "zoneName": zone,
                "zoneState": {"available": False},
                "hosts": {} if detailed else None,
            },
        )
        alive = is_up(service, down_time, now)
        if not service.disabled and (alive or zone == INTERNAL_ZONE):
            entry["zoneState"]["available"] = True
        if detailed:
            entry["hosts"].setdefault(service.host, {})[str(service.binary)] = {
                "available": alive,
                "active": not service.disabled,
                "updated_at": _timestamp(service.updated_at or service.last_seen_up),
            }
    return list(zones.values())


class _Zones:
    detailed = False

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state)
        action = "detail" if self.detailed else "list"
        self.state.policy.authorize(f"os_compute_api:os-availability-zone:{action}", token)
        services = ServiceList.get_all(context_of(req, token)).objects
        resp.media = {
            "availabilityZoneInfo": _zones(
                services, self.detailed, self.state.config.service_down_time
            )
        }


class AvailabilityZones(_Zones):
    pass


class AvailabilityZonesDetail(_Zones):
    detailed = True
