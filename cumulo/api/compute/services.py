"""``/compute/v2.1/os-services``, for admins: the conductors and compute hosts with
their status (an operator's ``disabled``), their state (``up`` while heartbeats
arrive, ``down`` once they stop or the service is forced down), ``forced_down``
from 2.11 and uuids for ids from 2.53.

``PUT`` disables, enables or forces down a compute service (placement then skips
it): ``PUT /os-services/{enable|disable|disable-log-reason|force-down}`` naming
host and binary until 2.52, ``PUT /os-services/{service_uuid}`` from 2.53.

The API's own rows are left out, as Nova leaves out ``nova-osapi_compute``: they
do not heartbeat, so they would always read ``down``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import falcon

from cumulo.model import Service, ServiceBinary, ServiceList
from cumulo.model.service import service_is_up

from ..errors import BadRequest, NotFound
from ..media import read_json
from ..state import ApiState
from ..validation import Schema
from .common import context_of, microversion, project_token
from .listing import MULTI_TEXT, nova_time, query_schema, read_query, truthy, values_of
from .microversions import HYPERVISOR_AND_SERVICE_UUIDS, SERVICE_FORCED_DOWN, Microversion, since

COMPUTE_ZONE = "nova"
"""Nova's ``default_availability_zone``: compute hosts are in it (no aggregates)."""
INTERNAL_ZONE = "internal"
"""Nova's ``internal_service_availability_zone``, for every other service."""

LIST_QUERY = query_schema({"host": MULTI_TEXT, "binary": MULTI_TEXT}, strict=False)
"""Nova's ``index_query_schema`` (other parameters are ignored; of a repeated one,
Nova reads the last)."""


def is_up(service: Service, down_time: float, now: datetime | None = None) -> bool:
    """Nova's ``service_is_up``, the one rule of :func:`cumulo.model.service.service_is_up`:
    not forced down, and a heartbeat younger than ``down_time`` seconds (the API's
    ``service_down_time``)."""
    return service_is_up(service, down_time, now)


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


def render_service(version: Microversion, service: Service, down_time: float) -> dict[str, Any]:
    body: dict[str, Any] = {
        "binary": str(service.binary),
        "host": service.host,
        "id": service_id(version, service),
        "zone": zone_of(service),
        "status": "disabled" if service.disabled else "enabled",
        "state": "up" if is_up(service, down_time) else "down",
        "updated_at": nova_time(updated_time(service)),
        "disabled_reason": service.disabled_reason,
    }
    if since(version, SERVICE_FORCED_DOWN):
        body["forced_down"] = service.forced_down
    return body


def last_of(query: dict[str, Any], name: str) -> str | None:
    values = values_of(query, name)
    return values[-1] if values else None


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
        host, binary = last_of(query, "host"), last_of(query, "binary")
        chosen = [
            s
            for s in rpc_services(context_of(req, token))
            if (not host or s.host == host) and (not binary or s.binary == binary)
        ]
        down_time = self.state.config.service_down_time
        resp.media = {"services": [render_service(version, s, down_time) for s in chosen]}


_NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}
_BOOLEAN: dict[str, Any] = {
    "type": ["boolean", "string"],
    "pattern": r"^(?i:true|false|1|0|yes|no|on|off)$",
}


def _update_schema(properties: dict[str, Any], required: list[str]) -> Schema:
    return Schema(
        {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
    )


UPDATE_BY_HOST = _update_schema(
    {"host": _NAME, "binary": _NAME, "disabled_reason": _NAME}, ["host", "binary"]
)
"""Nova's ``service_update`` (the 2.1 actions)."""
UPDATE_BY_HOST_2_11 = _update_schema(
    {"host": _NAME, "binary": _NAME, "disabled_reason": _NAME, "forced_down": _BOOLEAN},
    ["host", "binary"],
)
"""Nova's ``service_update_v211`` (``force-down`` appears)."""
UPDATE_2_53 = _update_schema(
    {
        "status": {"type": "string", "enum": ["enabled", "disabled"]},
        "disabled_reason": _NAME,
        "forced_down": _BOOLEAN,
    },
    [],
)
"""Nova's ``service_update_v253``."""


def _flag(value: bool | str) -> bool:
    return value if isinstance(value, bool) else truthy(value)


def _compute_only(binary: str) -> None:
    """Nova updates compute services only (nothing reads another's status)."""
    if binary != ServiceBinary.COMPUTE:
        raise BadRequest(
            f"Updating a {binary} service is not supported. Only "
            f"{ServiceBinary.COMPUTE} services can be updated."
        )


class ServiceResource:
    """``PUT /os-services/{service_id}``: an action name until 2.52, a uuid from 2.53."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_put(self, req: falcon.Request, resp: falcon.Response, service_id: str) -> None:
        version = microversion(req)
        if since(version, HYPERVISOR_AND_SERVICE_UUIDS):
            resp.media = self._update(req, version, service_id)
        else:
            resp.media = self._action(req, version, service_id)

    def _authorized_context(self, req: falcon.Request) -> Any:
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:os-services:update", token)
        return context_of(req, token)

    def _update(self, req: falcon.Request, version: Microversion, service_id: str) -> Any:
        body = read_json(req, UPDATE_2_53)
        try:
            wanted = uuid.UUID(service_id)
        except ValueError:
            raise BadRequest(f"Invalid uuid {service_id}") from None
        context = self._authorized_context(req)
        service = next((s for s in rpc_services(context) if s.uuid == wanted), None)
        if service is None:
            raise NotFound(f"Service {service_id} could not be found.")
        _compute_only(service.binary)
        if "status" not in body and "forced_down" not in body:
            raise BadRequest(
                "No updates were requested. Fields 'status' or 'forced_down' should be specified."
            )
        if body.get("status") == "enabled":
            if "disabled_reason" in body:
                raise BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
            service.disabled, service.disabled_reason = False, None
        elif body.get("status") == "disabled":
            service.disabled, service.disabled_reason = True, body.get("disabled_reason")
        if "forced_down" in body:
            service.forced_down = _flag(body["forced_down"])
        service.save()
        return {"service": render_service(version, service, self.state.config.service_down_time)}

    def _action(self, req: falcon.Request, version: Microversion, action: str) -> Any:
        forced_down_known = since(version, SERVICE_FORCED_DOWN)
        actions = {"enable", "disable", "disable-log-reason"}
        if action not in actions | ({"force-down"} if forced_down_known else set()):
            raise NotFound("Unknown action")
        body = read_json(req, UPDATE_BY_HOST_2_11 if forced_down_known else UPDATE_BY_HOST)
        context = self._authorized_context(req)
        host, binary = body["host"], body["binary"]
        reply: dict[str, Any] = {"host": host, "binary": binary}
        if action == "disable-log-reason" and "disabled_reason" not in body:
            raise BadRequest("Missing disabled reason field")
        if action == "force-down" and "forced_down" not in body:
            raise BadRequest("Missing forced_down field")
        _compute_only(binary)
        service = next(
            (s for s in rpc_services(context) if s.host == host and s.binary == binary), None
        )
        if service is None:
            raise NotFound(f"Could not find binary {binary} on host {host}.")
        if action == "force-down":
            service.forced_down = _flag(body["forced_down"])
            reply["forced_down"] = service.forced_down
        elif action == "enable":
            service.disabled, service.disabled_reason = False, None
            reply["status"] = "enabled"
        else:
            service.disabled = True
            reply["status"] = "disabled"
            if action == "disable-log-reason":
                service.disabled_reason = reply["disabled_reason"] = body["disabled_reason"]
        service.save()
        return {"service": reply}
