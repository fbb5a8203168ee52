"""``FakeConfig``: what an operator sets for a fake host (capacity, address, the
migration channel's directory, shared storage, CPU, MACs, DHCP options, base images)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar, Final

from cumulo.model import Architecture, DhcpOption

from ..config import DriverConfig

DEFAULT_VCPUS: Final = 64
DEFAULT_MEMORY_MB: Final = 256 * 1024
DEFAULT_DISK_GB: Final = 4096
DEFAULT_CPU_FEATURES: Final = ("sse4_2", "avx", "avx2", "aes")


@dataclasses.dataclass(frozen=True, kw_only=True)
class FakeConfig(DriverConfig):
    """The fake driver's configuration (see :class:`~cumulo.virt.fake.FakeDriver`).

    ``vcpus``, ``memory_mb``, ``disk_gb`` (``None``: 64 vCPUs, 256 GiB, 4 TiB) are
    the host's capacity, with no overcommit; ``host_ip`` (``None``: the next address
    of the fake network, else ``127.0.0.1``).
    """

    driver: ClassVar[str] = "fake"

    migration_channel: Path | None = None
    """A directory the fake hosts of several processes share to live-migrate guests
    between processes (:class:`~cumulo.virt.fake_network.FakeMigrationChannel`)."""
    storage_pool: str | None = None
    """The instance storage this host uses; hosts on one network naming the same pool
    share instance storage (``None``: the host's own)."""
    cpu_arch: Architecture = Architecture.X86_64
    cpu_model: str = "fake-cpu"
    cpu_features: tuple[str, ...] = DEFAULT_CPU_FEATURES
    """The host CPU (live migration needs the destination to have every feature of
    the source)."""
    mac_pool: tuple[str, ...] | None = None
    """MACs the host's NICs are fixed to (``macs_for_instance``); VIFs with other MACs
    cannot be plugged. ``None``: any MAC."""
    dhcp_options: tuple[DhcpOption, ...] = ()
    """Extra DHCP options the host's guests need (PXE...); not settable as options."""
    images_path: Path | None = None
    """The host's base images, one file per ``image_ref`` (where a host that fetches
    images from the image API caches them). A guest spawned from an image found
    there records the file's MD5 and SHA-512; ``None``: the fake boots any image
    and records only the checksum its ``ImageMeta`` carries."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("vcpus", "memory_mb", "disk_gb"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name}: expected a capacity >= 0, got {value}")
        # Given as any iterable (a list, a set), kept as a tuple: the config is frozen.
        object.__setattr__(self, "cpu_features", tuple(self.cpu_features))
        if self.mac_pool is not None:
            object.__setattr__(self, "mac_pool", tuple(self.mac_pool))
        object.__setattr__(self, "dhcp_options", tuple(self.dhcp_options))
