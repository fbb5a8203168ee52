"""The embedded deployment: a whole cloud in one process, built and torn down in one
place.

:class:`EmbeddedCloud` wires, in this order, a database brought to this release's
schema, a transport (``inproc://`` unless told otherwise), the volume store, a
conductor serving the object API and the compute tasks, one compute host per name
(driver, ``ComputeManager``, ``ComputeService``), and the clients a caller drives it
with (``ComputeTaskAPI`` to the conductor, ``ComputeAPI`` to the hosts). Teardown
runs the same steps backwards, each one even when another failed, and also after a
start that failed half way. ``cumulo demo``, the compute tests and the compute
benchmark are built on it; so is the all-in-one service.

There is no object indirection: the conductor installs its storage in this process
and the hosts' remotable methods run against it directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine

from cumulo.compute.image_cache import ImageFetchConfig
from cumulo.compute.manager import ComputeManager, peer_client, peer_exceptions
from cumulo.compute.rpcapi import ComputeAPI
from cumulo.compute.service import ComputeService
from cumulo.conductor.service import ConductorService
from cumulo.conductor.tasks.manager import ComputeTaskManager
from cumulo.conductor.tasks_api import ComputeTaskAPI
from cumulo.db import create_engine, sync
from cumulo.rpc import RequestContext, Transport, get_transport
from cumulo.virt import ComputeDriver, DriverConfig, driver_names, load_driver
from cumulo.virt.fake import FakeHypervisorNetwork
from cumulo.virt.loader import driver_entry
from cumulo.volume.store import VolumeStore

__all__ = [
    "CloudOptions",
    "DriverFactory",
    "EmbeddedCloud",
    "TeardownErrorHandler",
]

LOG = logging.getLogger(__name__)

DriverFactory = Callable[[str], ComputeDriver]
"""Makes the driver of the host it is given, instead of :func:`cumulo.virt.load_driver`;
whatever its drivers share (a fake network, a storage pool) is its own."""

TeardownErrorHandler = Callable[[str, Exception], None]
"""Told of each teardown step that failed: what the step was, and the error."""


@dataclass(frozen=True, kw_only=True)
class CloudOptions:
    """What an :class:`EmbeddedCloud` is made of. Give the database as exactly one of
    ``database_url`` and ``sqlite_path``; :meth:`under` fills both paths from one
    state directory."""

    volume_dir: Path
    """The volume store every host shares."""
    database_url: str | None = None
    """Any database Cumulo runs on (SQLite, PostgreSQL, MariaDB); synced at start."""
    sqlite_path: Path | None = None
    """A SQLite file (made absolute), instead of ``database_url``."""
    transport_url: str = "inproc://"
    """``inproc://[name]`` (clouds of one process with the same name share a bus)
    or ``amqp://...``."""
    hosts: Sequence[str] = ("host-a", "host-b")
    """The compute hosts, started in this order."""
    driver: str = "fake"
    """A name :func:`cumulo.virt.load_driver` knows; ignored with ``driver_factory``."""
    driver_config: DriverConfig | None = None
    """The configuration of every host's driver (an instance of the driver's config
    class, e.g. ``FakeConfig``; ``None``: the driver's defaults) ..."""
    host_driver_configs: Mapping[str, DriverConfig] = field(default_factory=dict)
    """... except the hosts named here, which get these instead. The fake network is
    the cloud's own."""
    driver_factory: DriverFactory | None = None
    """Makes each host's driver instead of ``load_driver`` (options a name cannot
    carry, drivers of a test)."""
    conductor_host: str = "conductor"
    """The conductor's server name (its service row, its task steps)."""
    conductor_report_interval: float | None = 30.0
    """Seconds between the conductor's heartbeats (``None``: none)."""
    periodic_interval: float | None = None
    """Seconds between each host's periodic tasks (``None``: none run)."""
    report_interval: float | None = 10.0
    """Seconds between each host's heartbeats (``None``: only with the periodic tasks)."""
    service_down_time: float = 60.0
    """Seconds after its last heartbeat a service is down: placement skips such a
    host, and a host's process may take over a host whose heartbeat is this old."""
    compute_timeout: float | None = 60.0
    """Timeout of a call of the compute client (``EmbeddedCloud.compute``)."""
    task_timeout: float | None = 120.0
    """Timeout of a call of the task client (``EmbeddedCloud.tasks``)."""
    image_fetch: ImageFetchConfig | None = None
    """Hosts fetch base images from this image API into their driver's image
    directory (``None``: the drivers find their images by themselves)."""
    user_id: str = "cumulo"
    project_id: str = "cumulo"
    roles: tuple[str, ...] = ("member",)
    """Who the requests of :meth:`EmbeddedCloud.context` are made for."""

    def __post_init__(self) -> None:
        if (self.database_url is None) == (self.sqlite_path is None):
            raise ValueError("CloudOptions: give exactly one of database_url and sqlite_path")
        if self.driver_factory is None:
            if self.driver not in driver_names():
                raise ValueError(
                    f"CloudOptions.driver: expected one of {', '.join(driver_names())}, "
                    f"got {self.driver!r}"
                )
            config_class = driver_entry(self.driver).config_class()
            given = [("driver_config", self.driver_config)] + [
                (f"host_driver_configs[{host!r}]", config)
                for host, config in self.host_driver_configs.items()
            ]
            for where, config in given:
                if config is not None and not isinstance(config, config_class):
                    raise ValueError(
                        f"CloudOptions.{where}: expected a {config_class.__name__} "
                        f"(driver {self.driver}), got {type(config).__name__}"
                    )
        if len(set(self.hosts)) != len(self.hosts):
            raise ValueError(f"CloudOptions.hosts: a host named twice in {list(self.hosts)}")

    @classmethod
    def under(cls, state_dir: Path, **options: Any) -> CloudOptions:
        """Options keeping the SQLite file (``cumulo.db``) and the volumes
        (``volumes/``) in ``state_dir``; ``options`` are the other fields."""
        return cls(
            sqlite_path=state_dir / "cumulo.db",
            volume_dir=state_dir / "volumes",
            **options,
        )

    @property
    def database(self) -> str:
        """The database URL the cloud connects to."""
        if self.sqlite_path is not None:
            return f"sqlite:///{self.sqlite_path.resolve()}"
        assert self.database_url is not None
        return self.database_url


class EmbeddedCloud:
    """A conductor and compute hosts in this process (see the module docstring).

    Use it as a context manager, or call :meth:`start` and then :meth:`stop`. What
    it exposes exists once :meth:`start` returned.

    Args:
        options: what to build.
        on_teardown_error: told of each teardown step that failed; without one,
            :meth:`stop` raises an ``ExceptionGroup`` of them once every step ran.
    """

    transport: Transport
    engine: Engine
    volume_store: VolumeStore
    task_manager: ComputeTaskManager
    conductor: ConductorService
    compute: ComputeAPI
    """The client of the compute hosts (driver and volume errors come back typed)."""
    tasks: ComputeTaskAPI
    """The client of the conductor's compute tasks (build, live migration, ...)."""

    def __init__(
        self, options: CloudOptions, *, on_teardown_error: TeardownErrorHandler | None = None
    ) -> None:
        self.options = options
        self.on_teardown_error = on_teardown_error
        self.network: FakeHypervisorNetwork | None = None
        """The fake network joining the fake hosts ``load_driver`` made."""
        self.drivers: dict[str, ComputeDriver] = {}
        self.managers: dict[str, ComputeManager] = {}
        self.services: dict[str, ComputeService] = {}
        self._teardown: list[tuple[str, Callable[[], None]]] = []
        self._started = False

    def __repr__(self) -> str:
        return f"<EmbeddedCloud {self.options.transport_url} hosts={list(self.managers)}>"

    # --- requests ---------------------------------------------------------------------------

    def context(self) -> RequestContext:
        """A new request (its own request id) for the options' user and project."""
        options = self.options
        return RequestContext(
            user_id=options.user_id, project_id=options.project_id, roles=list(options.roles)
        )

    # --- start ------------------------------------------------------------------------------

    def start(self) -> EmbeddedCloud:
        """Build the cloud; when a step fails, undo the steps done and raise.

        Raises:
            RuntimeError: it was started before.
            Exception: whatever the failing step raised (the database unreachable, a
                conductor refusing the fleet, a host refusing to start, ...), with a
                note for each teardown step that failed after it.
        """
        if self._started:
            raise RuntimeError(f"{self!r}: started already")
        self._started = True
        try:
            self._build()
        except BaseException as exc:
            for what, error in self._unwind():
                exc.add_note(f"teardown after the failed start: {what}: {error!r}")
            raise
        return self

    def _build(self) -> None:
        options = self.options
        self.transport = get_transport(options.transport_url)
        self._on_stop("clean up the transport", self.transport.cleanup)
        self.engine = create_engine(options.database)
        self._on_stop("dispose of the database engine", self.engine.dispose)
        sync(self.engine)
        self.volume_store = VolumeStore(options.volume_dir)
        if options.driver_factory is None and driver_entry(options.driver).takes_fake_network:
            self.network = FakeHypervisorNetwork()

        self.task_manager = ComputeTaskManager(
            self.transport,
            host=options.conductor_host,
            service_down_time=options.service_down_time,
        )
        self._on_stop(
            "close the task manager's compute client", self.task_manager.compute_rpc.close
        )
        conductor = ConductorService(
            self.transport,
            self.engine,
            host=options.conductor_host,
            extra_endpoints=(self.task_manager,),
            report_interval=options.conductor_report_interval,
        )
        self.conductor = conductor.start()
        self._on_stop(f"stop conductor {options.conductor_host}", conductor.stop)

        for host in options.hosts:
            self.add_host(host)

        self.compute = peer_client(self.transport, timeout=options.compute_timeout)
        self._on_stop("close the compute client", self.compute.close)
        self.tasks = ComputeTaskAPI(
            self.transport, timeout=options.task_timeout, extra_exceptions=peer_exceptions()
        )
        self._on_stop("close the task client", self.tasks.close)

    def add_host(self, host: str, driver: ComputeDriver | None = None) -> ComputeManager:
        """Start compute host ``host`` on ``driver`` (default: the options' driver).

        A host that fails to start leaves nothing behind (and the cloud running).

        Raises:
            ValueError: ``host`` runs already, or a driver option the driver refuses.
            Exception: what the driver or the compute service raised at start (for
                example ``UnsupportedServiceVersion``).
        """
        if host in self.managers:
            raise ValueError(f"compute host {host!r} runs already")
        undo: list[tuple[str, Callable[[], None]]] = []
        try:
            if driver is None:
                driver = self._make_driver(host)
            undo.append((f"shut down the driver of {host}", driver.shutdown))
            fetch = self.options.image_fetch
            manager = ComputeManager(
                host,
                driver,
                self.volume_store,
                transport=self.transport,
                images=fetch.cache_for(driver) if fetch is not None else None,
            )
            undo.append((f"close the peer client of {host}", manager.compute_rpc.close))
            service = ComputeService(
                self.transport,
                manager,
                periodic_interval=self.options.periodic_interval,
                report_interval=self.options.report_interval,
                service_down_time=self.options.service_down_time,
            )
            # A service that failed half way through its start is stopped too.
            undo.append((f"stop compute {host}", service.stop))
            service.start(self.context())
        except BaseException as exc:
            for what, error in self._run(undo):
                exc.add_note(f"teardown of {host} after its failed start: {what}: {error!r}")
            raise
        self._teardown.extend(undo)
        self.drivers[host] = driver
        self.managers[host] = manager
        self.services[host] = service
        return manager

    def _make_driver(self, host: str) -> ComputeDriver:
        options = self.options
        if options.driver_factory is not None:
            return options.driver_factory(host)
        config = options.host_driver_configs.get(host, options.driver_config)
        return load_driver(options.driver, host, config, network=self.network)

    # --- stop -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Undo what :meth:`start` and :meth:`add_host` did, last first: the clients,
        each host (service, peer client, driver), the conductor, the task manager's
        client, the database engine, the transport. Every step runs even when an
        earlier one failed; stopping twice is harmless.

        Raises:
            ExceptionGroup: the steps that failed, when no ``on_teardown_error``
                handles them.
        """
        failed = self._unwind()
        if failed and self.on_teardown_error is None:
            raise ExceptionGroup(
                f"teardown of {self!r}: {len(failed)} step(s) failed",
                [error for _, error in failed],
            )

    def _on_stop(self, what: str, undo: Callable[[], None]) -> None:
        self._teardown.append((what, undo))

    def _unwind(self) -> list[tuple[str, Exception]]:
        steps, self._teardown = self._teardown, []
        return self._run(steps)

    def _run(self, steps: list[tuple[str, Callable[[], None]]]) -> list[tuple[str, Exception]]:
        """Run ``steps`` last first, each whatever the others did; the failures."""
        failed: list[tuple[str, Exception]] = []
        for what, undo in reversed(steps):
            try:
                undo()
            except Exception as exc:  # teardown must go on
                LOG.warning("embedded cloud teardown: %s failed", what, exc_info=True)
                failed.append((what, exc))
                if self.on_teardown_error is not None:
                    self.on_teardown_error(what, exc)
        return failed

    def __enter__(self) -> EmbeddedCloud:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
