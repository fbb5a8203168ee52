"""``ComputeTaskAPI``: the client of the conductor's compute tasks (namespace
``compute_task`` on the conductor's topic), for the API and the command line —
never for a compute host.

Every method but :meth:`ComputeTaskAPI.start_live_migration` is a call: it returns
when the task is done (a build: when each instance is recorded, placed and its
build cast to its host).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final
from uuid import UUID

from cumulo.compute.rpcapi import allowed_exceptions as compute_allowed_exceptions
from cumulo.model import BlockDeviceMapping, ImageMeta, InjectedFile, Instance, Migration
from cumulo.model.base import CumuloObject
from cumulo.rpc import ObjectSerializer, RPCClient, Target, Transport

from .rpcapi import TOPIC
from .tasks import exceptions as task_exceptions

NAMESPACE: Final = "compute_task"
API_VERSION: Final = "1.0"
"""The compute task API. 1.0: build_instances, live_migrate_instance, refresh_security_group."""


def _task_exceptions() -> list[type[Exception]]:
    return [
        value
        for value in vars(task_exceptions).values()
        if isinstance(value, type) and issubclass(value, Exception)
    ]


def _live_migration(
    instance_uuid: UUID,
    destination: str | None,
    block_migration: bool | None,
    disk_over_commit: bool,
) -> dict[str, Any]:
    """The arguments of the conductor's ``live_migrate_instance``."""
    return {
        "instance_uuid": str(instance_uuid),
        "destination": destination,
        "block_migration": block_migration,
        "disk_over_commit": disk_over_commit,
    }


class ComputeTaskAPI:
    """Asks the conductor to run compute tasks.

    Args:
        transport: the message bus.
        timeout: seconds a call may go without news (the conductor sends heartbeats
            while a long task runs).
        version_cap: the newest task API version the conductors understand.
        extra_exceptions: more exception classes to re-raise typed (the API passes
            the driver's and the volume store's).
    """

    def __init__(
        self,
        transport: Transport,
        *,
        timeout: float | None = 120.0,
        version_cap: str | None = None,
        extra_exceptions: Iterable[type[Exception]] = (),
    ) -> None:
        allowed = compute_allowed_exceptions([*_task_exceptions(), *extra_exceptions])
        self.client = RPCClient(
            transport,
            Target(topic=TOPIC, namespace=NAMESPACE, version=API_VERSION),
            version_cap=version_cap,
            serializer=ObjectSerializer(CumuloObject),
            timeout=timeout,
            allowed_exceptions=allowed,
        )

    def close(self) -> None:
        self.client.close()

    def can_send_version(self, version: str) -> bool:
        return self.client.can_send_version(version)

    def build_instances(
        self,
        context: Any,
        instances: list[Instance],
        *,
        image_meta: ImageMeta | None = None,
        block_device_mappings: list[BlockDeviceMapping] | None = None,
        injected_files: list[InjectedFile] | None = None,
        admin_password: str | None = None,
        requested_host: str | None = None,
    ) -> list[Instance]:
        """Create, place and build instances (templates with their flavor set);
        returns them as stored, each with its host. Raises ``NoValidHost`` when an
        instance could not be placed (it is in ERROR with a fault)."""
        result: list[Instance] = self.client.call(
            context,
            "build_instances",
            instances=instances,
            image_meta=image_meta,
            block_device_mappings=block_device_mappings or [],
            injected_files=injected_files or [],
            admin_password=admin_password,
            requested_host=requested_host,
        )
        return result

    def live_migrate_instance(
        self,
        context: Any,
        instance_uuid: UUID,
        destination: str | None = None,
        *,
        block_migration: bool | None = False,
        disk_over_commit: bool = False,
    ) -> Migration:
        """Live-migrate an instance (to ``destination``, or where placement says);
        returns the completed migration record. ``block_migration`` ``None``: copy
        the instance's local disks unless the two hosts share instance storage."""
        result: Migration = self.client.call(
            context,
            "live_migrate_instance",
            **_live_migration(instance_uuid, destination, block_migration, disk_over_commit),
        )
        return result

    def start_live_migration(
        self,
        context: Any,
        instance_uuid: UUID,
        destination: str | None = None,
        *,
        block_migration: bool | None = False,
        disk_over_commit: bool = False,
    ) -> None:
        """Cast: the conductor's ``live_migrate_instance`` (the same task as
        :meth:`live_migrate_instance`), without waiting for it: for the API, which
        answers before the pre-checks run (as Nova since microversion 2.34); the task
        records its outcome on the instance action and the migration record."""
        self.client.cast(
            context,
            "live_migrate_instance",
            **_live_migration(instance_uuid, destination, block_migration, disk_over_commit),
        )

    def refresh_security_group(self, context: Any, security_group_id: int) -> list[str]:
        """Have every host with an instance of the group refresh its filters;
        returns the hosts."""
        result: list[str] = self.client.call(
            context, "refresh_security_group", security_group_id=security_group_id
        )
        return result
