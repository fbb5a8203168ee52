"""What a live migration carries from the source to the destination, and its form on
a :class:`~cumulo.virt.fake_network.FakeMigrationChannel`."""

from __future__ import annotations

import dataclasses
import json
from uuid import UUID

from cumulo.model import InjectedFile, NetworkInfo, PowerState

from ..fake_network import FakeStorage


@dataclasses.dataclass(frozen=True)
class Transfer:
    """What a live migration carries from source to destination."""

    uuid: UUID
    power_state: PowerState
    run_s: float
    uptime_s: float | None
    network_info: NetworkInfo
    files: dict[str, InjectedFile]
    admin_password_set: bool
    config_drive: bool
    boot_count: int
    network_injections: int
    network_resets: int
    boot_read_bytes: int
    config_write_bytes: int
    config_write_requests: int
    nic_extra: dict[UUID, list[int]]
    volume_ids: frozenset[UUID]
    vif_ids: frozenset[UUID]
    filtered: bool
    volume_backed: bool
    local_disk: bool
    storage: FakeStorage
    # Neither travels on a FakeMigrationChannel (its format is release 0.1's): a
    # guest that came through one starts a fresh console.
    console: tuple[str, ...] | None = None
    source_host: str | None = None


def encode_transfer(transfer: Transfer, block_migration: bool) -> bytes:
    """What a guest's state looks like on a :class:`FakeMigrationChannel` (JSON)."""
    return json.dumps(
        {
            "block_migration": block_migration,
            "uuid": str(transfer.uuid),
            "power_state": transfer.power_state.value,
            "run_s": transfer.run_s,
            "uptime_s": transfer.uptime_s,
            "network_info": transfer.network_info.obj_to_primitive(),
            "files": {path: f.obj_to_primitive() for path, f in transfer.files.items()},
            "admin_password_set": transfer.admin_password_set,
            "config_drive": transfer.config_drive,
            "boot_count": transfer.boot_count,
            "network_injections": transfer.network_injections,
            "network_resets": transfer.network_resets,
            "boot_read_bytes": transfer.boot_read_bytes,
            "config_write_bytes": transfer.config_write_bytes,
            "config_write_requests": transfer.config_write_requests,
            "nic_extra": {str(vid): c for vid, c in transfer.nic_extra.items()},
            "volume_ids": sorted(str(v) for v in transfer.volume_ids),
            "vif_ids": sorted(str(v) for v in transfer.vif_ids),
            "filtered": transfer.filtered,
            "volume_backed": transfer.volume_backed,
            "local_disk": transfer.local_disk,
            "storage": transfer.storage.name,
        }
    ).encode()


def decode_transfer(payload: bytes) -> tuple[Transfer, bool]:
    """The inverse of :func:`encode_transfer`; the storage is the source's (another
    process's), never the destination's."""
    raw = json.loads(payload)
    network_info = NetworkInfo.obj_from_primitive(raw["network_info"])
    transfer = Transfer(
        uuid=UUID(raw["uuid"]),
        power_state=PowerState(raw["power_state"]),
        run_s=raw["run_s"],
        uptime_s=raw["uptime_s"],
        network_info=network_info,
        files={path: InjectedFile.obj_from_primitive(f) for path, f in raw["files"].items()},
        admin_password_set=raw["admin_password_set"],
        config_drive=raw["config_drive"],
        boot_count=raw["boot_count"],
        network_injections=raw["network_injections"],
        network_resets=raw["network_resets"],
        boot_read_bytes=raw["boot_read_bytes"],
        config_write_bytes=raw["config_write_bytes"],
        config_write_requests=raw["config_write_requests"],
        nic_extra={UUID(vid): list(c) for vid, c in raw["nic_extra"].items()},
        volume_ids=frozenset(UUID(v) for v in raw["volume_ids"]),
        vif_ids=frozenset(UUID(v) for v in raw["vif_ids"]),
        filtered=raw["filtered"],
        volume_backed=raw["volume_backed"],
        local_disk=raw["local_disk"],
        storage=FakeStorage(raw["storage"]),
    )
    return transfer, bool(raw["block_migration"])
