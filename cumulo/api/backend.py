"""``ComputeBackend``: the API's clients of the services behind it: the conductor's
task API (build, live migration), the compute hosts' RPC API (power, volumes,
console, delete) and the volume store. Made on first use in each worker (after
the fork: a transport's connections do not survive one), shared by its threads."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cumulo.compute.manager import peer_client, peer_exceptions
from cumulo.compute.rpcapi import ComputeAPI
from cumulo.conductor.tasks_api import ComputeTaskAPI
from cumulo.rpc import Transport, get_transport
from cumulo.volume.store import VolumeStore

from .config import ApiConfig
from .errors import ServiceUnavailable


@dataclass
class ComputeBackend:
    transport: Transport
    tasks: ComputeTaskAPI
    compute: ComputeAPI
    volumes: VolumeStore | None

    def close(self) -> None:
        self.tasks.close()
        self.compute.close()


class LazyBackend:
    """The worker's :class:`ComputeBackend`, made when a request first needs it."""

    def __init__(self, config: ApiConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._backend: ComputeBackend | None = None

    def get(self) -> ComputeBackend:
        """The backend; raises 503 when no transport is configured."""
        if self._backend is not None:
            return self._backend
        config = self._config
        if config.transport_url is None:
            raise ServiceUnavailable(
                "This API is not connected to a conductor (no transport URL configured)."
            )
        with self._lock:
            if self._backend is None:
                transport = get_transport(config.transport_url)
                self._backend = ComputeBackend(
                    transport=transport,
                    tasks=ComputeTaskAPI(
                        transport, timeout=config.rpc_timeout, extra_exceptions=peer_exceptions()
                    ),
                    compute=peer_client(transport, timeout=config.rpc_timeout),
                    volumes=VolumeStore(config.volume_dir) if config.volume_dir else None,
                )
            return self._backend

    def close(self) -> None:
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None
