"""Server bodies exactly as Nova renders them for the negotiated microversion: the
status from vm and task state, ``fault`` only for ERROR and DELETED servers, the
``OS-EXT-STS:*`` states, the admin-only ``OS-EXT-SRV-ATTR:*`` attributes, and each
field a microversion added from that version on and never before."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from cumulo.model import (
    BlockDeviceMapping,
    Instance,
    Service,
    TaskState,
    VmState,
)
from cumulo.model.service import DEFAULT_SERVICE_DOWN_TIME

from .microversions import (
    FLAVOR_IN_SERVER,
    SERVER_DESCRIPTION,
    SERVER_EXTENDED_ATTRIBUTES,
    SERVER_HOST_STATUS,
    SERVER_LOCKED,
    SERVER_TAGS,
    Microversion,
    since,
)
from .services import is_up

# --- status ----------------------------------------------------------------------------

_STATUS_BY_TASK: Final[dict[VmState, dict[TaskState | None, str]]] = {
    VmState.ACTIVE: {
        None: "ACTIVE",
        TaskState.REBOOTING: "REBOOT",
        TaskState.REBOOTING_HARD: "HARD_REBOOT",
        TaskState.MIGRATING: "MIGRATING",
    },
    VmState.BUILDING: {None: "BUILD"},
    VmState.STOPPED: {None: "SHUTOFF"},
    VmState.PAUSED: {None: "PAUSED", TaskState.MIGRATING: "MIGRATING"},
    VmState.SUSPENDED: {None: "SUSPENDED"},
    VmState.SOFT_DELETED: {None: "SOFT_DELETED"},
    VmState.DELETED: {None: "DELETED"},
    VmState.ERROR: {None: "ERROR"},
}
"""Nova's table (nova/api/openstack/common.py): the vm_state's status, unless the
running task has its own."""

PROGRESS_STATUSES: Final = frozenset({"ACTIVE", "BUILD", "REBUILD", "MIGRATING", "RESIZE"})
"""The statuses whose servers carry ``progress``."""


def status_of(vm_state: VmState, task_state: TaskState | None) -> str:
    by_task = _STATUS_BY_TASK.get(vm_state)
    if by_task is None:
        return "UNKNOWN"
    return by_task.get(task_state, by_task[None])


def vm_states_of(status: str) -> tuple[VmState, ...] | None:
    """The vm_states a ``?status=`` filter selects (``None``: not a known status).
    The task-state statuses (REBOOT, MIGRATING...) select their vm_states; the
    caller also compares the rendered status."""
    wanted = status.upper()
    found = tuple(
        vm_state for vm_state, by_task in _STATUS_BY_TASK.items() if wanted in by_task.values()
    )
    return found or None


# --- what a view needs besides the instance ----------------------------------------------


@dataclass
class ViewContext:
    """What renders a request's servers: its version, its URLs, whether the caller
    sees the admin-only attributes, and facts looked up once per request."""

    version: Microversion
    v21_url: str
    bookmark_url: str
    project_id: str
    admin: bool
    services: Mapping[str, Service] = field(default_factory=dict)
    """Compute services by host, for ``host_status`` (admins, 2.16)."""
    volumes: Mapping[str, list[BlockDeviceMapping]] = field(default_factory=dict)
    """Volume mappings by instance uuid, for ``volumes_attached``."""
    service_down_time: float = DEFAULT_SERVICE_DOWN_TIME
    """Seconds after its last heartbeat a host's ``host_status`` reads DOWN."""
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def links(self, kind: str, ident: str) -> list[dict[str, str]]:
        return [
            {"rel": "self", "href": f"{self.v21_url}/{kind}/{ident}"},
            {"rel": "bookmark", "href": f"{self.bookmark_url}/{kind}/{ident}"},
        ]


def host_status(
    service: Service | None, now: datetime, down_time: float = DEFAULT_SERVICE_DOWN_TIME
) -> str:
    """UP, DOWN, MAINTENANCE (disabled) or UNKNOWN (no such service)."""
    if service is None:
        return "UNKNOWN"
    if not is_up(service, down_time, now):
        return "DOWN"
    if service.disabled:
        return "MAINTENANCE"
    return "UP"


def host_id(project_id: str, host: str | None) -> str:
    """Nova's opaque ``hostId``: the same for a project's servers on one host."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def timestamp(value: datetime | None) -> str | None:
    """``2026-12-03T14:00:00Z``, as Nova writes ``created`` and ``updated``."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def usage_timestamp(value: datetime | None) -> str | None:
    """``OS-SRV-USG:*`` times: no zone, microseconds kept (Nova's format)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


# --- bodies ----------------------------------------------------------------------------


def brief(view: ViewContext, instance: Instance) -> dict[str, Any]:
    """An item of ``GET /servers``."""
    ident = str(instance.uuid)
    return {
        "id": ident,
        "links": view.links("servers", ident),
        "name": instance.display_name or "",
    }


def _addresses(instance: Instance) -> dict[str, list[dict[str, Any]]]:
    addresses: dict[str, list[dict[str, Any]]] = {}
    cache = instance.info_cache if instance.obj_attr_is_set("info_cache") else None
    if cache is None or cache.network_info is None:
        return addresses
    for vif in cache.network_info:
        label = vif.network.label if vif.network and vif.network.label else "private"
        entries = addresses.setdefault(label, [])
        for ip in vif.fixed_ips():
            entries.append(
                {
                    "version": ip.address.version,
                    "addr": str(ip.address),
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": str(vif.address),
                }
            )
            for floating in ip.floating_ips:
                entries.append(
                    {
                        "version": floating.version,
                        "addr": str(floating),
                        "OS-EXT-IPS:type": "floating",
                        "OS-EXT-IPS-MAC:mac_addr": str(vif.address),
                    }
                )
    return addresses


def _flavor(view: ViewContext, instance: Instance) -> dict[str, Any]:
    flavor = instance.flavor
    if not since(view.version, FLAVOR_IN_SERVER):
        return {"id": flavor.flavorid, "links": [view.links("flavors", flavor.flavorid)[1]]}
    return {
        "vcpus": flavor.vcpus,
        "ram": flavor.memory_mb,
        "disk": flavor.root_gb,
        "ephemeral": flavor.ephemeral_gb,
        "swap": flavor.swap,
        "original_name": flavor.name,
        "extra_specs": dict(flavor.extra_specs),
    }


def _image(view: ViewContext, instance: Instance) -> dict[str, Any] | str:
    if not instance.image_ref:
        return ""  # booted from a volume
    return {"id": instance.image_ref, "links": [view.links("images", instance.image_ref)[1]]}


def _fault(view: ViewContext, instance: Instance, status: str) -> dict[str, Any] | None:
    if status not in ("ERROR", "DELETED"):
        return None
    fault = instance.fault
    if fault is None:
        return None
    body: dict[str, Any] = {
        "code": fault.code,
        "created": timestamp(fault.created_at),
        "message": fault.message,
    }
    if fault.details and (view.admin or fault.code != 500):
        body["details"] = fault.details
    return body


def detail(view: ViewContext, instance: Instance) -> dict[str, Any]:
    """A server as ``GET /servers/{id}`` and ``GET /servers/detail`` show it."""
    version = view.version
    status = status_of(instance.vm_state, instance.task_state)
    ident = str(instance.uuid)
    mappings = view.volumes.get(ident, [])
    attached: list[dict[str, Any]] = []
    for bdm in mappings:
        entry: dict[str, Any] = {"id": str(bdm.volume_id)}
        if since(version, SERVER_EXTENDED_ATTRIBUTES):
            entry["delete_on_termination"] = bdm.delete_on_termination
        attached.append(entry)
    body: dict[str, Any] = {
        "id": ident,
        "name": instance.display_name or "",
        "status": status,
        "tenant_id": instance.project_id,
        "user_id": instance.user_id,
        "metadata": dict(instance.metadata),
        "hostId": host_id(instance.project_id, instance.host),
        "image": _image(view, instance),
        "flavor": _flavor(view, instance),
        "created": timestamp(instance.created_at),
        "updated": timestamp(instance.updated_at or instance.created_at),
        "addresses": _addresses(instance),
        "accessIPv4": str(instance.access_ip_v4) if instance.access_ip_v4 else "",
        "accessIPv6": str(instance.access_ip_v6) if instance.access_ip_v6 else "",
        "links": view.links("servers", ident),
        "OS-DCF:diskConfig": instance.system_metadata.get("disk_config", "MANUAL"),
        "OS-EXT-AZ:availability_zone": instance.availability_zone or "",
        "config_drive": "True" if instance.config_drive else "",
        "key_name": instance.key_name,
        "OS-SRV-USG:launched_at": usage_timestamp(instance.launched_at),
        "OS-SRV-USG:terminated_at": usage_timestamp(instance.terminated_at),
        "OS-EXT-STS:task_state": instance.task_state.value if instance.task_state else None,
        "OS-EXT-STS:vm_state": instance.vm_state.value,
        "OS-EXT-STS:power_state": int(instance.power_state),
        "os-extended-volumes:volumes_attached": attached,
        "security_groups": [{"name": g.name} for g in instance.security_groups.objects]
        or [{"name": "default"}],
    }
    if status in PROGRESS_STATUSES:
        body["progress"] = 0  # no operation here reports progress on the server
    fault = _fault(view, instance, status)
    if fault is not None:
        body["fault"] = fault
    if view.admin:
        body["OS-EXT-SRV-ATTR:host"] = instance.host
        body["OS-EXT-SRV-ATTR:hypervisor_hostname"] = instance.node
        body["OS-EXT-SRV-ATTR:instance_name"] = instance.name
        if since(version, SERVER_EXTENDED_ATTRIBUTES):
            body["OS-EXT-SRV-ATTR:reservation_id"] = instance.reservation_id
            body["OS-EXT-SRV-ATTR:launch_index"] = instance.launch_index
            body["OS-EXT-SRV-ATTR:kernel_id"] = instance.system_metadata.get("kernel_id", "")
            body["OS-EXT-SRV-ATTR:ramdisk_id"] = instance.system_metadata.get("ramdisk_id", "")
            body["OS-EXT-SRV-ATTR:hostname"] = instance.hostname
            body["OS-EXT-SRV-ATTR:root_device_name"] = instance.root_device_name
            body["OS-EXT-SRV-ATTR:user_data"] = instance.user_data
    if since(version, SERVER_LOCKED):
        body["locked"] = instance.locked
    if since(version, SERVER_HOST_STATUS) and view.admin:
        body["host_status"] = (
            host_status(view.services.get(instance.host), view.now, view.service_down_time)
            if instance.host
            else ""
        )
    if since(version, SERVER_DESCRIPTION):
        body["description"] = instance.description
    if since(version, SERVER_TAGS):
        body["tags"] = sorted(instance.tags)
    return body
