"""``ConductorAPI``: the client side of the conductor's object endpoints.

A compute process sets it as its objects' ``indirection_api``: every remotable
method then runs in the conductor. It imports no database code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from cumulo.compute.version import UnsupportedServiceVersion
from cumulo.model import exceptions as model_exceptions
from cumulo.model.base import CumuloObject
from cumulo.objects import VersionedObject
from cumulo.rpc import (
    ALLOWED_EXCEPTIONS,
    MessagingTimeout,
    ObjectSerializer,
    RPCClient,
    Target,
    Transport,
)
from cumulo.rpc.remote_errors import ExceptionAllowList

LOG = logging.getLogger(__name__)

TOPIC = "conductor"
API_VERSION = "1.0"
"""The conductor's object API. 1.0: ping, object_action,
object_class_action_versions, object_backport_versions."""


def allowed_exceptions() -> ExceptionAllowList:
    """The exceptions a conductor call re-raises as themselves: the defaults, the
    model's (NotFound, compare-and-swap conflicts...) and the service-level guard
    rail's (a compute refused at registration)."""
    allowed = ALLOWED_EXCEPTIONS.copy()
    allowed.allow(UnsupportedServiceVersion)
    for value in vars(model_exceptions).values():
        if isinstance(value, type) and issubclass(value, Exception):
            allowed.allow(value)
    return allowed


class ConductorAPI:
    """Object indirection through the conductor (``cumulo.objects.Indirection``).

    ``base`` is the project's object base class; its serializer carries objects,
    and received objects too new for this process are backported by the
    conductor itself.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        base: type[VersionedObject] = CumuloObject,
        timeout: float = 30.0,
        version_cap: str | None = None,
    ) -> None:
        self.base = base
        self.serializer = ObjectSerializer(base, indirection=self)
        self.client = RPCClient(
            transport,
            Target(topic=TOPIC, version=API_VERSION),
            version_cap=version_cap,
            serializer=self.serializer,
            timeout=timeout,
            allowed_exceptions=allowed_exceptions(),
        )

    def close(self) -> None:
        self.client.close()

    # --- liveness ------------------------------------------------------------------------

    def ping(self, context: Any, arg: Any = None, timeout: float | None = None) -> Any:
        return self.client.prepare(timeout=timeout).call(context, "ping", arg=arg)

    def wait_until_ready(self, context: Any, timeout: float = 60.0, interval: float = 0.5) -> None:
        """Block until the conductor answers a ping (a compute service starts with this)."""
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                self.ping(context, "ready?", timeout=min(interval * 4, 5.0))
                return
            except MessagingTimeout:
                if time.monotonic() >= deadline:
                    raise MessagingTimeout(
                        f"no conductor answered on topic {TOPIC!r} within {timeout:.0f} s "
                        f"({attempt} pings)"
                    ) from None
                LOG.info("waiting for the conductor (attempt %d)", attempt)

    # --- the indirection protocol ---------------------------------------------------------

    def object_action(
        self,
        context: Any,
        objinst: VersionedObject,
        objmethod: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> tuple[dict[str, Any], Any]:
        updates, result = self.client.call(
            context,
            "object_action",
            objinst=objinst,
            objmethod=objmethod,
            args=list(args),
            kwargs=kwargs,
        )
        return updates, result

    def object_class_action_versions(
        self,
        context: Any,
        objname: str,
        objmethod: str,
        object_versions: Mapping[str, str],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        return self.client.call(
            context,
            "object_class_action_versions",
            objname=objname,
            objmethod=objmethod,
            object_versions=dict(object_versions),
            args=list(args),
            kwargs=kwargs,
        )

    def object_backport_versions(
        self, context: Any, objinst: Any, object_versions: Mapping[str, str], /
    ) -> Any:
        # ``objinst`` is a primitive this process could not load: it goes as it is.
        return self.client.call(
            context,
            "object_backport_versions",
            objinst=objinst,
            object_versions=dict(object_versions),
        )
