"""Plain-text tables and the instance views shared by ``cumulo server`` and
``cumulo demo``. Everything is read through object methods, so the same code works
with local storage (the demo) and through the conductor (a separate process)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cumulo.model import BlockDeviceMappingList, ComputeNode, Instance

SERVER_HEADERS = ("uuid", "name", "host", "vm_state", "task_state", "power_state", "flavor")
SERVER_HEADERS_WITH_VOLUMES = (*SERVER_HEADERS, "volumes")


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """``headers`` and ``rows`` as aligned columns under a rule; one line per row."""
    cells = [[str(h) for h in headers], *[["-" if v is None else str(v) for v in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _power_name(power: object) -> str:
    return str(getattr(power, "name", power)).lower()


def _flavor_name(instance: Instance) -> str:
    try:
        return instance.flavor.name
    except Exception:  # a flavor that cannot be loaded must not hide the instance
        return "?"


def volume_labels(context: Any, instance: Instance) -> list[str]:
    """``<volume id prefix>@<device>`` of each volume attached to the instance."""
    bdms = BlockDeviceMappingList.get_by_instance_uuid(context, instance.uuid)
    return [
        f"{str(bdm.volume_id)[:8]}@{bdm.device_name or '?'}"
        for bdm in bdms.volumes()
        if bdm.volume_id is not None
    ]


def server_row(context: Any, instance: Instance, *, volumes: bool = True) -> list[object]:
    power = instance.power_state
    row: list[object] = [
        instance.uuid,
        instance.display_name,
        instance.host,
        instance.vm_state,
        instance.task_state,
        _power_name(power),
        _flavor_name(instance),
    ]
    if volumes:
        row.append(",".join(volume_labels(context, instance)) or "-")
    return row


def server_table(context: Any, instances: Iterable[Instance], *, volumes: bool = True) -> str:
    headers = SERVER_HEADERS_WITH_VOLUMES if volumes else SERVER_HEADERS
    return render_table(headers, [server_row(context, i, volumes=volumes) for i in instances])


def server_detail(context: Any, instance: Instance) -> str:
    """One ``field  value`` line per interesting field of ``instance``."""
    flavor: Any = None
    try:
        flavor = instance.flavor
    except Exception:
        flavor = None
    power = instance.power_state
    pairs: list[tuple[str, object]] = [
        ("uuid", instance.uuid),
        ("name", instance.display_name),
        ("description", instance.description),
        ("host", instance.host),
        ("node", instance.node),
        ("vm_state", instance.vm_state),
        ("task_state", instance.task_state),
        ("power_state", _power_name(power)),
        (
            "flavor",
            f"{flavor.name} ({flavor.vcpus} vCPU, {flavor.memory_mb} MiB RAM, "
            f"{flavor.root_gb} GiB disk)"
            if flavor is not None
            else "?",
        ),
        ("image", instance.image_ref),
        ("project", instance.project_id),
        ("user", instance.user_id),
        ("volumes", ", ".join(volume_labels(context, instance)) or "-"),
        (
            "locked",
            f"yes ({instance.locked_reason or 'no reason given'})" if instance.locked else "no",
        ),
        ("launched_at", instance.launched_at),
        ("created_at", instance.created_at),
        ("deleted", instance.deleted),
    ]
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k.ljust(width)}  {'-' if v is None else v}" for k, v in pairs)


def host_table(nodes: Iterable[ComputeNode], driver: str | None = None) -> str:
    rows = [
        [
            node.host,
            node.hypervisor_type or driver or "?",
            f"{node.vcpus_used}/{node.vcpus}",
            f"{node.memory_mb_used}/{node.memory_mb}",
            f"{node.local_gb_used}/{node.local_gb}",
            node.running_vms,
        ]
        for node in nodes
    ]
    return render_table(
        ("host", "hypervisor", "vcpus used", "ram MiB used", "disk GiB used", "instances"), rows
    )
