"""``ComputeManager``: one per compute host, the endpoint of the compute RPC API
(``rpcapi.API_VERSION``).

It drives the host's hypervisor driver with objects only and records every change
through object methods (``instance.save()`` with compare-and-swap on the task
state, ``BlockDeviceMapping.save()``, ``Migration.save()``...), an action and an
event for each operation, and a fault for each failure. The flows live one
concern per module and are combined here:

- ``build``: build_and_run_instance, terminate_instance;
- ``lifecycle``: reboot, stop/start, pause/unpause, suspend/resume, the power-state sync;
- ``guest``: volumes, diagnostics, file and network injection, network reset,
  security-group rule refreshes, the shared-storage check;
- ``migration``: both sides of a live migration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from cumulo.model import InstanceList
from cumulo.rpc import Transport
from cumulo.virt import ComputeDriver
from cumulo.virt import exceptions as virt_exceptions
from cumulo.volume import exceptions as volume_exceptions
from cumulo.volume.store import VolumeStore

from .build import BuildFlows
from .guest import GuestFlows
from .image_cache import ImageCache
from .lifecycle import LifecycleFlows
from .migration import MigrationFlows
from .network import NetworkAllocator
from .resource_tracker import ResourceTracker
from .rpcapi import ComputeAPI
from .volumes import VolumeConnections

LOG = logging.getLogger(__name__)


def _module_exceptions(module: Any) -> list[type[Exception]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Exception)
    ]


def peer_exceptions() -> list[type[Exception]]:
    """The driver's and volume store's exceptions, for clients that may import them
    (a compute host calling its peers, the API, tests) to get them back typed."""
    return _module_exceptions(virt_exceptions) + _module_exceptions(volume_exceptions)


def peer_client(transport: Transport, **options: Any) -> ComputeAPI:
    """A ``ComputeAPI`` that re-raises driver and volume-store errors typed; its
    messages are capped at what each peer understands (``version_cap="auto"``)."""
    extra: Iterable[type[Exception]] = options.pop("extra_exceptions", ())
    options.setdefault("version_cap", "auto")
    return ComputeAPI(transport, extra_exceptions=[*peer_exceptions(), *extra], **options)


class ComputeManager(BuildFlows, LifecycleFlows, GuestFlows, MigrationFlows):
    """The compute service of ``host``.

    Args:
        host: the compute host's name (its RPC server name and ``instance.host``).
        driver: the host's hypervisor driver (serving ``host``).
        volume_store: the volume store the host's instances use.
        transport: the message bus, to reach peer hosts (live migration, shared
            storage); ignored when ``compute_rpc`` is given.
        compute_rpc: the client for peer hosts.
        network: the network allocator (default: the default subnet).
        images: the cache base images are fetched into from the image API before a
            build (the driver's image directory); ``None``: the driver finds its
            images itself.
    """

    def __init__(
        self,
        host: str,
        driver: ComputeDriver,
        volume_store: VolumeStore,
        *,
        transport: Transport | None = None,
        compute_rpc: ComputeAPI | None = None,
        network: NetworkAllocator | None = None,
        images: ImageCache | None = None,
    ) -> None:
        if driver.host != host:
            raise ValueError(f"driver: it serves host {driver.host!r}, not {host!r}")
        if compute_rpc is None:
            if transport is None:
                raise ValueError("ComputeManager needs a transport or a compute_rpc client")
            compute_rpc = peer_client(transport, accept_newer_peers=True)
        self.host = host
        self.driver = driver
        self.volumes = VolumeConnections(host, driver, volume_store)
        self.network = network or NetworkAllocator(host)
        self.tracker = ResourceTracker(host, driver)
        self.compute_rpc = compute_rpc
        self.images = images
        self._init_locks()

    def __repr__(self) -> str:
        return f"<ComputeManager host={self.host!r} driver={self.driver!r}>"

    def init_host(self, context: Any = None) -> None:
        """Start serving: initialize the driver, record the service and the node, and
        sync the power states of the host's instances."""
        ctx = context if context is not None else self._admin_context()
        self.driver.init_host(self.host)
        self.tracker.register_service(ctx)
        self.tracker.update_available_resource(ctx)
        self.sync_power_states(ctx)

    def periodic_tasks(self, context: Any = None) -> None:
        """What a host does every interval: heartbeat, resource refresh, power sync,
        and (when it fetches images) removing cached bases long unused. Each task runs
        even when another failed."""
        ctx = context if context is not None else self._admin_context()
        tasks: list[tuple[str, Callable[[], object]]] = [
            ("report_state", lambda: self.tracker.report_state(ctx)),
            ("update_available_resource", lambda: self.tracker.update_available_resource(ctx)),
            ("sync_power_states", lambda: self.sync_power_states(ctx)),
        ]
        if self.images is not None:
            tasks.append(("clean_image_cache", lambda: self.clean_image_cache(ctx)))
        for name, task in tasks:
            try:
                task()
            except Exception:
                LOG.exception("periodic task %s failed on %s", name, self.host)

    def clean_image_cache(self, context: Any = None) -> list[str]:
        """Remove the cached bases no instance of this host has used for the cache's
        max age (a base an instance here boots from is never removed); returns the
        image ids removed (none when the host does not fetch images)."""
        if self.images is None:
            return []
        ctx = context if context is not None else self._admin_context()
        in_use = {
            instance.image_ref
            for instance in InstanceList.get_by_host(ctx, self.host)
            if instance.image_ref
        }
        return self.images.clean(in_use)
