"""The compute service's version: one integer per release, recorded in the
``services`` table so peers can tell which release a host runs.

:data:`SERVICE_VERSION_HISTORY` says, for each level, the compute RPC API version
and the object manifest (``{object name: version}``) a compute at that level
understands. Entries are written out literally and never change: a release that
bumps an object or the compute RPC API bumps :data:`SERVICE_VERSION` and appends
an entry (``tests/compute/test_version.py`` fails otherwise).

This module imports nothing from Cumulo: the conductor and the command line read
it without loading the compute manager.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class ServiceLevel:
    """What a compute service at one level understands."""

    compute_rpc: str
    """The newest compute RPC API version it serves."""
    object_manifest: Mapping[str, str]
    """``{object name: version}`` of every Cumulo object it can read."""
    release: str | None = None
    """The release that introduced the level (``upgrade/releases.json``)."""


SERVICE_VERSION: Final = 2
"""1: release 0.1, the first compute service (compute RPC 1.0, every object at 1.0).
2: release 0.2 (compute RPC 1.1: read-only volume attach, console output; Instance,
BlockDeviceMapping, LiveMigrateData 1.1 and the objects that carry them)."""

OLDEST_SUPPORTED_SERVICE_VERSION: Final = 1
"""The lowest compute level this code works with (N-1); older computes are refused."""

SERVICE_VERSION_HISTORY: Final[tuple[ServiceLevel, ...]] = (
    # 0: no computes (the minimum over an empty fleet): nothing to pin to.
    ServiceLevel(compute_rpc="1.0", object_manifest=MappingProxyType({})),
    # 1: release 0.1.
    ServiceLevel(
        compute_rpc="1.0",
        object_manifest=MappingProxyType(
            {
                "AvailableResource": "1.0",
                "BlockDeviceInfo": "1.0",
                "BlockDeviceMapping": "1.0",
                "BlockDeviceMappingList": "1.0",
                "ComputeNode": "1.0",
                "ComputeNodeList": "1.0",
                "CpuDiagnostics": "1.0",
                "CpuInfo": "1.0",
                "CpuTopology": "1.0",
                "DhcpOption": "1.0",
                "DhcpOptionList": "1.0",
                "Diagnostics": "1.0",
                "DiskDiagnostics": "1.0",
                "FixedIP": "1.0",
                "Flavor": "1.0",
                "FlavorList": "1.0",
                "ImageMeta": "1.0",
                "ImageMetaProps": "1.0",
                "InjectedFile": "1.0",
                "Instance": "1.0",
                "InstanceAction": "1.0",
                "InstanceActionEvent": "1.0",
                "InstanceActionEventList": "1.0",
                "InstanceActionList": "1.0",
                "InstanceFault": "1.0",
                "InstanceInfo": "1.0",
                "InstanceInfoCache": "1.0",
                "InstanceList": "1.0",
                "LiveMigrateBDMInfo": "1.0",
                "LiveMigrateData": "1.0",
                "MacConstraint": "1.0",
                "MemoryDiagnostics": "1.0",
                "Migration": "1.0",
                "MigrationList": "1.0",
                "Network": "1.0",
                "NetworkInfo": "1.0",
                "NicDiagnostics": "1.0",
                "Route": "1.0",
                "SecurityGroup": "1.0",
                "SecurityGroupList": "1.0",
                "SecurityGroupRule": "1.0",
                "Service": "1.0",
                "ServiceList": "1.0",
                "SharedStorageProbe": "1.0",
                "Subnet": "1.0",
                "SupportedInstance": "1.0",
                "VIF": "1.0",
                "VIFMigrateData": "1.0",
                "Volume": "1.0",
                "VolumeConnectionInfo": "1.0",
                "VolumeConnector": "1.0",
                "VolumeList": "1.0",
            }
        ),
        release="0.1",
    ),
    # 2: release 0.2.
    ServiceLevel(
        compute_rpc="1.1",
        object_manifest=MappingProxyType(
            {
                "AvailableResource": "1.0",
                "BlockDeviceInfo": "1.0",
                "BlockDeviceMapping": "1.1",
                "BlockDeviceMappingList": "1.1",
                "ComputeNode": "1.0",
                "ComputeNodeList": "1.0",
                "CpuDiagnostics": "1.0",
                "CpuInfo": "1.0",
                "CpuTopology": "1.0",
                "DhcpOption": "1.0",
                "DhcpOptionList": "1.0",
                "Diagnostics": "1.0",
                "DiskDiagnostics": "1.0",
                "FixedIP": "1.0",
                "Flavor": "1.0",
                "FlavorList": "1.0",
                "ImageMeta": "1.1",
                "ImageMetaProps": "1.1",
                "InjectedFile": "1.0",
                "Instance": "1.1",
                "InstanceAction": "1.0",
                "InstanceActionEvent": "1.0",
                "InstanceActionEventList": "1.0",
                "InstanceActionList": "1.0",
                "InstanceFault": "1.0",
                "InstanceInfo": "1.0",
                "InstanceInfoCache": "1.0",
                "InstanceList": "1.1",
                "LiveMigrateBDMInfo": "1.1",
                "LiveMigrateData": "1.1",
                "MacConstraint": "1.0",
                "MemoryDiagnostics": "1.0",
                "Migration": "1.0",
                "MigrationList": "1.0",
                "Network": "1.0",
                "NetworkInfo": "1.0",
                "NicDiagnostics": "1.0",
                "Route": "1.0",
                "SecurityGroup": "1.0",
                "SecurityGroupList": "1.0",
                "SecurityGroupRule": "1.0",
                "Service": "1.0",
                "ServiceList": "1.0",
                "SharedStorageProbe": "1.0",
                "Subnet": "1.0",
                "SupportedInstance": "1.0",
                "VIF": "1.0",
                "VIFMigrateData": "1.0",
                "Volume": "1.0",
                "VolumeConnectionInfo": "1.0",
                "VolumeConnector": "1.0",
                "VolumeList": "1.0",
            }
        ),
        release="0.2",
    ),
)
"""Indexed by service level; the last entry is this code's (``SERVICE_VERSION``)."""


def level(version: int) -> ServiceLevel:
    """The history entry of ``version``.

    Raises:
        LookupError: ``version`` is negative or newer than this code knows.
    """
    if not 0 <= version < len(SERVICE_VERSION_HISTORY):
        raise LookupError(
            f"service version {version} is unknown to this code "
            f"(levels 0..{len(SERVICE_VERSION_HISTORY) - 1})"
        )
    return SERVICE_VERSION_HISTORY[version]


def levels_summary() -> list[str]:
    """One line per known level: its number, release, compute RPC API and manifest size,
    marking this code's level and the oldest supported one."""
    lines = []
    for number, entry in enumerate(SERVICE_VERSION_HISTORY):
        if number == 0:
            lines.append("level 0: no computes (no pin)")
            continue
        marks = []
        if number == SERVICE_VERSION:
            marks.append("this code")
        if number == OLDEST_SUPPORTED_SERVICE_VERSION:
            marks.append("oldest supported")
        if number < OLDEST_SUPPORTED_SERVICE_VERSION:
            marks.append("unsupported")
        suffix = f" [{', '.join(marks)}]" if marks else ""
        lines.append(
            f"level {number}: release {entry.release or '?'}, compute RPC {entry.compute_rpc}, "
            f"{len(entry.object_manifest)} objects{suffix}"
        )
    return lines


class UnsupportedServiceVersion(RuntimeError):
    """A service's level cannot work with this code (a guard rail of the rolling upgrade)."""


def check_compute_level(host: str, version: int) -> None:
    """Refuse a compute at ``version`` that this code cannot serve.

    Raises:
        UnsupportedServiceVersion: below :data:`OLDEST_SUPPORTED_SERVICE_VERSION`,
            or newer than this code's :data:`SERVICE_VERSION`.
    """
    if version < OLDEST_SUPPORTED_SERVICE_VERSION:
        raise UnsupportedServiceVersion(
            f"compute {host} is at service level {version}, below the oldest level this "
            f"release supports ({OLDEST_SUPPORTED_SERVICE_VERSION}): upgrade it to a "
            f"release at level {OLDEST_SUPPORTED_SERVICE_VERSION} or newer"
        )
    if version > SERVICE_VERSION:
        raise UnsupportedServiceVersion(
            f"compute {host} is at service level {version}, newer than this code "
            f"({SERVICE_VERSION}): upgrade the conductor first"
        )


class ServiceTooNew(UnsupportedServiceVersion):
    """A compute runs a newer service level than this code knows: upgrade this
    service (the conductor, the API) before the computes."""

    def __init__(self, host: str, version: int) -> None:
        self.host = host
        self.version = version
        super().__init__(
            f"compute {host} is at service level {version}, newer than this code "
            f"({SERVICE_VERSION}): upgrade this service before the computes "
            "(order: conductor -> api -> computes)"
        )
