"""``Service``: a running Cumulo service, its liveness and what it understands."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cumulo.objects import NO_DEFAULT, field, register, remotable, remotable_classmethod

from .base import CumuloObject, object_manifest, stored
from .exceptions import ObjectActionError, ServiceNotFound
from .storage import get_storage


class ServiceBinary(enum.StrEnum):
    """The kinds of Cumulo service."""

    COMPUTE = "cumulo-compute"
    CONDUCTOR = "cumulo-conductor"
    API = "cumulo-api"


@register
class Service(CumuloObject):
    """One service process on one host, as recorded for upgrades and liveness.

    ``version`` is the release's service version (one integer per release);
    ``object_manifest`` the object versions it understands (``{name: version}``)
    and ``rpc_api_version`` the newest RPC API version it serves, so peers can
    cap what they send it during a rolling upgrade. ``last_seen_up`` moves with
    every heartbeat (``report_count``).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int = field(default=NO_DEFAULT, read_only=True)
    uuid: UUID
    host: str
    binary: ServiceBinary
    topic: str
    report_count: int = 0
    disabled: bool = False
    disabled_reason: str | None = None
    forced_down: bool = False
    last_seen_up: datetime | None = None
    version: int = 0
    object_manifest: dict[str, str] = field(default_factory=dict)
    rpc_api_version: str = "1.0"
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @remotable_classmethod
    def get_by_host_and_binary(
        cls: type[Service], context: Any, host: str, binary: ServiceBinary | str
    ) -> Service:
        """Raises ``ServiceNotFound``."""
        return stored(
            get_storage().service_get_by_host_and_binary(context, host, ServiceBinary(binary))
        )

    @remotable_classmethod
    def get_minimum_version(cls: type[Service], context: Any, binary: ServiceBinary | str) -> int:
        """The lowest service version among live services of ``binary`` (0: none)."""
        return get_storage().service_get_minimum_version(context, ServiceBinary(binary))

    @remotable
    def create(self) -> None:
        """Record a new service; ``id`` is set from the database."""
        if self.obj_attr_is_set("id"):
            raise ObjectActionError("create service", f"already created (id {self.id})")
        self._obj_take_stored(get_storage().service_create(self.obj_context, self))

    @remotable
    def save(self) -> None:
        """Write the changed fields."""
        if not self.obj_attr_is_set("id"):
            raise ObjectActionError("save service", "it was never created")
        changes = self.obj_get_changes()
        if not changes:
            return
        self._obj_take_stored(get_storage().service_save(self.obj_context, self.id, changes))


@register
class ServiceList(CumuloObject):
    """A list of services, as one object (what a query returns over RPC).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    objects: list[Service] = field(default_factory=list)

    @remotable_classmethod
    def get_all(
        cls: type[ServiceList],
        context: Any,
        binary: ServiceBinary | str | None = None,
        include_disabled: bool = True,
    ) -> ServiceList:
        """Services not deleted, by host (of ``binary`` when given)."""
        kind = None if binary is None else ServiceBinary(binary)
        rows = get_storage().service_get_all(context, kind, include_disabled)
        return stored(cls(objects=rows))


def _record_level(service: Service, version: int, rpc_api_version: str) -> None:
    """Put ``version``, this process's object manifest and ``rpc_api_version`` on
    ``service``, marking changed only what differs (so a heartbeat writes them only
    when the row was edited behind the service's back)."""
    manifest = object_manifest()
    if service.version != version:
        service.version = version
    if service.object_manifest != manifest:
        service.object_manifest = manifest
    if service.rpc_api_version != rpc_api_version:
        service.rpc_api_version = rpc_api_version


def register_service(
    context: Any,
    host: str,
    binary: ServiceBinary,
    topic: str,
    version: int,
    rpc_api_version: str,
) -> Service:
    """Create or update the service row of ``binary`` on ``host`` with its level,
    this process's object manifest and its RPC API version (a service starting)."""
    try:
        service = Service.get_by_host_and_binary(context, host, binary)
    except ServiceNotFound:
        service = Service(uuid=uuid.uuid4(), host=host, binary=binary, topic=topic)
        service.obj_set_context(context)
    _record_level(service, version, rpc_api_version)
    service.last_seen_up = datetime.now(UTC)
    if service.obj_attr_is_set("id"):
        service.save()
    else:
        service.create()
    return service


def report_service(context: Any, service: Service, version: int, rpc_api_version: str) -> Service:
    """Heartbeat: count a report, move ``last_seen_up`` to now, and write the level,
    manifest and RPC API version again if the row says otherwise."""
    service.obj_set_context(context)
    _record_level(service, version, rpc_api_version)
    service.report_count += 1
    service.last_seen_up = datetime.now(UTC)
    service.save()
    return service


# --- liveness -------------------------------------------------------------------------------

DEFAULT_SERVICE_DOWN_TIME = 60.0
"""Seconds: a service whose last heartbeat is older is down (``--service-down-time``).
Compute hosts heartbeat with their periodic tasks and conductors every 30 s, so
keep it above the longest of those intervals."""


def last_heartbeat(service: Service) -> datetime | None:
    """When the service last reported (its row's last change, else its creation)."""
    seen = service.last_seen_up or service.updated_at or service.created_at
    if seen is not None and seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    return seen


def heartbeat_age(service: Service, now: datetime | None = None) -> float | None:
    """Seconds since the last heartbeat (``None``: it never reported)."""
    seen = last_heartbeat(service)
    if seen is None:
        return None
    return ((now or datetime.now(UTC)) - seen).total_seconds()


def service_is_up(
    service: Service,
    down_time: float = DEFAULT_SERVICE_DOWN_TIME,
    now: datetime | None = None,
) -> bool:
    """The one liveness rule: not forced down, and a heartbeat younger than
    ``down_time`` seconds (a clock a little behind the writer's counts as fresh)."""
    if service.forced_down:
        return False
    age = heartbeat_age(service, now)
    return age is not None and abs(age) < down_time


def why_not_schedulable(
    service: Service | None,
    down_time: float = DEFAULT_SERVICE_DOWN_TIME,
    now: datetime | None = None,
) -> str | None:
    """Why placement must skip the host of ``service`` (``None``: it may use it)."""
    if service is None:
        return "no compute service row"
    if service.disabled:
        reason = f" ({service.disabled_reason})" if service.disabled_reason else ""
        return f"disabled{reason}"
    if service.forced_down:
        return "forced down"
    if not service_is_up(service, down_time, now):
        age = heartbeat_age(service, now)
        seen = "never reported" if age is None else f"last heartbeat {age:.0f} s ago"
        return f"down ({seen}; service_down_time {down_time:g} s)"
    return None
