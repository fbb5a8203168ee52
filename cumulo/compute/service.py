"""``ComputeService``: a compute host's process wiring — its manager served on the
``compute`` topic under the host's name, its heartbeat and the periodic tasks on
timers, and the refusal to serve a host another live process serves already.

A host is served by another process when its service row's heartbeat is younger
than ``service_down_time`` *and* something answers on the host's queue (a probe of
its ``admin`` endpoint). A process that died leaves a fresh heartbeat for up to
``service_down_time`` but answers nothing, so a restart (an upgrade in place, a
crash) takes the host over at once; so does any start once the heartbeat is stale.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from cumulo.model import Service, ServiceBinary, ServiceNotFound
from cumulo.model.base import CumuloObject
from cumulo.model.service import DEFAULT_SERVICE_DOWN_TIME, heartbeat_age, service_is_up
from cumulo.objects import Indirection
from cumulo.rpc import ObjectSerializer, RemoteError, RPCError, RPCServer, Target, Transport
from cumulo.rpc.admin import AdminEndpoint, get_metrics

from .exceptions import ComputeHostInUse
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
        report_interval: seconds between heartbeats (``None``: only with the
            periodic tasks); keep it well below ``service_down_time``.
        service_down_time: seconds after its last heartbeat a host counts as down
            (and another process may take it over).
        probe_timeout: seconds to wait for another process serving this host to
            answer, when the host's heartbeat is fresh.
    """

    def __init__(
        self,
        transport: Transport,
        manager: ComputeManager,
        *,
        indirection: Indirection | None = None,
        periodic_interval: float | None = None,
        report_interval: float | None = None,
        service_down_time: float = DEFAULT_SERVICE_DOWN_TIME,
        probe_timeout: float = 3.0,
    ) -> None:
        self.transport = transport
        self.manager = manager
        self.indirection = indirection
        self.periodic_interval = periodic_interval
        self.report_interval = report_interval
        self.service_down_time = service_down_time
        self.probe_timeout = probe_timeout
        self.server: RPCServer | None = None
        self._previous_indirection: Indirection | None = None
        self._stop = threading.Event()
        self._timers: list[threading.Thread] = []

    @property
    def host(self) -> str:
        return self.manager.host

    def start(self, context: Any = None) -> ComputeService:
        """Register the host and serve it.

        Raises:
            UnsupportedServiceVersion: this code's service level is below the oldest
                supported one (a guard rail: nothing is registered or served).
            ComputeHostInUse: another live process serves this host (nothing is
                registered or served).
        """
        check_compute_level(self.host, SERVICE_VERSION)
        if self.indirection is not None:
            self._previous_indirection = CumuloObject.indirection_api
            CumuloObject.indirection_api = self.indirection
        try:
            self.refuse_if_served(context)
        except BaseException:
            if self.indirection is not None:
                CumuloObject.indirection_api = self._previous_indirection
            raise
        self.manager.init_host(context)
        self.server = RPCServer(
            self.transport,
            Target(topic=TOPIC, server=self.host),
            [self.manager, AdminEndpoint(f"compute {self.host}")],
            serializer=ObjectSerializer(CumuloObject),
        ).start()
        self._stop.clear()
        if self.periodic_interval is not None:
            self._start_timer("periodic", self.periodic_interval, self.manager.periodic_tasks)
        if self.report_interval is not None:
            self._start_timer("heartbeat", self.report_interval, self._report_state)
        LOG.info("compute %s serving on %s", self.host, TOPIC)
        return self

    def refuse_if_served(self, context: Any = None) -> None:
        """Raise ``ComputeHostInUse`` when another live process serves this host (see
        the module docstring); return when the host is free or may be taken over."""
        ctx = context if context is not None else self.manager._admin_context()
        try:
            service = Service.get_by_host_and_binary(ctx, self.host, ServiceBinary.COMPUTE)
        except ServiceNotFound:
            return
        if not service_is_up(service, self.service_down_time):
            return
        age = heartbeat_age(service) or 0.0
        try:
            get_metrics(self.transport, ctx, TOPIC, server=self.host, timeout=self.probe_timeout)
        except RemoteError:
            pass  # it answered (an older release without this endpoint, say): alive
        except RPCError:
            LOG.warning(
                "compute %s: heartbeat %.1f s old but nothing answers on its queue; "
                "taking the host over",
                self.host,
                age,
            )
            return
        raise ComputeHostInUse(self.host, age, self.service_down_time)

    def _start_timer(self, name: str, interval: float, task: Callable[[], object]) -> None:
        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    task()
                except Exception:  # keep beating; the next round tries again
                    LOG.warning("compute %s: %s failed", self.host, name, exc_info=True)

        timer = threading.Thread(target=run, name=f"compute-{name}-{self.host}", daemon=True)
        timer.start()
        self._timers.append(timer)

    def _report_state(self) -> None:
        self.manager.tracker.report_state(self.manager._admin_context())

    def stop(self) -> None:
        self._stop.set()
        for timer in self._timers:
            timer.join()
        self._timers = []
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
