"""What travels with a fake guest when it is live-migrated (``MovableState``, ``GuestState``)
and its JSON form on a :class:`~cumulo.virt.fake_network.FakeMigrationChannel`."""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import msgspec

from cumulo.model import InjectedFile, NetworkInfo, PowerState
from cumulo.objects import VersionedObject


class MovableState(msgspec.Struct, kw_only=True):
    """The part of a guest record that moves with the guest: its power state, what
    was applied to it, and the counters its operations added. ``Guest`` (the record)
    and ``GuestState`` (the document) both extend it, so moving a guest copies these
    fields by their declaration, not one by one."""

    power_state: PowerState = PowerState.SHUTDOWN
    network_info: NetworkInfo = msgspec.field(default_factory=NetworkInfo)
    files: dict[str, InjectedFile] = msgspec.field(default_factory=dict)
    admin_password_set: bool = False
    config_drive: bool = False
    boot_count: int = 0
    network_injections: int = 0
    network_resets: int = 0
    boot_read_bytes: int = 0
    config_write_bytes: int = 0
    config_write_requests: int = 0
    nic_extra: dict[UUID, list[int]] = msgspec.field(default_factory=dict)
    """Extra NIC traffic from operations, per VIF id: [rx bytes, rx packets, tx
    bytes, tx packets]."""

    def movable(self) -> dict[str, Any]:
        """The fields of :class:`MovableState`, by name (shared, not copied)."""
        return {name: getattr(self, name) for name in MovableState.__struct_fields__}


class GuestState(MovableState, kw_only=True):
    """A guest as its source hands it to the destination: its movable state, how
    long it has run, and what the destination checks its arrival against.

    On a migration channel it is this struct as JSON: the document release 0.1 and
    0.2 hosts write and read (the same keys, each value in the same form: UUIDs and
    the storage pool as strings, the power state as Nova's integer, objects as
    their primitives, ``volume_ids``/``vif_ids`` as sorted lists). In one process it
    goes through the same encoding, so both paths carry exactly the same thing and
    the destination never shares an object with the source.
    """

    block_migration: bool
    """The source copies the guest's local disks to the destination."""
    uuid: UUID
    run_s: float
    """Seconds the guest has been running (its counters advance with them)."""
    uptime_s: float | None
    """Seconds since it last booted (``None``: it is not up)."""
    volume_ids: list[UUID]
    """The volumes connected to it on the source, sorted: all must be connected here."""
    vif_ids: list[UUID]
    """Its VIFs plugged on the source, sorted: all must be plugged here."""
    filtered: bool
    """It has a firewall filter on the source (so it needs one here)."""
    volume_backed: bool
    local_disk: bool
    """It has local disks (shared with the destination, or copied by a block migration)."""
    storage: str
    """The name of the source's instance storage pool."""

    def encode(self) -> bytes:
        """This state as JSON (what a migration channel carries)."""
        return _ENCODER.encode(self)

    @classmethod
    def decode(cls, payload: bytes) -> GuestState:
        """The state ``payload`` holds, as any release of the fake driver writes it.

        Raises:
            msgspec.ValidationError: ``payload`` is not such a document; the message
                names the path of the bad value (``$.power_state``...).
        """
        return _DECODER.decode(payload)


def _to_primitive(value: Any) -> Any:
    if isinstance(value, VersionedObject):
        return value.obj_to_primitive()
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


def _from_primitive(kind: type, value: Any) -> Any:
    if isinstance(kind, type) and issubclass(kind, VersionedObject):
        return kind.obj_from_primitive(value)
    raise NotImplementedError(f"cannot decode {kind}")


_ENCODER: Final = msgspec.json.Encoder(enc_hook=_to_primitive)
_DECODER: Final = msgspec.json.Decoder(GuestState, dec_hook=_from_primitive)
