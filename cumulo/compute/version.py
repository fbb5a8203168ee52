"""The compute service's version: one integer per release, recorded in the
``services`` table so peers can tell which release a host runs.

:data:`SERVICE_VERSION_HISTORY` says, for each level, the compute RPC API version
and the object manifest (``{object name: version}``) a compute at that level
understands. Entries never change once their release is cut (each released
level's manifest digest is recorded in ``upgrade/releases.json`` and tested); each
is the level before it plus what its release changed, spelled out. A release that
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


SERVICE_VERSION: Final = 3
"""1: release 0.1, the first compute service (compute RPC 1.0, every object at 1.0).
2: release 0.2 (compute RPC 1.1: read-only volume attach, console output; Instance,
BlockDeviceMapping, LiveMigrateData 1.1 and the objects that carry them).
3: release 0.3, in development (compute RPC 1.2: volume attach with a device tag and
delete-on-termination; Instance 1.2: access addresses, reservation id and launch
index; Flavor 1.1: remotable description and extra-spec writes; InstanceAction 1.1:
the lock and unlock actions; SecurityGroupRule 1.1: protocol ``any``, and SecurityGroup
1.1: timestamps and the Networking API's update and delete; NetworkRequest(List) and
PortAllocation 1.0: fleet-wide network allocation)."""


@dataclass(frozen=True)
class SkewPolicy:
    """How far behind the control plane a compute host may run: a release serves
    computes at its own level and at the ``releases_behind`` levels before it (one
    level per release), and refuses older ones.

    Upgrading a compute in place from any supported level straight to this release
    is allowed (skipping the releases in between): a compute keeps no database, and
    this release's conductor serves every supported level.
    """

    releases_behind: int

    def oldest_supported(self, current: int) -> int:
        """The lowest level a release at level ``current`` serves."""
        return max(1, current - self.releases_behind)

    def first_level_without(self, level: int) -> int:
        """The level of the first release that no longer serves ``level``."""
        return level + self.releases_behind + 1

    def behind(self, level: int, current: int) -> str:
        """``N``, ``N-1``, ``N-2``... of ``level`` seen from ``current``."""
        return "N" if level == current else f"N{level - current:+d}"


SKEW_POLICY: Final = SkewPolicy(releases_behind=2)
"""N-2: while 0.3 is developed, computes on 0.1 and 0.2 are served."""

OLDEST_SUPPORTED_SERVICE_VERSION: Final = SKEW_POLICY.oldest_supported(SERVICE_VERSION)
"""The lowest compute level this code works with (by :data:`SKEW_POLICY`); older
computes are refused by the conductor and reported by ``cumulo upgrade check``."""


_LEVEL_1: Final[Mapping[str, str]] = MappingProxyType(
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
)
"""Release 0.1's manifest: every object at 1.0, written out literally."""

_RELEASED_LEVELS: Final[tuple[ServiceLevel, ...]] = (
    # 0: no computes (the minimum over an empty fleet): nothing to pin to.
    ServiceLevel(compute_rpc="1.0", object_manifest=MappingProxyType({})),
    # 1: release 0.1.
    ServiceLevel(compute_rpc="1.0", object_manifest=_LEVEL_1, release="0.1"),
    # 2: release 0.2: level 1 and what 0.2 changed.
    ServiceLevel(
        compute_rpc="1.1",
        object_manifest=MappingProxyType(
            {
                **_LEVEL_1,
                "BlockDeviceMapping": "1.1",
                "BlockDeviceMappingList": "1.1",
                "ImageMeta": "1.1",
                "ImageMetaProps": "1.1",
                "Instance": "1.1",
                "InstanceList": "1.1",
                "LiveMigrateBDMInfo": "1.1",
                "LiveMigrateData": "1.1",
            }
        ),
        release="0.2",
    ),
)
"""Levels 0 to 2: released, frozen (``upgrade/releases.json`` holds their digests)."""

SERVICE_VERSION_HISTORY: Final[tuple[ServiceLevel, ...]] = (
    *_RELEASED_LEVELS,
    # 3: release 0.3 (in development): level 2 and what this release changed.
    ServiceLevel(
        compute_rpc="1.2",
        object_manifest=MappingProxyType(
            {
                **_RELEASED_LEVELS[2].object_manifest,
                "Flavor": "1.1",
                "FlavorList": "1.1",
                "Instance": "1.2",
                "InstanceAction": "1.1",
                "InstanceActionList": "1.1",
                "InstanceList": "1.2",
                "SecurityGroup": "1.1",
                "SecurityGroupList": "1.1",
                "SecurityGroupRule": "1.1",
                "NetworkRequest": "1.0",
                "NetworkRequestList": "1.0",
                "PortAllocation": "1.0",
            }
        ),
        release="0.3",
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


def level_of_manifest(manifest: Mapping[str, str]) -> int | None:
    """The oldest known level whose manifest agrees with every ``{name: version}`` of
    ``manifest`` (a peer's object tree), or ``None``: what attributes a backport asked
    by a peer to that peer's level. A tree of objects that never changed matches level
    1, but no peer asks to backport those."""
    for number, entry in enumerate(SERVICE_VERSION_HISTORY):
        if number and all(entry.object_manifest.get(n) == v for n, v in manifest.items()):
            return number
    return None


def release_of(version: int) -> str:
    """The release that introduced level ``version``: its history entry's, or for a
    level this code does not know yet the one numbering gives (release 0.N is level N
    while the major version is 0; ``tests/compute/test_version.py`` holds it to that)."""
    if 0 < version < len(SERVICE_VERSION_HISTORY):
        named = SERVICE_VERSION_HISTORY[version].release
        if named is not None:
            return named
    return f"0.{version}"


@dataclass(frozen=True)
class Capability:
    """Something a compute host can do only from a service level on: the requests an
    older host cannot serve are refused before they are sent
    (:class:`~cumulo.compute.exceptions.ComputeTooOld`)."""

    what: str
    """What is asked, as in "cannot <what>"."""
    compute_rpc: str
    """The compute RPC version that carries it."""
    since: int
    """The first service level that can."""


ATTACH_READ_ONLY: Final = Capability("attach a volume read-only", "1.1", 2)
CONSOLE_OUTPUT: Final = Capability("show a console output", "1.1", 2)
ATTACH_WITH_TAG: Final = Capability("attach a volume with a device tag", "1.2", 3)
ATTACH_DELETE_ON_TERMINATION: Final = Capability(
    "attach a volume deleted with its server", "1.2", 3
)

CAPABILITIES: Final[tuple[Capability, ...]] = (
    ATTACH_READ_ONLY,
    CONSOLE_OUTPUT,
    ATTACH_WITH_TAG,
    ATTACH_DELETE_ON_TERMINATION,
)
"""Every capability newer than level 1, oldest first."""


def missing_capabilities(version: int) -> list[Capability]:
    """What a compute at level ``version`` cannot do that this code's level can."""
    return [c for c in CAPABILITIES if c.since > version]


def support_status(version: int) -> str:
    """How this code sees a compute at level ``version``, for operators: its place in
    the skew window and the release that stops serving it."""
    release = release_of(version)
    place = SKEW_POLICY.behind(version, SERVICE_VERSION)
    if version > SERVICE_VERSION:
        return f"level {version} (release {release}), newer than this code: upgrade it first"
    if version < OLDEST_SUPPORTED_SERVICE_VERSION:
        return (
            f"level {version} (release {release}), {place}: unsupported since release "
            f"{release_of(SKEW_POLICY.first_level_without(version))}"
        )
    if version == SERVICE_VERSION:
        return f"level {version} (release {release}), N: current"
    ends = SKEW_POLICY.first_level_without(version)
    return (
        f"level {version} (release {release}), {place}: supported; release "
        f"{release_of(ends)} (level {ends}) will refuse it"
    )


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
            f"release supports ({OLDEST_SUPPORTED_SERVICE_VERSION}, release "
            f"{release_of(OLDEST_SUPPORTED_SERVICE_VERSION)}; the skew policy serves "
            f"N-{SKEW_POLICY.releases_behind}): upgrade it to a release at level "
            f"{OLDEST_SUPPORTED_SERVICE_VERSION} or newer"
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
