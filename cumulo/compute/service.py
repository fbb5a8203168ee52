"""``ComputeService``: a compute host's process wiring — its manager served on the
``compute`` topic under the host's name, and the periodic tasks on a timer."""

from __future__ import annotations

import logging
import threading
from typing import Any

from cumulo.model.base import CumuloObject
from cumulo.objects import Indirection
from cumulo.rpc import ObjectSerializer, RPCServer, Target, Transport
from cumulo.rpc.admin import AdminEndpoint

from .manager import ComputeManager
from .rpcapi import TOPIC
from .version import SERVICE_VERSION, check_compute_level

LOG = logging.getLogger(__name__)


class ComputeService:
    """Serves ``manager`` on ``transport``.

    Args:
        transport: the message bus.
        manager: the host's compute manager.
        indirection: where remotable methods run (the conductor client) in a process
            without a database; ``None`` when the storage is installed locally (the
            embedded, one-process deployment).
        periodic_interval: seconds between periodic tasks (``None``: none; tests
            call ``manager.periodic_tasks()`` themselves).
    """

    def __init__(
        self,
        transport: Transport,
        manager: ComputeManager,
        *,
        indirection: Indirection | None = None,
        periodic_interval: float | None = None,
    ) -> None:
        self.transport = transport
        self.manager = manager
        self.indirection = indirection
        self.periodic_interval = periodic_interval
        self.server: RPCServer | None = None
        self._previous_indirection: Indirection | None = None
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self.manager.host

    def start(self, context: Any = None) -> ComputeService:
        """Register the host and serve it.

        Raises:
            UnsupportedServiceVersion: this code's service level is below the oldest
                supported one (a guard rail: nothing is registered or served).
        """
        check_compute_level(self.host, SERVICE_VERSION)
        if self.indirection is not None:
            self._previous_indirection = CumuloObject.indirection_api
            CumuloObject.indirection_api = self.indirection
        self.manager.init_host(context)
        self.server = RPCServer(
            self.transport,
            Target(topic=TOPIC, server=self.host),
            [self.manager, AdminEndpoint(f"compute {self.host}")],
            serializer=ObjectSerializer(CumuloObject),
        ).start()
        if self.periodic_interval is not None:
            self._stop.clear()
            self._timer = threading.Thread(
                target=self._run_periodic, name=f"compute-periodic-{self.host}", daemon=True
            )
            self._timer.start()
        LOG.info("compute %s serving on %s", self.host, TOPIC)
        return self

    def _run_periodic(self) -> None:
        interval = self.periodic_interval or 60.0
        while not self._stop.wait(interval):
            self.manager.periodic_tasks()

    def stop(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
            self._timer = None
        if self.server is not None:
            self.server.stop()
            self.server.wait()
            self.server = None
        if self.indirection is not None:
            CumuloObject.indirection_api = self._previous_indirection

    def __enter__(self) -> ComputeService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
