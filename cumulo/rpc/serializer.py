"""The serializer hook: how arguments, results and the request context become
primitives for the wire and come back.

``PlainSerializer`` passes values through and carries a :class:`RequestContext`;
``ObjectSerializer`` also turns versioned objects into OVO-style primitives and
back, asking an indirection (the conductor) to backport an object this process
is too old to load.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

from cumulo.objects import (
    IncompatibleObjectVersion,
    Registry,
    VersionedObject,
    deserialize_entity,
    serialize_entity,
    versions,
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


class BacklevelSerializer(ObjectSerializer):
    """An :class:`ObjectSerializer` that can backlevel what it sends (sender side).

    Inside :meth:`backlevel_to`, every versioned object serialized (at any depth in
    lists and dicts) goes out at the versions ``manifest`` names
    (``obj_to_primitive(target_version=manifest[name], version_manifest=manifest)``),
    so a known older peer can load it without asking the conductor. Each object whose
    tree had to change bumps ``rpc.sender_backlevels`` in ``metrics`` (and
    ``rpc.sender_backlevels.<label>`` when the peer is labelled, e.g. by its level).
    Outside it (or with ``None``), objects go at their current versions.
    """

    def __init__(
        self,
        base: type[VersionedObject] = VersionedObject,
        *,
        registry: Registry | None = None,
        indirection: Backporter | None = None,
        metrics: Counters = METRICS,
    ) -> None:
        super().__init__(base, registry=registry, indirection=indirection, metrics=metrics)
        self._peer: contextvars.ContextVar[tuple[Mapping[str, str], str | None] | None] = (
            contextvars.ContextVar(f"backlevel-{id(self)}", default=None)
        )

    @contextlib.contextmanager
    def backlevel_to(
        self, manifest: Mapping[str, str] | None, *, label: str | None = None
    ) -> Iterator[None]:
        """Serialize for a peer that understands ``manifest`` (``None``: anything);
        ``label`` names the peer's kind in the per-peer counter."""
        token = self._peer.set((manifest, label) if manifest else None)
        try:
            yield
        finally:
            self._peer.reset(token)

    def serialize_entity(self, ctx: Any, entity: Any, /) -> Any:
        peer = self._peer.get()
        if peer is not None:
            entity = self._backlevel(entity, *peer)
        return serialize_entity(entity)

    def _backlevel(self, value: Any, manifest: Mapping[str, str], label: str | None) -> Any:
        if isinstance(value, VersionedObject):
            if not _needs_backlevel(type(value), manifest):
                return value
            name = value.obj_name()
            primitive = value.obj_to_primitive(
                target_version=manifest.get(name), version_manifest=manifest
            )
            self.metrics.incr("rpc.sender_backlevels")
            if label is not None:
                self.metrics.incr(f"rpc.sender_backlevels.{label}")
            return primitive
        if isinstance(value, (list, tuple)):
            return [self._backlevel(v, manifest, label) for v in value]
        if isinstance(value, dict):
            return {k: self._backlevel(v, manifest, label) for k, v in value.items()}
        return value


@functools.cache
def _tree_versions(cls: type[VersionedObject]) -> tuple[tuple[str, versions.Version], ...]:
    """``cls``'s tree manifest, parsed once per class (classes never change once built)."""
    return tuple((name, versions.parse(v)) for name, v in cls.obj_tree_get_versions().items())


def _needs_backlevel(cls: type[VersionedObject], manifest: Mapping[str, str]) -> bool:
    """Whether ``manifest`` names an older version of ``cls`` or of anything it contains."""
    for name, version in _tree_versions(cls):
        wanted = manifest.get(name)
        if wanted is not None and versions.parse(wanted) < version:
            return True
    return False
