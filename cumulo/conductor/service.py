"""``ConductorService``: the conductor process: the database plus the object
endpoints served on the ``conductor`` topic."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine, select

from cumulo.compute.version import (
    OLDEST_SUPPORTED_SERVICE_VERSION,
    SERVICE_VERSION,
    UnsupportedServiceVersion,
)
from cumulo.db import SqlStorage, create_engine
from cumulo.db.engine import current_revision, describe, head_revision
from cumulo.db.exceptions import DatabaseError
from cumulo.db.models import ServiceRow
from cumulo.model.base import CumuloObject
from cumulo.model.service import Service, ServiceBinary, register_service, report_service
from cumulo.model.storage import set_storage
from cumulo.rpc import (
    ObjectSerializer,
    RequestContext,
    RPCServer,
    Target,
    Transport,
    get_transport,
)
from cumulo.rpc.admin import AdminEndpoint

from .manager import ConductorManager
from .rpcapi import API_VERSION, TOPIC

LOG = logging.getLogger(__name__)


class ConductorService:
    """Serves the conductor's endpoints on ``transport`` against ``database``.

    The schema must be at this release's head (``cumulo db sync``); a conductor
    never migrates a database behind an operator's back.
    """

    def __init__(
        self,
        transport: Transport | str,
        database: Engine | str,
        *,
        host: str = "conductor",
        extra_endpoints: tuple[Any, ...] = (),
        report_interval: float | None = 30.0,
    ) -> None:
        self.transport = get_transport(transport) if isinstance(transport, str) else transport
        self.engine = create_engine(database) if isinstance(database, str) else database
        self.host = host
        self.manager = ConductorManager(CumuloObject)
        self.endpoints = (self.manager, AdminEndpoint(f"conductor {host}"), *extra_endpoints)
        self.server: RPCServer | None = None
        self.report_interval = report_interval
        self.service: Service | None = None
        self._previous_storage: Any = None
        self._stop = threading.Event()
        self._reporter: threading.Thread | None = None

    def check_schema(self) -> None:
        current = current_revision(self.engine)
        head = head_revision()
        if current != head:
            raise DatabaseError(
                f"{describe(self.engine.url)} is at schema revision {current or 'none'}, "
                f"this conductor needs {head}: run `cumulo db sync` first"
            )

    def check_compute_levels(self) -> None:
        """Refuse to serve a fleet this code cannot serve: a compute newer than this
        conductor (upgrade the conductor first) or older than the oldest supported level.

        Raises:
            UnsupportedServiceVersion: naming every such host and its level.
        """
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ServiceRow.host, ServiceRow.version)
                .where(ServiceRow.binary == ServiceBinary.COMPUTE, ServiceRow.deleted == 0)
                .order_by(ServiceRow.host)
            ).all()
        newer = [f"{host} (level {version})" for host, version in rows if version > SERVICE_VERSION]
        older = [
            f"{host} (level {version})"
            for host, version in rows
            if version < OLDEST_SUPPORTED_SERVICE_VERSION
        ]
        problems = []
        if newer:
            problems.append(
                f"computes newer than this conductor (level {SERVICE_VERSION}): "
                f"{', '.join(newer)}; upgrade the conductor first"
            )
        if older:
            problems.append(
                f"computes below the oldest supported level "
                f"({OLDEST_SUPPORTED_SERVICE_VERSION}): {', '.join(older)}; upgrade them "
                "(or delete their service rows) first"
            )
        if problems:
            raise UnsupportedServiceVersion(
                f"conductor {self.host} refuses to start: " + "; ".join(problems)
            )

    def start(self) -> ConductorService:
        """Check the schema and the fleet's levels, then serve.

        Raises:
            DatabaseError: the schema is not at this release's head.
            UnsupportedServiceVersion: see :meth:`check_compute_levels`.
        """
        self.check_schema()
        self.check_compute_levels()
        self._previous_storage = set_storage(SqlStorage(self.engine))
        self.register_service()
        self.server = RPCServer(
            self.transport,
            Target(topic=TOPIC, server=self.host),
            list(self.endpoints),
            serializer=ObjectSerializer(CumuloObject),
        ).start()
        if self.report_interval is not None:
            self._stop.clear()
            self._reporter = threading.Thread(
                target=self._report_periodically, name=f"conductor-report-{self.host}", daemon=True
            )
            self._reporter.start()
        LOG.info("conductor %s serving on %s", self.host, TOPIC)
        return self

    def register_service(self) -> Service:
        """Create or update this conductor's ``cumulo-conductor`` service row with this
        release's level, object manifest and conductor RPC API version."""
        self.service = register_service(
            _admin_context(),
            self.host,
            ServiceBinary.CONDUCTOR,
            TOPIC,
            SERVICE_VERSION,
            API_VERSION,
        )
        return self.service

    def report_state(self) -> None:
        """Heartbeat: count a report and move ``last_seen_up`` to now."""
        if self.service is None:
            self.register_service()
            return
        report_service(_admin_context(), self.service, SERVICE_VERSION, API_VERSION)

    def _report_periodically(self) -> None:
        assert self.report_interval is not None
        while not self._stop.wait(self.report_interval):
            try:
                self.report_state()
            except Exception:  # keep serving; the next beat tries again
                LOG.warning("conductor %s: heartbeat failed", self.host, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._reporter is not None:
            self._reporter.join(10)
            self._reporter = None
        if self.server is not None:
            self.server.stop()
            self.server.wait()
            self.server = None
        set_storage(self._previous_storage)

    def __enter__(self) -> ConductorService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _admin_context() -> RequestContext:
    return RequestContext(user_id="conductor", project_id="admin", roles=["admin"], is_admin=True)
