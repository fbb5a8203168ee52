"""The serializer hook: how arguments, results and the request context become
primitives for the wire and come back.

``PlainSerializer`` passes values through and carries a :class:`RequestContext`;
``ObjectSerializer`` also turns versioned objects into OVO-style primitives and
back, asking an indirection (the conductor) to backport an object this process
is too old to load.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from cumulo.objects import (
    IncompatibleObjectVersion,
    Registry,
    VersionedObject,
    deserialize_entity,
    serialize_entity,
)

from .context import RequestContext
from .metrics import METRICS, Counters


@runtime_checkable
class Serializer(Protocol):
    """Applied by clients and servers to every argument, result and context."""

    def serialize_entity(self, ctx: Any, entity: Any, /) -> Any:
        """``entity`` as primitives that msgspec can encode as JSON."""
        ...

    def deserialize_entity(self, ctx: Any, primitive: Any, /) -> Any:
        """The value a peer serialized, rebuilt here (``ctx`` is the local context)."""
        ...

    def serialize_context(self, ctx: Any, /) -> dict[str, Any]: ...

    def deserialize_context(self, primitive: dict[str, Any], /) -> Any: ...


class Backporter(Protocol):
    """What :class:`ObjectSerializer` needs from an indirection (the conductor client)."""

    def object_backport_versions(
        self, context: Any, objinst: Any, object_versions: Mapping[str, str], /
    ) -> Any:
        """Return the object primitive ``objinst`` backported to ``object_versions``."""
        ...


class PlainSerializer:
    """Values go as they are (msgspec encodes them); contexts are RequestContexts.

    A mapping is accepted as a context too and arrives as a RequestContext.
    """

    def serialize_entity(self, ctx: Any, entity: Any, /) -> Any:
        return entity

    def deserialize_entity(self, ctx: Any, primitive: Any, /) -> Any:
        return primitive

    def serialize_context(self, ctx: Any, /) -> dict[str, Any]:
        if isinstance(ctx, RequestContext):
            return ctx.to_dict()
        if isinstance(ctx, Mapping):
            return dict(ctx)
        raise TypeError(
            f"Expected a RequestContext (or a mapping) as the context, got `{type(ctx).__name__}`"
        )

    def deserialize_context(self, primitive: dict[str, Any], /) -> RequestContext:
        return RequestContext.from_dict(primitive)


class ObjectSerializer(PlainSerializer):
    """Versioned objects travel as OVO-style primitives of ``base``'s project.

    When a received object is newer than this process can load
    (:class:`~cumulo.objects.IncompatibleObjectVersion`), the serializer asks
    ``indirection`` (or, when not given, ``base.indirection_api``) to backport it
    to the versions this process knows, then loads the result. Each backport
    bumps ``rpc.object_backports`` in ``metrics``.
    """

    def __init__(
        self,
        base: type[VersionedObject] = VersionedObject,
        *,
        registry: Registry | None = None,
        indirection: Backporter | None = None,
        metrics: Counters = METRICS,
    ) -> None:
        self.base = base
        self.registry = registry or base.OBJ_REGISTRY
        self.indirection = indirection
        self.metrics = metrics
        sns = base.OBJ_SERIAL_NAMESPACE
        self._name_key = f"{sns}.name"
        self._namespace_key = f"{sns}.namespace"

    def serialize_entity(self, ctx: Any, entity: Any, /) -> Any:
        return serialize_entity(entity)

    def deserialize_entity(self, ctx: Any, primitive: Any, /) -> Any:
        try:
            return deserialize_entity(primitive, ctx, self.registry, self.base)
        except IncompatibleObjectVersion:
            if self._backporter() is None:
                raise
        # Slow path: load object by object, backporting those that are too new.
        return self._load(ctx, primitive)

    def _backporter(self) -> Backporter | None:
        return self.indirection or self.base.indirection_api

    def _load(self, ctx: Any, value: Any) -> Any:
        if isinstance(value, dict):
            if self._name_key in value:
                return self._load_object(ctx, value)
            return {k: self._load(ctx, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._load(ctx, v) for v in value]
        return value

    def _load_object(self, ctx: Any, primitive: dict[str, Any]) -> Any:
        try:
            return deserialize_entity(primitive, ctx, self.registry, self.base)
        except IncompatibleObjectVersion:
            backporter = self._backporter()
            if backporter is None:
                raise
        name = primitive[self._name_key]
        namespace = primitive.get(self._namespace_key, self.base.OBJ_PROJECT_NAMESPACE)
        # The manifest of the object as this process knows it: its version and the
        # versions of every object it can contain.
        manifest = self.registry.newest(namespace, name).obj_tree_get_versions()
        backported = backporter.object_backport_versions(ctx, primitive, manifest)
        self.metrics.incr("rpc.object_backports")
        return deserialize_entity(backported, ctx, self.registry, self.base)
