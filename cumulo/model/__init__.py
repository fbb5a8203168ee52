"""Cumulo's compute domain objects: what the conductor, compute nodes and drivers
exchange, all versioned objects in namespace ``"cumulo"``.

Importing this package registers every object. ``objects.lock.json`` beside it
records the fingerprint of every version of every object; ``cumulo objects
check`` (and ``tests/model/test_lockfile.py``) fail when an object changes
without the version bump it needs.

Remotable methods (``Instance.get_by_uuid``, ``instance.save()``...) reach the
database through the :class:`~cumulo.model.storage.Storage` port: the conductor
installs one with :func:`set_storage`; a compute host sets an indirection API
instead, so those calls run in the conductor.
"""

from __future__ import annotations

from pathlib import Path

from .base import CumuloObject
from .block_device import (
    BlockDeviceInfo,
    BlockDeviceMapping,
    BlockDeviceMappingList,
    DestinationType,
    SourceType,
)
from .compute_node import ComputeNode, ComputeNodeList
from .diagnostics import (
    CpuDiagnostics,
    Diagnostics,
    DiskDiagnostics,
    MemoryDiagnostics,
    NicDiagnostics,
)
from .exceptions import (
    AlreadyExists,
    BlockDeviceMappingNotFound,
    ComputeHostNotFound,
    FlavorNotFound,
    InstanceActionEventNotFound,
    InstanceActionNotFound,
    InstanceInfoCacheNotFound,
    InstanceNotFound,
    MigrationNotFound,
    ModelError,
    NoStorageError,
    NotFound,
    ObjectActionError,
    SecurityGroupInUse,
    SecurityGroupNotFound,
    SecurityGroupRuleNotFound,
    ServiceNotFound,
    UnexpectedDeletingTaskStateError,
    UnexpectedStateError,
    UnexpectedTaskStateError,
    UnexpectedVmStateError,
    VolumeNotFound,
)
from .flavor import Flavor, FlavorList
from .hardware import (
    Architecture,
    ContainerFormat,
    DeviceType,
    DiskBus,
    DiskFormat,
    FirmwareType,
    OsType,
    VideoModel,
    VIFModel,
    VIFType,
    VmMode,
    VnicType,
)
from .host_resource import AvailableResource, CpuInfo, CpuTopology, SupportedInstance
from .image_meta import ImageMeta, ImageMetaProps
from .injected_file import InjectedFile
from .instance import LAZY_FIELDS, UNCHECKED, Instance, InstanceList
from .instance_action import (
    ActionEventResult,
    InstanceAction,
    InstanceActionEvent,
    InstanceActionEventList,
    InstanceActionList,
    InstanceActionName,
)
from .instance_fault import InstanceFault
from .instance_info import InstanceInfo
from .instance_info_cache import InstanceInfoCache
from .migrate_data import LiveMigrateBDMInfo, LiveMigrateData, VIFMigrateData
from .migration import Migration, MigrationList
from .network import VIF, FixedIP, Network, NetworkInfo, Route, Subnet
from .network_hints import DhcpOption, DhcpOptionList, MacConstraint
from .port import (
    COMPUTE_DEVICE_OWNER,
    DEFAULT_NETWORK_ID,
    REQUESTED_NETWORKS_KEY,
    NetworkRequest,
    NetworkRequestList,
    PortAllocation,
)
from .security_group import (
    Direction,
    EtherType,
    Protocol,
    SecurityGroup,
    SecurityGroupList,
    SecurityGroupRule,
)
from .service import Service, ServiceBinary, ServiceList
from .shared_storage import SharedStorageProbe
from .states import (
    MigrationStatus,
    MigrationType,
    PowerState,
    RebootType,
    TaskState,
    VmState,
    VolumeStatus,
)
from .storage import Context, InstanceFilters, Storage, get_storage, set_storage
from .volume import Volume, VolumeList
from .volume_connection import (
    AccessMode,
    VolumeConnectionInfo,
    VolumeConnector,
    VolumeDriverType,
)

NAMESPACE = CumuloObject.OBJ_PROJECT_NAMESPACE
"""The project namespace every Cumulo object is registered under."""

LOCKFILE = Path(__file__).with_name("objects.lock.json")
"""The committed fingerprints of every version of every Cumulo object."""

__all__ = [
    "COMPUTE_DEVICE_OWNER",
    "DEFAULT_NETWORK_ID",
    "LAZY_FIELDS",
    "LOCKFILE",
    "NAMESPACE",
    "REQUESTED_NETWORKS_KEY",
    "UNCHECKED",
    "VIF",
    "AccessMode",
    "ActionEventResult",
    "AlreadyExists",
    "Architecture",
    "AvailableResource",
    "BlockDeviceInfo",
    "BlockDeviceMapping",
    "BlockDeviceMappingList",
    "BlockDeviceMappingNotFound",
    "ComputeHostNotFound",
    "ComputeNode",
    "ComputeNodeList",
    "ContainerFormat",
    "Context",
    "CpuDiagnostics",
    "CpuInfo",
    "CpuTopology",
    "CumuloObject",
    "DestinationType",
    "DeviceType",
    "DhcpOption",
    "DhcpOptionList",
    "Diagnostics",
    "Direction",
    "DiskBus",
    "DiskDiagnostics",
    "DiskFormat",
    "EtherType",
    "FirmwareType",
    "FixedIP",
    "Flavor",
    "FlavorList",
    "FlavorNotFound",
    "ImageMeta",
    "ImageMetaProps",
    "InjectedFile",
    "Instance",
    "InstanceAction",
    "InstanceActionEvent",
    "InstanceActionEventList",
    "InstanceActionEventNotFound",
    "InstanceActionList",
    "InstanceActionName",
    "InstanceActionNotFound",
    "InstanceFault",
    "InstanceFilters",
    "InstanceInfo",
    "InstanceInfoCache",
    "InstanceInfoCacheNotFound",
    "InstanceList",
    "InstanceNotFound",
    "LiveMigrateBDMInfo",
    "LiveMigrateData",
    "MacConstraint",
    "MemoryDiagnostics",
    "Migration",
    "MigrationList",
    "MigrationNotFound",
    "MigrationStatus",
    "MigrationType",
    "ModelError",
    "Network",
    "NetworkInfo",
    "NetworkRequest",
    "NetworkRequestList",
    "NicDiagnostics",
    "NoStorageError",
    "NotFound",
    "ObjectActionError",
    "OsType",
    "PortAllocation",
    "PowerState",
    "Protocol",
    "RebootType",
    "Route",
    "SecurityGroup",
    "SecurityGroupInUse",
    "SecurityGroupList",
    "SecurityGroupNotFound",
    "SecurityGroupRule",
    "SecurityGroupRuleNotFound",
    "Service",
    "ServiceBinary",
    "ServiceList",
    "ServiceNotFound",
    "SharedStorageProbe",
    "SourceType",
    "Storage",
    "Subnet",
    "SupportedInstance",
    "TaskState",
    "UnexpectedDeletingTaskStateError",
    "UnexpectedStateError",
    "UnexpectedTaskStateError",
    "UnexpectedVmStateError",
    "VIFMigrateData",
    "VIFModel",
    "VIFType",
    "VideoModel",
    "VmMode",
    "VmState",
    "VnicType",
    "Volume",
    "VolumeConnectionInfo",
    "VolumeConnector",
    "VolumeDriverType",
    "VolumeList",
    "VolumeNotFound",
    "VolumeStatus",
    "get_storage",
    "set_storage",
]
