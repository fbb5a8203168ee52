"""``ConductorService``: the conductor process: the database plus the object
endpoints served on the ``conductor`` topic."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine

from cumulo.db import SqlStorage, create_engine
from cumulo.db.engine import current_revision, describe, head_revision
from cumulo.db.exceptions import DatabaseError
from cumulo.model.base import CumuloObject
from cumulo.model.storage import set_storage
from cumulo.rpc import ObjectSerializer, RPCServer, Target, Transport, get_transport

from .manager import ConductorManager
from .rpcapi import TOPIC

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
    ) -> None:
        self.transport = get_transport(transport) if isinstance(transport, str) else transport
        self.engine = create_engine(database) if isinstance(database, str) else database
        self.host = host
        self.manager = ConductorManager(CumuloObject)
        self.endpoints = (self.manager, *extra_endpoints)
        self.server: RPCServer | None = None
        self._previous_storage: Any = None

    def check_schema(self) -> None:
        current = current_revision(self.engine)
        head = head_revision()
        if current != head:
            raise DatabaseError(
                f"{describe(self.engine.url)} is at schema revision {current or 'none'}, "
                f"this conductor needs {head}: run `cumulo db sync` first"
            )

    def start(self) -> ConductorService:
        self.check_schema()
        self._previous_storage = set_storage(SqlStorage(self.engine))
        self.server = RPCServer(
            self.transport,
            Target(topic=TOPIC, server=self.host),
            list(self.endpoints),
            serializer=ObjectSerializer(CumuloObject),
        ).start()
        LOG.info("conductor %s serving on %s", self.host, TOPIC)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server.wait()
            self.server = None
        set_storage(self._previous_storage)

    def __enter__(self) -> ConductorService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
