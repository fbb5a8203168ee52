"""``ConductorManager``: the conductor's object endpoints.

Each runs an object method against the database on behalf of a compute host:
``object_class_action_versions`` for remotable classmethods,
``object_action`` for remotable methods (on a clone; only the changes go back),
``object_backport_versions`` for a peer that received an object too new for it.

During a rolling upgrade two counters (in :data:`cumulo.rpc.METRICS`, served by
the ``admin`` endpoint) show the work done for older computes:
``conductor.backports_served`` (``object_backport_versions`` answered) and
``conductor.result_backports`` (classmethod results sent back at a caller's older
versions), each also counted per peer level as ``<name>.level_N`` (the oldest level
whose object versions the caller's match).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from cumulo.compute.version import check_compute_level, level_of_manifest
from cumulo.model.base import CumuloObject
from cumulo.model.service import Service, ServiceBinary
from cumulo.objects import (
    VersionedObject,
    run_class_action,
    run_object_action,
)
from cumulo.objects import backport as backport_primitive
from cumulo.rpc import METRICS, Counters, Target

from .rpcapi import API_VERSION

LOG = logging.getLogger(__name__)


class ConductorManager:
    """The conductor's object API (see :data:`cumulo.conductor.rpcapi.API_VERSION`)."""

    target = Target(version=API_VERSION)

    def __init__(
        self, base: type[VersionedObject] = CumuloObject, metrics: Counters = METRICS
    ) -> None:
        self.base = base
        self.registry = base.OBJ_REGISTRY
        self.metrics = metrics

    def ping(self, context: Any, arg: Any = None) -> dict[str, Any]:
        return {"service": "conductor", "arg": arg}

    def object_class_action_versions(
        self,
        context: Any,
        objname: str,
        objmethod: str,
        object_versions: Mapping[str, str],
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> Any:
        """Run ``objname.objmethod`` here; objects in the result go back at the
        versions the caller named (its manifest)."""
        if objname not in object_versions:
            raise ValueError(f"object_versions does not name {objname!r}")
        cls = self.registry.lookup(
            self.base.OBJ_PROJECT_NAMESPACE, objname, object_versions[objname]
        )
        LOG.info(
            "class action %s.%s",
            objname,
            objmethod,
            extra={"request_id": getattr(context, "request_id", None)},
        )
        result = run_class_action(context, cls, objmethod, tuple(args), kwargs)
        return self._at_versions(result, object_versions)

    def object_action(
        self,
        context: Any,
        objinst: VersionedObject,
        objmethod: str,
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> tuple[dict[str, Any], Any]:
        """Run ``objinst.objmethod`` here; return ``(updates, result)``.

        The method runs on the object as received; ``updates`` holds the fields it
        changed and the change marks the caller should keep.
        """
        if not isinstance(objinst, VersionedObject):
            raise TypeError(f"object_action needs an object, got {type(objinst).__name__}")
        _refuse_unsupported_compute(objinst, objmethod)
        LOG.info(
            "object action %s.%s",
            objinst.obj_name(),
            objmethod,
            extra={"request_id": getattr(context, "request_id", None)},
        )
        return run_object_action(context, objinst, objmethod, tuple(args), kwargs)

    def object_backport_versions(
        self, context: Any, objinst: Any, object_versions: Mapping[str, str]
    ) -> dict[str, Any]:
        """``objinst`` (a primitive, or an object this newer conductor could load) as
        a primitive at ``object_versions``."""
        self._count("conductor.backports_served", object_versions)
        LOG.debug(
            "backport for a peer to %s",
            dict(object_versions),
            extra={"request_id": getattr(context, "request_id", None)},
        )
        if isinstance(objinst, VersionedObject):
            return objinst.obj_to_primitive(
                target_version=object_versions.get(objinst.obj_name()),
                version_manifest=object_versions,
            )
        return backport_primitive(objinst, object_versions, self.registry, self.base)

    def _count(self, name: str, object_versions: Mapping[str, str]) -> None:
        """Bump ``name``, and ``name.level_N`` for the peer level the versions match."""
        self.metrics.incr(name)
        peer_level = level_of_manifest(object_versions)
        if peer_level is not None:
            self.metrics.incr(f"{name}.level_{peer_level}")

    def _at_versions(self, result: Any, object_versions: Mapping[str, str]) -> Any:
        """Objects the caller asked for at older versions go back as primitives made at
        those versions (the caller cannot load ours)."""
        if isinstance(result, VersionedObject):
            wanted = object_versions.get(result.obj_name())
            if wanted is not None and wanted != result.VERSION:
                self._count("conductor.result_backports", object_versions)
                return result.obj_to_primitive(
                    target_version=wanted, version_manifest=object_versions
                )
            return result
        if isinstance(result, list | tuple):
            return [self._at_versions(item, object_versions) for item in result]
        return result


def _refuse_unsupported_compute(objinst: VersionedObject, objmethod: str) -> None:
    """A compute registering (or heartbeating) at a level this conductor cannot serve
    is refused here, whatever release it runs: below the oldest supported level, or
    newer than this conductor (upgrade the conductor first). Nothing is written.

    Raises:
        UnsupportedServiceVersion: naming the host and both levels.
    """
    if (
        objmethod in ("create", "save")
        and isinstance(objinst, Service)
        and objinst.obj_attr_is_set("binary")
        and objinst.binary is ServiceBinary.COMPUTE
        and objinst.obj_attr_is_set("version")
    ):
        check_compute_level(objinst.host, objinst.version)
