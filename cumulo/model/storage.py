"""The storage port: the database operations behind the objects' remotable methods.

``cumulo/model`` never imports the database layer. The conductor installs an
implementation of :class:`Storage` (``cumulo/db``) with :func:`set_storage`; a
compute host installs none and sets ``CumuloObject.indirection_api`` instead, so
its remotable calls run in the conductor. A remotable method that runs locally
in a process with neither gets :class:`~cumulo.model.exceptions.NoStorageError`.

Contract for implementations:

- objects returned are fully loaded for the fields they are asked for
  (``expected_attrs``) and carry no pending changes (the object side resets them
  anyway);
- ``*_save`` methods get only the changed fields (``{field: typed value}``) and
  return the whole row as it is after the write;
- lookups that match nothing raise the ``*NotFound`` of
  :mod:`cumulo.model.exceptions`; ``instance_save`` raises
  ``UnexpectedTaskStateError`` / ``UnexpectedVmStateError`` and writes nothing
  when the compare-and-swap fails.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .exceptions import NoStorageError
from .states import TaskState, VmState

if TYPE_CHECKING:
    from .allocation import Allocation, NodeUsage, Resources
    from .block_device import BlockDeviceMapping
    from .compute_node import ComputeNode
    from .flavor import Flavor
    from .instance import Instance
    from .instance_action import ActionEventResult, InstanceAction, InstanceActionEvent
    from .instance_fault import InstanceFault
    from .instance_info_cache import InstanceInfoCache
    from .migration import Migration
    from .network import NetworkInfo
    from .network_hints import MacConstraint
    from .port import NetworkRequest
    from .security_group import SecurityGroup, SecurityGroupRule
    from .service import Service, ServiceBinary
    from .volume import Volume


class Context(Protocol):
    """What the objects read from a request context (``cumulo.rpc.RequestContext``
    fits): who asks, and the request id that actions are recorded under."""

    @property
    def request_id(self) -> str: ...

    @property
    def user_id(self) -> str | None: ...

    @property
    def project_id(self) -> str | None: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class InstanceFilters:
    """What ``InstanceList.get_all`` selects on; ``None`` means "any"."""

    host: str | None = None
    node: str | None = None
    project_id: str | None = None
    vm_states: tuple[VmState, ...] | None = None
    uuids: tuple[uuid.UUID, ...] | None = None
    include_deleted: bool = False
    limit: int | None = None
    """At most this many instances, oldest first."""


@runtime_checkable
class Storage(Protocol):
    """The database, as the objects need it. ``cumulo/db`` implements it."""

    # --- instances ----------------------------------------------------------------------

    def instance_create(self, context: Context, instance: Instance) -> Instance:
        """Insert ``instance`` (every set field; ``id`` is assigned; its security
        groups are linked, its info cache created). Returns the stored row with
        ``created_at`` set. Raises ``AlreadyExists`` for a used uuid."""
        ...

    def instance_get_by_uuid(
        self, context: Context, instance_uuid: uuid.UUID, expected_attrs: Sequence[str]
    ) -> Instance:
        """The instance (soft-deleted ones too), with the lazy fields named in
        ``expected_attrs`` loaded in the same query. Raises ``InstanceNotFound``."""
        ...

    def instance_get_all_by_host(
        self, context: Context, host: str, expected_attrs: Sequence[str]
    ) -> list[Instance]:
        """The host's instances that are not deleted, oldest first."""
        ...

    def instance_get_all(
        self, context: Context, filters: InstanceFilters, expected_attrs: Sequence[str]
    ) -> list[Instance]:
        """The instances matching ``filters``, oldest first."""
        ...

    def instance_save(
        self,
        context: Context,
        instance_uuid: uuid.UUID,
        changes: dict[str, Any],
        expected_task_state: tuple[TaskState | None, ...] | None,
        expected_vm_state: tuple[VmState, ...] | None,
    ) -> Instance:
        """Write ``changes`` in one atomic compare-and-swap: only if the row's
        task_state is one of ``expected_task_state`` and its vm_state one of
        ``expected_vm_state`` (``None``: not checked). ``changes`` may hold
        ``flavor``, ``security_groups`` (a ``SecurityGroupList``: the new set of
        groups) and ``tags`` besides columns. Sets ``updated_at``. A building
        instance saved into ERROR (its build failed) loses its allocations in the
        same transaction, whatever release the saving host runs. Returns the row
        after the write, with the lazy fields that ``changes`` touched loaded.
        Raises ``UnexpectedTaskStateError`` / ``UnexpectedVmStateError`` (nothing
        written) or ``InstanceNotFound``."""
        ...

    def instance_destroy(self, context: Context, instance_uuid: uuid.UUID) -> Instance:
        """Soft-delete: mark the instance, its info cache and block device mappings
        deleted (``deleted_at`` set; rows kept) and drop its allocations. Returns
        the deleted row."""
        ...

    def instance_load_attr(self, context: Context, instance_uuid: uuid.UUID, name: str) -> Any:
        """The value of lazy field ``name`` of an instance: a ``Flavor``, an
        ``InstanceInfoCache``, a ``SecurityGroupList``, the latest ``InstanceFault``
        or ``None``, or the ``list[str]`` of tags."""
        ...

    # --- instance info caches -----------------------------------------------------------

    def info_cache_get(self, context: Context, instance_uuid: uuid.UUID) -> InstanceInfoCache:
        """Raises ``InstanceInfoCacheNotFound``."""
        ...

    def info_cache_save(
        self, context: Context, instance_uuid: uuid.UUID, network_info: NetworkInfo
    ) -> InstanceInfoCache:
        """Replace the instance's network info (creating the cache if needed)."""
        ...

    # --- flavors ------------------------------------------------------------------------

    def flavor_create(self, context: Context, flavor: Flavor) -> Flavor:
        """Insert; ``id`` is assigned. Raises ``AlreadyExists`` for a used
        ``flavorid`` or ``name``."""
        ...

    def flavor_get_by_id(self, context: Context, flavor_id: int) -> Flavor:
        """Raises ``FlavorNotFound``."""
        ...

    def flavor_get_by_flavorid(self, context: Context, flavorid: str) -> Flavor:
        """Raises ``FlavorNotFound``."""
        ...

    def flavor_get_all(self, context: Context, include_disabled: bool) -> list[Flavor]:
        """Every flavor, by ``id``."""
        ...

    def flavor_destroy(self, context: Context, flavorid: str) -> None:
        """Raises ``FlavorNotFound``. Instances keep their copy of the flavor."""
        ...

    def flavor_update_description(
        self, context: Context, flavorid: str, description: str | None
    ) -> Flavor:
        """The flavor after setting its description; raises ``FlavorNotFound``."""
        ...

    def flavor_update_extra_specs(
        self, context: Context, flavorid: str, specs: Mapping[str, str]
    ) -> Flavor:
        """The flavor after adding or replacing ``specs`` (other keys unchanged);
        raises ``FlavorNotFound``."""
        ...

    def flavor_delete_extra_spec(self, context: Context, flavorid: str, key: str) -> Flavor:
        """The flavor without extra spec ``key``; raises ``FlavorNotFound`` or
        ``FlavorExtraSpecNotFound``."""
        ...

    # --- block device mappings ----------------------------------------------------------

    def bdm_create(self, context: Context, bdm: BlockDeviceMapping) -> BlockDeviceMapping:
        """Insert; ``id`` is assigned."""
        ...

    def bdm_save(
        self, context: Context, bdm_id: int, changes: dict[str, Any]
    ) -> BlockDeviceMapping:
        """Raises ``BlockDeviceMappingNotFound``."""
        ...

    def bdm_destroy(self, context: Context, bdm_id: int) -> None:
        """Raises ``BlockDeviceMappingNotFound``."""
        ...

    def bdm_get_by_instance_uuid(
        self, context: Context, instance_uuid: uuid.UUID
    ) -> list[BlockDeviceMapping]:
        """The instance's mappings, boot devices first (by ``boot_index``), then by id."""
        ...

    def bdm_get_volumes_by_instance_uuids(
        self, context: Context, instance_uuids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[BlockDeviceMapping]]:
        """The volume mappings of each instance (one query for all), by instance; an
        instance with none has no key."""
        ...

    def bdm_get_by_volume_id(
        self, context: Context, volume_id: uuid.UUID, instance_uuid: uuid.UUID | None
    ) -> BlockDeviceMapping:
        """The mapping of a volume (to ``instance_uuid`` when given). Raises
        ``BlockDeviceMappingNotFound``."""
        ...

    # --- migrations ---------------------------------------------------------------------

    def migration_create(self, context: Context, migration: Migration) -> Migration:
        """Insert; ``id`` is assigned."""
        ...

    def migration_save(
        self, context: Context, migration_id: int, changes: dict[str, Any]
    ) -> Migration:
        """Raises ``MigrationNotFound``."""
        ...

    def migration_get_by_id(self, context: Context, migration_id: int) -> Migration:
        """Raises ``MigrationNotFound``."""
        ...

    def migration_get_by_instance(
        self, context: Context, instance_uuid: uuid.UUID
    ) -> list[Migration]:
        """The instance's migrations, oldest first."""
        ...

    # --- services -----------------------------------------------------------------------

    def service_create(self, context: Context, service: Service) -> Service:
        """Insert; ``id`` is assigned. Raises ``AlreadyExists`` for a used
        (host, binary)."""
        ...

    def service_save(self, context: Context, service_id: int, changes: dict[str, Any]) -> Service:
        """Raises ``ServiceNotFound``."""
        ...

    def service_get_by_host_and_binary(
        self, context: Context, host: str, binary: ServiceBinary
    ) -> Service:
        """Raises ``ServiceNotFound``."""
        ...

    def service_get_all(
        self, context: Context, binary: ServiceBinary | None, include_disabled: bool
    ) -> list[Service]:
        """Services that are not deleted, by host."""
        ...

    def service_get_minimum_version(self, context: Context, binary: ServiceBinary) -> int:
        """The lowest ``version`` among live (not deleted) services of ``binary``;
        0 when there is none."""
        ...

    # --- compute nodes ------------------------------------------------------------------

    def compute_node_create(self, context: Context, node: ComputeNode) -> ComputeNode:
        """Insert; ``id`` is assigned."""
        ...

    def compute_node_save(
        self, context: Context, node_id: int, changes: dict[str, Any]
    ) -> ComputeNode:
        """Raises ``ComputeHostNotFound``."""
        ...

    def compute_node_get_by_host(self, context: Context, host: str) -> ComputeNode:
        """The node of a compute host. Raises ``ComputeHostNotFound``."""
        ...

    def compute_node_get_all(self, context: Context) -> list[ComputeNode]:
        """Every compute node that is not deleted, by host."""
        ...

    # --- allocations (placement's claims) -----------------------------------------------

    def allocation_usage(self, context: Context, hosts: tuple[str, ...] | None) -> list[NodeUsage]:
        """Capacity, allocated sum and reported use of every live compute node (of
        ``hosts`` when given), by host."""
        ...

    def allocation_claim(
        self, context: Context, consumer_uuid: uuid.UUID, host: str, need: Resources
    ) -> Allocation:
        """In one transaction: lock the host's node row, re-check its room against
        its totals times ratios minus its allocations (or its reported use, when
        more), and insert (or replace) the consumer's allocation there. Safe against
        concurrent claims on every backend. Raises ``NoRoom`` (nothing written) or
        ``ComputeHostNotFound``."""
        ...

    def allocation_get_all(
        self, context: Context, consumer_uuid: uuid.UUID | None
    ) -> list[Allocation]:
        """The allocations of a consumer (every one when ``None``), by host."""
        ...

    def allocation_release(
        self,
        context: Context,
        consumer_uuid: uuid.UUID,
        host: str | None,
        keep: str | None,
    ) -> int:
        """Delete the consumer's allocations (only on ``host``; or all but the one on
        ``keep``); returns how many."""
        ...

    # --- security groups ----------------------------------------------------------------

    def security_group_create(self, context: Context, group: SecurityGroup) -> SecurityGroup:
        """Insert the group and its rules; ids are assigned. Raises ``AlreadyExists``
        for a used (project_id, name)."""
        ...

    def security_group_get(self, context: Context, group_id: int) -> SecurityGroup:
        """With its rules. Raises ``SecurityGroupNotFound``."""
        ...

    def security_group_get_by_name(
        self, context: Context, project_id: str, name: str
    ) -> SecurityGroup:
        """Raises ``SecurityGroupNotFound``."""
        ...

    def security_group_get_all(
        self, context: Context, project_id: str | None
    ) -> list[SecurityGroup]:
        """The groups of a project (of every project when ``None``), with rules."""
        ...

    def security_group_get_by_instance(
        self, context: Context, instance_uuid: uuid.UUID
    ) -> list[SecurityGroup]:
        """The groups an instance belongs to, with rules."""
        ...

    def security_group_add_rules(
        self, context: Context, group_id: int, rules: list[SecurityGroupRule]
    ) -> SecurityGroup:
        """Insert rules (ids assigned); returns the group with all its rules."""
        ...

    def security_group_remove_rules(
        self, context: Context, group_id: int, rule_ids: list[int]
    ) -> SecurityGroup:
        """Delete rules of a group; returns the group with the rules left."""
        ...

    def security_group_get_by_rule(self, context: Context, rule_id: int) -> SecurityGroup:
        """The group holding the rule, with its rules. Raises ``SecurityGroupRuleNotFound``."""
        ...

    def security_group_update(
        self, context: Context, group_id: int, *, name: str | None, description: str | None
    ) -> SecurityGroup:
        """Set the name and/or description (``None``: unchanged) and ``updated_at``.
        Raises ``AlreadyExists`` for a name the project uses, ``SecurityGroupNotFound``."""
        ...

    def security_group_destroy(self, context: Context, group_id: int) -> None:
        """Delete the group, its rules and other groups' rules naming it as their
        remote group, in one transaction. Raises ``SecurityGroupInUse`` (nothing
        deleted) while an instance is associated, ``SecurityGroupNotFound``."""
        ...

    # --- instance faults ----------------------------------------------------------------

    def instance_fault_create(self, context: Context, fault: InstanceFault) -> InstanceFault:
        """Insert; ``id`` and ``created_at`` are assigned."""
        ...

    def instance_fault_get_latest(
        self, context: Context, instance_uuid: uuid.UUID
    ) -> InstanceFault | None:
        """The newest fault of an instance, or ``None``."""
        ...

    # --- instance actions ---------------------------------------------------------------

    def action_start(self, context: Context, action: InstanceAction) -> InstanceAction:
        """Insert an action record; ``id`` is assigned."""
        ...

    def action_finish(
        self,
        context: Context,
        instance_uuid: uuid.UUID,
        request_id: str,
        finish_time: datetime,
        message: str | None,
    ) -> InstanceAction:
        """Set the finish time (and failure message). Raises ``InstanceActionNotFound``."""
        ...

    def action_get_by_request_id(
        self, context: Context, instance_uuid: uuid.UUID, request_id: str
    ) -> InstanceAction:
        """Raises ``InstanceActionNotFound``."""
        ...

    def action_get_by_instance(
        self, context: Context, instance_uuid: uuid.UUID
    ) -> list[InstanceAction]:
        """An instance's actions, newest first."""
        ...

    def action_event_start(
        self,
        context: Context,
        instance_uuid: uuid.UUID,
        request_id: str,
        event: InstanceActionEvent,
    ) -> InstanceActionEvent:
        """Insert an event under the request's action (``action_id`` and ``id`` are
        assigned). Raises ``InstanceActionNotFound``."""
        ...

    def action_event_finish(
        self,
        context: Context,
        instance_uuid: uuid.UUID,
        request_id: str,
        event: str,
        finish_time: datetime,
        result: ActionEventResult,
        traceback: str | None,
    ) -> InstanceActionEvent:
        """Close the event. Raises ``InstanceActionEventNotFound``."""
        ...

    def action_events_get(self, context: Context, action_id: int) -> list[InstanceActionEvent]:
        """An action's events, oldest first."""
        ...

    # --- volumes (the local volume store's records) -------------------------------------

    def volume_create(self, context: Context, volume: Volume) -> Volume:
        """Insert; ``created_at`` is set. Raises ``AlreadyExists`` for a used id."""
        ...

    def volume_get(self, context: Context, volume_id: uuid.UUID) -> Volume:
        """Raises ``VolumeNotFound``."""
        ...

    def volume_get_all(
        self, context: Context, host: str | None, project_id: str | None
    ) -> list[Volume]:
        """Volumes that are not deleted, oldest first."""
        ...

    def volume_save(
        self, context: Context, volume_id: uuid.UUID, changes: dict[str, Any]
    ) -> Volume:
        """Raises ``VolumeNotFound``."""
        ...

    def volume_destroy(self, context: Context, volume_id: uuid.UUID) -> None:
        """Raises ``VolumeNotFound``."""
        ...

    # --- ports (fleet-wide network allocation, cumulo.model.port) -----------------------

    def ports_allocate_for_instance(
        self,
        context: Context,
        instance_uuid: uuid.UUID,
        host: str,
        requested: Sequence[NetworkRequest],
        macs: MacConstraint | None,
    ) -> NetworkInfo:
        """Bind the instance's ports to ``host`` in one transaction (see
        ``PortAllocation.allocate_for_instance``); returns one VIF per port, without
        host-side details. Raises ``InstanceNotFound``, ``NetworkNotFound``,
        ``PortNotFound``, ``PortInUse``, ``NoMoreIpAddresses``, ``MacAddressInUse``;
        writes nothing when it raises."""
        ...

    def ports_release_for_instance(self, context: Context, instance_uuid: uuid.UUID) -> None:
        """Delete the ports made for the instance and their addresses; unbind those
        made beforehand. (``instance_destroy`` does the same in its transaction.)"""
        ...


_storage: Storage | None = None
_lock = threading.Lock()


def set_storage(storage: Storage | None) -> Storage | None:
    """Install the process's storage (``None`` removes it); returns the previous one."""
    global _storage
    with _lock:
        previous, _storage = _storage, storage
    return previous


def get_storage() -> Storage:
    """The installed storage; raises ``NoStorageError`` when there is none."""
    storage = _storage
    if storage is None:
        raise NoStorageError()
    return storage
