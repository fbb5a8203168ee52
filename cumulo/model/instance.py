"""``Instance``: a virtual machine, and ``InstanceList``: a query's worth of them."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Any, Final
from uuid import UUID

from cumulo.objects import (
    NO_DEFAULT,
    LazyLoadError,
    field,
    register,
    remotable,
    remotable_classmethod,
)

from .base import CumuloObject, as_uuid, stored
from .exceptions import ObjectActionError
from .flavor import Flavor
from .instance_fault import InstanceFault
from .instance_info_cache import InstanceInfoCache
from .security_group import SecurityGroupList
from .states import PowerState, TaskState, VmState
from .storage import InstanceFilters, get_storage

LAZY_FIELDS: Final = ("flavor", "info_cache", "security_groups", "fault", "tags")
"""The fields of an ``Instance`` loaded on first read unless asked for in
``expected_attrs``."""


class Unchecked(enum.Enum):
    """The type of :data:`UNCHECKED`."""

    UNCHECKED = "unchecked"


UNCHECKED: Final = Unchecked.UNCHECKED
"""``save(expected_task_state=UNCHECKED)`` (the default): no compare-and-swap on it."""

ExpectedTaskState = TaskState | str | None | Sequence[TaskState | str | None]
ExpectedVmState = VmState | str | Sequence[VmState | str]


@register
class Instance(CumuloObject):
    """A virtual machine: who owns it, where it runs, its size, its states.

    ``vm_state`` is where the instance stands, ``task_state`` the operation in
    progress (``None``: none), ``power_state`` what the hypervisor last reported.
    Every change is written with ``save()``, which can compare-and-swap the
    states so that two actors never both start a task.

    The lazy fields (:data:`LAZY_FIELDS`) are loaded on first read, one round trip
    each (counted in ``cumulo.objects.lazy_load_counts()``); list queries load them
    up front when named in ``expected_attrs``.

    History: 1.0 first version. 1.1: ``description`` and ``locked_reason``.
    1.2: ``access_ip_v4``, ``access_ip_v6``, ``reservation_id``, ``launch_index``.
    """

    VERSION = "1.2"

    id: int = field(default=NO_DEFAULT, read_only=True)
    uuid: UUID = field(read_only=True)
    user_id: str
    project_id: str
    image_ref: str | None = None
    """The image the root disk was made from (``None``: booted from a volume)."""
    host: str | None = None
    """The compute host the instance runs on (``None``: not scheduled yet)."""
    node: str | None = None
    launched_on: str | None = None
    """The host the instance was first spawned on."""
    display_name: str | None = None
    hostname: str | None = None
    """The guest's host name (from the display name, DNS-safe)."""
    availability_zone: str | None = None

    vm_state: VmState = VmState.BUILDING
    task_state: TaskState | None = None
    power_state: PowerState = PowerState.NOSTATE

    memory_mb: int = 0
    vcpus: int = 0
    root_gb: int = 0
    ephemeral_gb: int = 0
    root_device_name: str | None = None
    config_drive: bool = False

    key_name: str | None = None
    key_data: str | None = None
    """The public key injected into the guest."""
    user_data: str | None = field(default=None, sensitive=True)
    """Base64 user data for the guest's first boot (may hold secrets)."""

    metadata: dict[str, str] = field(default_factory=dict)
    """User-set key/value pairs."""
    system_metadata: dict[str, str] = field(default_factory=dict)
    """Key/value pairs the control plane keeps (image properties at boot...)."""
    locked: bool = False
    locked_by: str | None = None
    locked_reason: str | None = field(default=None, added="1.1")
    """Why the instance is locked (free text from whoever locked it)."""
    description: str | None = field(default=None, added="1.1")
    """The owner's free-text description of the server."""
    access_ip_v4: IPv4Address | None = field(default=None, added="1.2")
    """The address the owner says the server is reached at (not necessarily one of
    its ports')."""
    access_ip_v6: IPv6Address | None = field(default=None, added="1.2")
    reservation_id: str | None = field(default=None, added="1.2")
    """``r-`` and 8 characters, shared by the instances of one build request."""
    launch_index: int | None = field(default=None, added="1.2")
    """This instance's place (from 0) among those of its build request."""

    launched_at: datetime | None = None
    terminated_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted: bool = False

    flavor: Flavor = field(default=NO_DEFAULT, lazy=True)
    info_cache: InstanceInfoCache = field(default=NO_DEFAULT, lazy=True)
    security_groups: SecurityGroupList = field(default=NO_DEFAULT, lazy=True)
    fault: InstanceFault | None = field(default=NO_DEFAULT, lazy=True)
    """The latest fault, if any."""
    tags: list[str] = field(default=NO_DEFAULT, lazy=True)

    @property
    def name(self) -> str:
        """The name drivers give the guest: ``instance-<id as 8 hex digits>``
        (from the uuid before the instance is stored)."""
        if self.obj_attr_is_set("id"):
            return f"instance-{self.id:08x}"
        return f"instance-{self.uuid}"

    def size(self) -> Flavor:
        """What the guest is sized by: ``flavor`` when it is loaded, else a flavor
        made of the instance's own ``vcpus``, ``memory_mb``, ``root_gb`` and
        ``ephemeral_gb`` (no swap, no name). Never loads the flavor: on a compute
        host that would be a round trip to the conductor."""
        if self.obj_attr_is_set("flavor"):
            return self.flavor
        return Flavor(
            flavorid="",
            name="",
            vcpus=self.vcpus,
            memory_mb=self.memory_mb,
            root_gb=self.root_gb,
            ephemeral_gb=self.ephemeral_gb,
        )

    # --- lazy loading -------------------------------------------------------------------

    def obj_load_attr(self, name: str) -> None:
        """Load lazy field ``name`` through storage (the conductor on a compute host)."""
        if name not in LAZY_FIELDS:
            raise LazyLoadError(f"Instance cannot lazy-load {name!r}")
        context = self._require_context(f"load {name!r}")
        if not self.obj_attr_is_set("uuid"):
            raise LazyLoadError(f"Instance cannot lazy-load {name!r}: uuid not set")
        value = type(self).get_lazy_field(context, self.uuid, name)
        setattr(self, name, value)
        self.obj_reset_changes([name], recursive=True)

    @remotable_classmethod
    def get_lazy_field(
        cls: type[Instance], context: Any, instance_uuid: UUID | str, name: str
    ) -> Any:
        """The value of lazy field ``name`` of an instance (what ``obj_load_attr`` uses)."""
        if name not in LAZY_FIELDS:
            raise ValueError(f"Instance has no lazy field {name!r}; lazy: {list(LAZY_FIELDS)}")
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        return stored(get_storage().instance_load_attr(context, uuid_, name))

    # --- queries ------------------------------------------------------------------------

    @remotable_classmethod
    def get_by_uuid(
        cls: type[Instance],
        context: Any,
        instance_uuid: UUID | str,
        expected_attrs: Sequence[str] | None = None,
    ) -> Instance:
        """The instance (deleted ones too), with the lazy fields in ``expected_attrs``
        loaded; raises ``InstanceNotFound``."""
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        attrs = expected_attrs_of(expected_attrs)
        return stored(get_storage().instance_get_by_uuid(context, uuid_, attrs))

    # --- writes -------------------------------------------------------------------------

    @remotable
    def create(self) -> None:
        """Store a new instance (with its flavor, info cache and security groups when
        set); ``id`` and ``created_at`` come back from the database."""
        if self.obj_attr_is_set("id"):
            raise ObjectActionError("create instance", f"already created (id {self.id})")
        if self.deleted:
            raise ObjectActionError("create instance", "it is marked deleted")
        self._obj_take_stored(get_storage().instance_create(self.obj_context, self))

    @remotable
    def save(
        self,
        expected_task_state: ExpectedTaskState | Unchecked = UNCHECKED,
        expected_vm_state: ExpectedVmState | Unchecked = UNCHECKED,
    ) -> None:
        """Write the changed fields, atomically, if the stored states are as expected.

        ``expected_task_state`` / ``expected_vm_state``: a state or a list of
        states the stored instance must be in (``None`` is a task state: "no
        task"); left out, that state is not checked. Raises
        ``UnexpectedTaskStateError`` / ``UnexpectedVmStateError`` and writes nothing
        when another actor moved first. A changed ``info_cache`` is saved through
        the cache. Afterwards the object holds the stored values and no changes.
        With nothing changed, nothing is sent (and nothing compared).
        """
        if not self.obj_attr_is_set("uuid") or not self.obj_attr_is_set("id"):
            raise ObjectActionError("save instance", "it was never created")
        context = self.obj_context
        changes = self.obj_get_changes()
        cache = changes.pop("info_cache", None)
        if cache is not None:
            cache.save()
            self.obj_reset_changes(["info_cache"], recursive=True)
        changes.pop("fault", None)  # faults are recorded with InstanceFault.create()
        if not changes:
            self.obj_reset_changes(["fault"], recursive=True)
            return
        saved = get_storage().instance_save(
            context,
            self.uuid,
            changes,
            _task_states(expected_task_state),
            _vm_states(expected_vm_state),
        )
        self._obj_take_stored(saved)

    @remotable
    def destroy(self) -> None:
        """Soft-delete the instance (and its info cache and block device mappings);
        the object then holds the deleted row (``deleted``, ``deleted_at``)."""
        if not self.obj_attr_is_set("id"):
            raise ObjectActionError("destroy instance", "it was never created")
        self._obj_take_stored(get_storage().instance_destroy(self.obj_context, self.uuid))

    @remotable
    def refresh(self) -> None:
        """Reload every field from storage (lazy fields already loaded are reloaded
        too); local changes are lost."""
        loaded = [name for name in LAZY_FIELDS if self.obj_attr_is_set(name)]
        fresh = get_storage().instance_get_by_uuid(self.obj_context, self.uuid, loaded)
        self._obj_take_stored(fresh)


def expected_attrs_of(names: Iterable[str] | None) -> tuple[str, ...]:
    """Checked, deduplicated ``expected_attrs``."""
    attrs = tuple(dict.fromkeys(names or ()))
    unknown = [name for name in attrs if name not in LAZY_FIELDS]
    if unknown:
        raise ValueError(
            f"expected_attrs: {unknown} are not lazy fields of Instance; "
            f"choose from {list(LAZY_FIELDS)}"
        )
    return attrs


def _task_states(expected: ExpectedTaskState | Unchecked) -> tuple[TaskState | None, ...] | None:
    # UNCHECKED passed explicitly crosses RPC as its value, a plain string.
    if isinstance(expected, Unchecked) or expected == UNCHECKED.value:
        return None
    values = [expected] if expected is None or isinstance(expected, str) else list(expected)
    return tuple(None if v is None else TaskState(v) for v in values)


def _vm_states(expected: ExpectedVmState | Unchecked) -> tuple[VmState, ...] | None:
    # UNCHECKED passed explicitly crosses RPC as its value, a plain string.
    if isinstance(expected, Unchecked) or expected == UNCHECKED.value:
        return None
    values = [expected] if isinstance(expected, str) else list(expected)
    return tuple(VmState(v) for v in values)


@register
class InstanceList(CumuloObject):
    """A list of instances, as one object (what a query returns over RPC).

    History: 1.0 first version. 1.1: Instance 1.1. 1.2: Instance 1.2.
    """

    VERSION = "1.2"

    objects: list[Instance] = field(default_factory=list)

    def __iter__(self) -> Iterator[Instance]:
        return iter(self.objects)

    @remotable_classmethod
    def get_by_host(
        cls: type[InstanceList],
        context: Any,
        host: str,
        expected_attrs: Sequence[str] | None = None,
    ) -> InstanceList:
        """The host's instances that are not deleted, oldest first, with the lazy
        fields in ``expected_attrs`` loaded (no per-instance round trips)."""
        attrs = expected_attrs_of(expected_attrs)
        rows = get_storage().instance_get_all_by_host(context, host, attrs)
        return stored(cls(objects=rows))

    @remotable_classmethod
    def get_all(
        cls: type[InstanceList],
        context: Any,
        *,
        host: str | None = None,
        node: str | None = None,
        project_id: str | None = None,
        vm_states: Sequence[VmState | str] | None = None,
        uuids: Sequence[UUID | str] | None = None,
        include_deleted: bool = False,
        limit: int | None = None,
        expected_attrs: Sequence[str] | None = None,
    ) -> InstanceList:
        """The instances matching every filter given, oldest first."""
        if limit is not None and limit < 0:
            raise ValueError(f"limit: expected a count >= 0, got {limit}")
        filters = InstanceFilters(
            host=host,
            node=node,
            project_id=project_id,
            vm_states=None if vm_states is None else tuple(VmState(v) for v in vm_states),
            uuids=None if uuids is None else tuple(as_uuid(u, "uuids[]") for u in uuids),
            include_deleted=include_deleted,
            limit=limit,
        )
        attrs = expected_attrs_of(expected_attrs)
        rows = get_storage().instance_get_all(context, filters, attrs)
        return stored(cls(objects=rows))
