"""``ComputeTaskManager``: the conductor endpoint of the long compute tasks
(namespace ``compute_task``, see :data:`cumulo.conductor.tasks_api.API_VERSION`),
served by ``ConductorService`` as one of its ``extra_endpoints``."""

from __future__ import annotations

import uuid
from typing import Any

from cumulo.compute.rpcapi import ComputeAPI
from cumulo.model import BlockDeviceMapping, ImageMeta, InjectedFile, Instance, Migration
from cumulo.model.service import DEFAULT_SERVICE_DOWN_TIME
from cumulo.rpc import Target, Transport

from ..tasks_api import API_VERSION, NAMESPACE
from .build import BuildTask
from .live_migrate import LiveMigrationTask
from .security_groups import refresh_security_group


class ComputeTaskManager:
    """Runs the conductor's compute tasks.

    Args:
        transport: the message bus (to reach the compute hosts).
        host: the conductor's name, recorded on the tasks' action events.
        compute_rpc: the client for the compute hosts (default: one on ``transport``).
        service_down_time: seconds after its last heartbeat placement counts a host
            as down (and skips it).
    """

    target = Target(namespace=NAMESPACE, version=API_VERSION)

    def __init__(
        self,
        transport: Transport,
        *,
        host: str = "conductor",
        compute_rpc: ComputeAPI | None = None,
        service_down_time: float = DEFAULT_SERVICE_DOWN_TIME,
    ) -> None:
        self.host = host
        self.service_down_time = service_down_time
        # Capped per target host at what its service level understands.
        self.compute_rpc = compute_rpc or ComputeAPI(transport, version_cap="auto")

    def build_instances(
        self,
        context: Any,
        instances: list[Instance],
        image_meta: ImageMeta | None = None,
        block_device_mappings: list[BlockDeviceMapping] | None = None,
        injected_files: list[InjectedFile] | None = None,
        admin_password: str | None = None,
        requested_host: str | None = None,
    ) -> list[Instance]:
        """Create, place and build ``instances``; see :class:`BuildTask`."""
        task = BuildTask(
            context,
            self.compute_rpc,
            self.host,
            image_meta=image_meta,
            block_device_mappings=list(block_device_mappings or []),
            injected_files=list(injected_files or []),
            admin_password=admin_password,
            requested_host=requested_host,
            service_down_time=self.service_down_time,
        )
        return task.execute(list(instances))

    def live_migrate_instance(
        self,
        context: Any,
        instance_uuid: str,
        destination: str | None = None,
        block_migration: bool | None = False,
        disk_over_commit: bool = False,
    ) -> Migration:
        """Live-migrate an instance; see :class:`LiveMigrationTask`."""
        task = LiveMigrationTask(
            context,
            self.compute_rpc,
            self.host,
            uuid.UUID(instance_uuid),
            destination,
            block_migration=block_migration,
            disk_over_commit=disk_over_commit,
            service_down_time=self.service_down_time,
        )
        return task.execute()

    def refresh_security_group(self, context: Any, security_group_id: int) -> list[str]:
        """Fan a group's rule change out to the hosts that need it; returns them."""
        return refresh_security_group(context, self.compute_rpc, security_group_id)
