"""``GET /servers/{server_id}/diagnostics`` (admins): the guest's counters, asked of
its compute host. Before 2.48 the body is the libvirt-style flat dict Nova's drivers
returned (``cpu0_time``, ``memory``, ``vda_read``...); from 2.48 it is the
standardized, driver-neutral document."""

from __future__ import annotations

from typing import Any

import falcon

from cumulo.model import Diagnostics, PowerState, VmState

from ..state import ApiState
from .common import context_of, microversion, project_token
from .instances import check_state, find_instance, target_of
from .microversions import STANDARD_DIAGNOSTICS, since

_POWER_NAMES = {
    PowerState.NOSTATE: "pending",
    PowerState.RUNNING: "running",
    PowerState.PAUSED: "paused",
    PowerState.SHUTDOWN: "shutdown",
    PowerState.CRASHED: "crashed",
    PowerState.SUSPENDED: "suspended",
}


def standard(diagnostics: Diagnostics) -> dict[str, Any]:
    """The 2.48 document."""
    return {
        "state": _POWER_NAMES.get(diagnostics.state, "pending"),
        "driver": diagnostics.driver,
        "hypervisor": diagnostics.hypervisor,
        "hypervisor_os": diagnostics.hypervisor_os,
        "uptime": diagnostics.uptime,
        "config_drive": diagnostics.config_drive,
        "num_cpus": len(diagnostics.cpu_details),
        "num_disks": len(diagnostics.disk_details),
        "num_nics": len(diagnostics.nic_details),
        "memory_details": {
            "maximum": diagnostics.memory_details.maximum,
            "used": diagnostics.memory_details.used,
        },
        "cpu_details": [
            {"id": c.id, "time": c.time, "utilisation": c.utilisation}
            for c in diagnostics.cpu_details
        ],
        "disk_details": [
            {
                "read_bytes": d.read_bytes,
                "read_requests": d.read_requests,
                "write_bytes": d.write_bytes,
                "write_requests": d.write_requests,
                "errors_count": d.errors_count,
            }
            for d in diagnostics.disk_details
        ],
        "nic_details": [
            {
                "mac_address": str(n.mac_address),
                "rx_octets": n.rx_octets,
                "rx_errors": n.rx_errors,
                "rx_drop": n.rx_drop,
                "rx_packets": n.rx_packets,
                "rx_rate": n.rx_rate,
                "tx_octets": n.tx_octets,
                "tx_errors": n.tx_errors,
                "tx_drop": n.tx_drop,
                "tx_packets": n.tx_packets,
                "tx_rate": n.tx_rate,
            }
            for n in diagnostics.nic_details
        ],
    }


def legacy(diagnostics: Diagnostics) -> dict[str, Any]:
    """The flat dict of the libvirt driver before 2.48: per-CPU time, memory, per-disk
    and per-NIC counters keyed by device."""
    body: dict[str, Any] = {f"cpu{c.id}_time": c.time for c in diagnostics.cpu_details}
    body["memory"] = diagnostics.memory_details.maximum * 1024  # KiB, as libvirt says
    for index, disk in enumerate(diagnostics.disk_details):
        device = disk.device or f"vd{chr(ord('a') + index)}"
        body[f"{device}_read"] = disk.read_bytes
        body[f"{device}_read_req"] = disk.read_requests
        body[f"{device}_write"] = disk.write_bytes
        body[f"{device}_write_req"] = disk.write_requests
        body[f"{device}_errors"] = disk.errors_count
    for index, nic in enumerate(diagnostics.nic_details):
        device = f"tap{index}"
        body[f"{device}_rx"] = nic.rx_octets
        body[f"{device}_rx_packets"] = nic.rx_packets
        body[f"{device}_rx_errors"] = nic.rx_errors
        body[f"{device}_rx_drop"] = nic.rx_drop
        body[f"{device}_tx"] = nic.tx_octets
        body[f"{device}_tx_packets"] = nic.tx_packets
        body[f"{device}_tx_errors"] = nic.tx_errors
        body[f"{device}_tx_drop"] = nic.tx_drop
    return body


class ServerDiagnostics:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        token = project_token(req, self.state)
        context = context_of(req, token)
        instance = find_instance(context, server_id)
        self.state.policy.authorize(
            "os_compute_api:os-server-diagnostics", token, target_of(instance)
        )
        check_state(
            instance, "get_diagnostics", (VmState.ACTIVE, VmState.PAUSED, VmState.SUSPENDED)
        )
        diagnostics = self.state.backend.compute.get_diagnostics(context, instance)
        render = standard if since(microversion(req), STANDARD_DIAGNOSTICS) else legacy
        resp.media = render(diagnostics)
