"""A volume as Cinder v3 renders it: the summary (``id``, ``name``, ``links``) of
``GET volumes`` and the full body of show, detail and create; and the status the
API shows for a store's volume (``error`` split into Cinder's error kinds)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cumulo.model import VolumeStatus
from cumulo.volume.store import VolumeEntry

DEFAULT_TYPE = "__DEFAULT__"
"""Cinder's default volume type: the store has one kind of volume."""
ZONE = "nova"


def status_of(entry: VolumeEntry) -> str:
    """The Cinder status: the store's, an ``error`` told apart by what failed."""
    volume = entry.volume
    if volume.status is VolumeStatus.ERROR and entry.details.error_kind:
        return entry.details.error_kind
    return str(volume.status)


def _time(moment: datetime | None) -> str | None:
    # Cinder's format: microseconds, no zone designator (the times are UTC).
    return None if moment is None else moment.replace(tzinfo=None).isoformat()


def links(base: str, project_id: str, volume_id: str) -> list[dict[str, str]]:
    """``base`` is the API's base URL (no trailing slash)."""
    return [
        {"rel": "self", "href": f"{base}/volume/v3/{project_id}/volumes/{volume_id}"},
        {"rel": "bookmark", "href": f"{base}/volume/{project_id}/volumes/{volume_id}"},
    ]


def summary(entry: VolumeEntry, base: str) -> dict[str, Any]:
    volume = entry.volume
    owner = volume.project_id or ""
    return {
        "id": str(volume.id),
        "name": volume.name,
        "links": links(base, owner, str(volume.id)),
    }


def attachments(entry: VolumeEntry) -> list[dict[str, Any]]:
    """The volume's attachment (the store holds at most one), shown from the moment
    the host records it (``attaching``) until it releases it (``available``), as the
    compute API shows the server's mapping."""
    volume = entry.volume
    if volume.attached_to is None:
        return []
    return [
        {
            "id": str(volume.id),
            "attachment_id": None if volume.attachment_id is None else str(volume.attachment_id),
            "volume_id": str(volume.id),
            "server_id": str(volume.attached_to),
            "host_name": volume.attached_host,
            "device": volume.mountpoint,
            "attached_at": (
                entry.details.attached_at.removesuffix("+00:00")
                if entry.details.attached_at
                else None
            ),
        }
    ]


def detail(entry: VolumeEntry, base: str) -> dict[str, Any]:
    """The full body; ``error_message`` (Cumulo's) only while in an error status."""
    volume, details = entry.volume, entry.details
    body: dict[str, Any] = {
        **summary(entry, base),
        "description": details.description or None,
        "size": volume.size_gb,
        "status": status_of(entry),
        "attachments": attachments(entry),
        "availability_zone": ZONE,
        "bootable": "true" if details.bootable else "false",
        "encrypted": False,
        "multiattach": False,
        "created_at": _time(entry.created_at),
        "updated_at": _time(entry.updated_at),
        "user_id": volume.user_id,
        "os-vol-tenant-attr:tenant_id": volume.project_id,
        "volume_type": DEFAULT_TYPE,
        "metadata": {},
        "snapshot_id": None,
        "source_volid": None,
        "consistencygroup_id": None,
        "replication_status": None,
    }
    if details.image_id is not None:
        body["volume_image_metadata"] = {"image_id": details.image_id}
    if details.error_message is not None:
        body["error_message"] = details.error_message
    return body
