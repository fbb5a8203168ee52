"""How a host reaches a volume: the host's ``VolumeConnector`` and the volume's
``VolumeConnectionInfo``.

Attaching is a handshake: the driver describes its host (``get_volume_connector``),
the volume store answers with connection info for that host, and the driver
connects and hands the disk to the guest. Nova passed both as dicts; here each
is an object with the fields Cumulo's backends use.
"""

from __future__ import annotations

import enum
import ipaddress
from uuid import UUID

from cumulo.objects import field, register

from .base import CumuloObject
from .hardware import Architecture, OsType


class VolumeDriverType(enum.StrEnum):
    """The transport a volume is reached over."""

    FILE = "file"
    """A file on a filesystem every host that uses it can read (the local store)."""
    LOCAL = "local"
    """A block device already on the host."""
    ISCSI = "iscsi"
    NFS = "nfs"
    RBD = "rbd"


class AccessMode(enum.StrEnum):
    READ_WRITE = "rw"
    READ_ONLY = "ro"


@register
class VolumeConnector(CumuloObject):
    """What a host offers to connect volumes: its address, name and initiators.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    host: str
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    initiator: str | None = None
    """The host's iSCSI initiator name (IQN), if it has one."""
    wwpns: list[str] = field(default_factory=list)
    wwnns: list[str] = field(default_factory=list)
    nqn: str | None = None
    """The host's NVMe-oF qualified name, if it has one."""
    multipath: bool = False
    platform: Architecture = Architecture.X86_64
    os_type: OsType = OsType.LINUX
    do_local_attach: bool = False


@register
class VolumeConnectionInfo(CumuloObject):
    """How the host the info was made for reaches one volume.

    Fields beyond ``driver_volume_type``, ``volume_id`` and ``serial`` belong to
    one transport each and are ``None`` for the others: ``path`` for ``file`` and
    ``local``, ``target_*`` for ``iscsi``, ``export`` for ``nfs``, ``name`` and
    ``hosts`` for ``rbd``. ``device_path`` is set by the host once connected.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    driver_volume_type: VolumeDriverType
    volume_id: UUID
    serial: str
    """What the guest sees as the disk's serial number (usually the volume id)."""
    access_mode: AccessMode = AccessMode.READ_WRITE
    attachment_id: UUID | None = None
    path: str | None = None
    device_path: str | None = None
    target_portal: str | None = None
    target_iqn: str | None = None
    target_lun: int | None = None
    export: str | None = None
    name: str | None = None
    hosts: list[str] = field(default_factory=list)
    encrypted: bool = False
    multiattach: bool = False
    qos_read_iops_sec: int | None = None
    qos_write_iops_sec: int | None = None
