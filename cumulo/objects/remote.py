"""Remotable methods and the indirection protocol.

With ``indirection_api`` set on a project's base class (a compute host sets it to
its conductor client), a ``@remotable`` method does not run locally: the object
and arguments go to the conductor, which runs the method against the database
and sends back the changed fields. With no indirection, the body runs here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, runtime_checkable

from .base import VersionedObject
from .exceptions import OrphanedObjectError

P = ParamSpec("P")
R = TypeVar("R")
ObjT = TypeVar("ObjT", bound=VersionedObject)


@runtime_checkable
class Indirection(Protocol):
    """Where remotable methods run when they do not run locally (the conductor)."""

    def object_action(
        self,
        context: Any,
        objinst: VersionedObject,
        objmethod: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> tuple[dict[str, Any], Any]:
        """Run ``objinst.objmethod(*args, **kwargs)`` remotely.

        Returns ``(updates, result)``: ``updates`` maps changed fields to their new
        values, plus ``"obj_what_changed"``: the fields still marked changed.
        """
        ...

    def object_class_action_versions(
        self,
        context: Any,
        objname: str,
        objmethod: str,
        object_versions: Mapping[str, str],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Run a remotable classmethod remotely; objects in the result come back at
        the versions in ``object_versions`` (the caller's manifest)."""
        ...

    def object_backport_versions(
        self, context: Any, objinst: Any, object_versions: Mapping[str, str]
    ) -> Any:
        """Return ``objinst`` (a primitive this process could not load) as a primitive
        at the versions of ``object_versions``."""
        ...


def remotable(
    fn: Callable[Concatenate[ObjT, P], R],
) -> Callable[Concatenate[ObjT, P], R]:
    """Decorate an instance method so that it runs through the indirection API."""

    @functools.wraps(fn)
    def wrapper(self: ObjT, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._context is None:
            raise OrphanedObjectError(
                f"cannot call {self.obj_name()}.{fn.__name__}() on an object without a context"
            )
        api = type(self).indirection_api
        if api is None:
            return fn(self, *args, **kwargs)
        updates, result = api.object_action(self._context, self, fn.__name__, args, dict(kwargs))
        apply_updates(self, updates)
        return result  # type: ignore[no-any-return]

    wrapper._obj_remotable_original = fn  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def remotable_classmethod(
    fn: Callable[Concatenate[Any, Any, P], R],
) -> classmethod[Any, Concatenate[Any, P], R]:
    """Decorate a classmethod ``(cls, context, ...)`` so that it runs through the
    indirection API; objects it returns get ``context``.

    Write it without ``@classmethod``; annotate ``cls`` (``cls: type[Instance]``) for
    type checkers, which otherwise take the first parameter for ``self``.
    """

    @functools.wraps(fn)
    def wrapper(cls: type[VersionedObject], context: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        api = cls.indirection_api
        if api is None:
            result = fn(cls, context, *args, **kwargs)
        else:
            result = api.object_class_action_versions(
                context,
                cls.obj_name(),
                fn.__name__,
                cls.obj_tree_get_versions(),
                args,
                dict(kwargs),
            )
        _give_context(result, context)
        return result

    wrapper._obj_remotable_original = fn  # type: ignore[attr-defined]
    return classmethod(wrapper)  # type: ignore[arg-type]


def apply_updates(obj: VersionedObject, updates: Mapping[str, Any]) -> None:
    """Apply a remote ``object_action`` result: new field values and change marks.

    Fields this (possibly older) class does not know are ignored.
    """
    fields = obj.obj_fields()
    for name, value in updates.items():
        if name in fields:
            obj._obj_set_loaded(name, value)
    if "obj_what_changed" in updates:
        obj._changed = {n for n in updates["obj_what_changed"] if n in fields}
        obj._dirty = None
        obj._obj_refresh_wire_changes()


def run_object_action(
    context: Any,
    objinst: VersionedObject,
    objmethod: str,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
) -> tuple[dict[str, Any], Any]:
    """The server side of ``object_action``: run the method here, return the changes.

    The method body runs locally (whatever ``indirection_api`` says); ``updates``
    holds every field whose value differs from before the call.
    """
    objinst.obj_set_context(context)
    before = objinst.obj_clone()
    method = getattr(type(objinst), objmethod, None)
    original = getattr(method, "_obj_remotable_original", None)
    if original is None:
        raise AttributeError(f"{objinst.obj_name()} has no remotable method {objmethod!r}")
    result = original(objinst, *args, **kwargs)
    updates: dict[str, Any] = {}
    for name in objinst.obj_fields():
        if not objinst.obj_attr_is_set(name):
            continue
        if not before.obj_attr_is_set(name) or getattr(before, name) != getattr(objinst, name):
            updates[name] = getattr(objinst, name)
    updates["obj_what_changed"] = sorted(objinst.obj_what_changed())
    return updates, result


def run_class_action(
    context: Any,
    cls: type[VersionedObject],
    objmethod: str,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
) -> Any:
    """The server side of ``object_class_action_versions``: run the classmethod here."""
    method = getattr(cls, objmethod, None)
    original = getattr(method, "_obj_remotable_original", None)
    if original is None:
        raise AttributeError(f"{cls.obj_name()} has no remotable classmethod {objmethod!r}")
    result = original(cls, context, *args, **kwargs)
    _give_context(result, context)
    return result


def _give_context(result: Any, context: Any) -> None:
    """Attach ``context`` to the objects a classmethod returned (alone or in a list)."""
    if isinstance(result, VersionedObject):
        result.obj_set_context(context)
    elif isinstance(result, list | tuple):
        for item in result:
            _give_context(item, context)
    elif isinstance(result, dict):
        for item in result.values():
            _give_context(item, context)
