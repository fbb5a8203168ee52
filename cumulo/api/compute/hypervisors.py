"""``/compute/v2.1/os-hypervisors``, for admins: each compute host's node with its
service's status and state, its capacity and use (``/detail``, ``/{id}``), and
their sums (``/statistics``).

As in Nova: ``limit``/``marker`` from 2.33; from 2.53 nodes and services are
named by uuid, ``hypervisor_hostname_pattern`` and ``with_servers`` are query
parameters and the older ``/{pattern}/search`` and ``/{pattern}/servers`` routes
are gone; ``cpu_info`` is a JSON object from 2.28 (a JSON string before).
Cumulo's hosts do not report their uptime: ``/{id}/uptime`` answers 501, as Nova
does for a driver without it (clients expect that).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import falcon

from cumulo.model import ComputeNode, ComputeNodeList, InstanceList, Service, ServiceBinary

from ..errors import BadRequest, NotFound, NotImplementedYet
from ..state import ApiState
from .common import context_of, microversion, project_token, v21_url
from .listing import (
    BOOLEAN_TEXT,
    NON_NEGATIVE_INTEGER,
    TEXT,
    flag_of,
    limit_of,
    next_links,
    page,
    query_schema,
    read_query,
)
from .microversions import (
    HYPERVISOR_AND_SERVICE_UUIDS,
    HYPERVISOR_CPU_INFO_OBJECT,
    HYPERVISOR_PAGING,
    Microversion,
    since,
)
from .services import is_up, rpc_services, service_id

LIST_QUERY_2_33 = query_schema({"limit": NON_NEGATIVE_INTEGER, "marker": TEXT}, strict=False)
LIST_QUERY_2_53 = query_schema(
    {
        "limit": NON_NEGATIVE_INTEGER,
        "marker": TEXT,
        "hypervisor_hostname_pattern": TEXT,
        "with_servers": BOOLEAN_TEXT,
    },
    strict=True,
)
"""Nova's ``index_query_v233`` (other parameters ignored) and ``index_query_v253``
(nothing else accepted)."""
SHOW_QUERY_2_53 = query_schema({"with_servers": BOOLEAN_TEXT}, strict=True)

USAGE = (
    "vcpus",
    "memory_mb",
    "local_gb",
    "vcpus_used",
    "memory_mb_used",
    "local_gb_used",
    "free_ram_mb",
    "free_disk_gb",
    "current_workload",
    "running_vms",
    "disk_available_least",
)
"""The detail fields copied from the node as they are (also summed by /statistics)."""


def hypervisor_id(version: Microversion, node: ComputeNode) -> int | str:
    return str(node.uuid) if since(version, HYPERVISOR_AND_SERVICE_UUIDS) else node.id


def cpu_info(version: Microversion, node: ComputeNode) -> dict[str, Any] | str:
    """The node's CPU as libvirt's driver reports it to Nova: a JSON object from
    2.28, its text before."""
    info = node.cpu_info
    body: dict[str, Any] = {
        "arch": str(info.arch),
        "model": info.model,
        "vendor": info.vendor,
        "topology": {
            "cores": info.topology.cores,
            "threads": info.topology.threads,
            "sockets": info.topology.sockets,
        },
        "features": list(info.features),
    }
    return body if since(version, HYPERVISOR_CPU_INFO_OBJECT) else json.dumps(body)


def render_hypervisor(
    version: Microversion,
    node: ComputeNode,
    service: Service,
    *,
    detail: bool,
    down_time: float,
    servers: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": hypervisor_id(version, node),
        "hypervisor_hostname": node.hypervisor_hostname,
        "state": "up" if is_up(service, down_time) else "down",
        "status": "disabled" if service.disabled else "enabled",
    }
    if detail:
        body |= {
            "hypervisor_type": node.hypervisor_type,
            "hypervisor_version": node.hypervisor_version,
            "host_ip": None if node.host_ip is None else str(node.host_ip),
            "service": {
                "id": service_id(version, service),
                "host": node.host,
                "disabled_reason": service.disabled_reason,
            },
            "cpu_info": cpu_info(version, node),
        }
        body |= {name: getattr(node, name) for name in USAGE}
    if servers:
        # Nova leaves the key out when there are none (until 2.75).
        body["servers"] = servers
    return body


def servers_on(context: Any, node: ComputeNode) -> list[dict[str, str]]:
    return [
        {"name": i.display_name or "", "uuid": str(i.uuid)}
        for i in InstanceList.get_by_host(context, node.host)
    ]


def nodes_with_services(context: Any) -> list[tuple[ComputeNode, Service]]:
    """Every node whose compute service still exists (Nova skips the others), by id."""
    services = {s.host: s for s in rpc_services(context) if s.binary == ServiceBinary.COMPUTE}
    nodes = sorted(ComputeNodeList.get_all(context).objects, key=lambda n: n.id)
    return [(n, services[n.host]) for n in nodes if n.host in services]


def matching(pairs: list[tuple[ComputeNode, Service]], pattern: str) -> list[Any]:
    """Nova's hostname search (SQL ``LIKE %pattern%``); none is a 404."""
    found = [(n, s) for n, s in pairs if pattern.lower() in n.hypervisor_hostname.lower()]
    if not found:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return found


class _Admin:
    rule = ""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def _context(self, req: falcon.Request) -> Any:
        token = project_token(req, self.state)
        self.state.policy.authorize(self.rule, token)
        return context_of(req, token)


class Hypervisors(_Admin):
    """``GET /os-hypervisors``."""

    rule = "os_compute_api:os-hypervisors:list"
    detail = False

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        version = microversion(req)
        paging = since(version, HYPERVISOR_PAGING)
        uuids = since(version, HYPERVISOR_AND_SERVICE_UUIDS)
        query: dict[str, Any] = {}
        if paging:
            query = read_query(req, LIST_QUERY_2_53 if uuids else LIST_QUERY_2_33)
        context = self._context(req)
        pairs = nodes_with_services(context)
        pattern = query.get("hypervisor_hostname_pattern") if uuids else None
        more = False
        if pattern is not None:
            if "limit" in query or "marker" in query:
                raise BadRequest(
                    "Paging over hypervisors with the hypervisor_hostname_pattern query "
                    "parameter is not supported."
                )
            pairs = matching(pairs, pattern)
        elif paging:
            marker = query.get("marker")
            pairs, more = page(
                pairs,
                lambda pair: str(hypervisor_id(version, pair[0])),
                limit_of(query),
                marker,
                f"marker [{marker}] not found",
            )
        with_servers = uuids and flag_of(query, "with_servers")
        listed = [
            render_hypervisor(
                version,
                node,
                service,
                detail=self.detail,
                down_time=self.state.config.service_down_time,
                servers=servers_on(context, node) if with_servers else None,
            )
            for node, service in pairs
        ]
        body: dict[str, Any] = {"hypervisors": listed}
        if more and listed:
            path = "/os-hypervisors/detail" if self.detail else "/os-hypervisors"
            url = f"{v21_url(req, self.state)}{path}"
            body["hypervisors_links"] = next_links(req, url, str(listed[-1]["id"]))
        resp.media = body


class HypervisorsDetail(Hypervisors):
    """``GET /os-hypervisors/detail``."""

    rule = "os_compute_api:os-hypervisors:list-detail"
    detail = True


def find_node(context: Any, version: Microversion, hypervisor: str) -> tuple[ComputeNode, Service]:
    """The node named ``hypervisor`` (a uuid from 2.53, a row id before) and its
    service: 400 for a malformed uuid, 404 for no such node."""
    if since(version, HYPERVISOR_AND_SERVICE_UUIDS):
        try:
            uuid.UUID(hypervisor)
        except ValueError:
            raise BadRequest(f"Invalid uuid {hypervisor}") from None
    for node, service in nodes_with_services(context):
        if str(hypervisor_id(version, node)) == hypervisor:
            return node, service
    raise NotFound(f"Hypervisor with ID '{hypervisor}' could not be found.")


class HypervisorResource(_Admin):
    """``GET /os-hypervisors/{hypervisor_id}``."""

    rule = "os_compute_api:os-hypervisors:show"

    def on_get(self, req: falcon.Request, resp: falcon.Response, hypervisor_id: str) -> None:
        version = microversion(req)
        uuids = since(version, HYPERVISOR_AND_SERVICE_UUIDS)
        query = read_query(req, SHOW_QUERY_2_53) if uuids else {}
        context = self._context(req)
        node, service = find_node(context, version, hypervisor_id)
        servers = servers_on(context, node) if flag_of(query, "with_servers") else None
        resp.media = {
            "hypervisor": render_hypervisor(
                version,
                node,
                service,
                detail=True,
                down_time=self.state.config.service_down_time,
                servers=servers,
            )
        }


class HypervisorUptime(_Admin):
    """``GET /os-hypervisors/{hypervisor_id}/uptime``: 501 (see the module docstring)."""

    rule = "os_compute_api:os-hypervisors:uptime"

    def on_get(self, req: falcon.Request, resp: falcon.Response, hypervisor_id: str) -> None:
        find_node(self._context(req), microversion(req), hypervisor_id)
        raise NotImplementedYet("Feature not supported: Cumulo's hosts do not report uptime.")


class HypervisorSearch(_Admin):
    """``GET /os-hypervisors/{pattern}/search`` (until 2.52)."""

    rule = "os_compute_api:os-hypervisors:search"
    with_servers = False

    def on_get(self, req: falcon.Request, resp: falcon.Response, hypervisor_id: str) -> None:
        # The path's segment is a hostname pattern here (the route shares its level).
        pattern = hypervisor_id
        version = microversion(req)
        if since(version, HYPERVISOR_AND_SERVICE_UUIDS):
            raise falcon.HTTPNotFound()
        context = self._context(req)
        found = matching(nodes_with_services(context), pattern)
        resp.media = {
            "hypervisors": [
                render_hypervisor(
                    version,
                    node,
                    service,
                    detail=False,
                    down_time=self.state.config.service_down_time,
                    servers=servers_on(context, node) if self.with_servers else None,
                )
                for node, service in found
            ]
        }


class HypervisorServers(HypervisorSearch):
    """``GET /os-hypervisors/{pattern}/servers`` (until 2.52)."""

    rule = "os_compute_api:os-hypervisors:servers"
    with_servers = True


class HypervisorStatistics(_Admin):
    """``GET /os-hypervisors/statistics``: the sums over the nodes of enabled
    compute services, as Nova counts them."""

    rule = "os_compute_api:os-hypervisors:statistics"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        counted = [n for n, s in nodes_with_services(self._context(req)) if not s.disabled]
        stats: dict[str, int] = {"count": len(counted)}
        for name in USAGE:
            stats[name] = sum(getattr(n, name) or 0 for n in counted)
        resp.media = {"hypervisor_statistics": stats}
