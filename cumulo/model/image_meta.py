"""``ImageMeta``: the image an instance boots from, and its typed properties."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from cumulo.objects import field, register

from .base import CumuloObject
from .hardware import (
    Architecture,
    ContainerFormat,
    DiskBus,
    DiskFormat,
    FirmwareType,
    OsType,
    VideoModel,
    VIFModel,
)


@register
class ImageMetaProps(CumuloObject):
    """The image properties drivers read to build the guest; ``None`` means "not
    set on the image: use the driver's default".

    History: 1.0 first version. 1.1: ``hw_disk_bus``/``hw_cdrom_bus`` may be ``nvme``.
    """

    VERSION = "1.1"

    hw_architecture: Architecture | None = None
    hw_machine_type: str | None = None
    """The emulated machine (``q35``, ``pc-i440fx-8.2``...)."""
    hw_firmware_type: FirmwareType | None = None
    hw_disk_bus: DiskBus | None = field(default=None, values_added={"1.1": [DiskBus.NVME]})
    hw_cdrom_bus: DiskBus | None = field(default=None, values_added={"1.1": [DiskBus.NVME]})
    hw_scsi_model: str | None = None
    hw_vif_model: VIFModel | None = None
    hw_video_model: VideoModel | None = None
    hw_qemu_guest_agent: bool | None = None
    hw_rng_model: str | None = None
    hw_cpu_sockets: int | None = None
    hw_cpu_cores: int | None = None
    hw_cpu_threads: int | None = None
    hw_boot_menu: bool | None = None
    img_config_drive_mandatory: bool | None = None
    """The image needs a config drive to boot (no metadata service)."""
    os_type: OsType | None = None
    os_distro: str | None = None
    os_version: str | None = None


@register
class ImageMeta(CumuloObject):
    """An image's metadata as the image service describes it.

    History: 1.0 first version. 1.1: ImageMetaProps 1.1.
    """

    VERSION = "1.1"

    id: UUID | None = None
    """``None`` for an instance booted from a volume with no image."""
    name: str = ""
    container_format: ContainerFormat = ContainerFormat.BARE
    disk_format: DiskFormat = DiskFormat.QCOW2
    size: int = 0
    """Bytes."""
    virtual_size: int | None = None
    min_ram: int = 0
    """MiB the image needs at least."""
    min_disk: int = 0
    """GiB the root disk needs at least."""
    checksum: str | None = None
    created_at: datetime | None = None
    properties: ImageMetaProps = field(default_factory=ImageMetaProps)
