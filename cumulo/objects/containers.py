"""Tracked containers: the list, dict and set values of fields, which check what is
put into them and report in-place mutation to the object holding them.

Also the links from a child object to the parents holding it, along which those
reports travel, and the path they give a bad value (``Instance.flavor.vcpus``).
Nothing here imports the object class (``base.py`` imports this).
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import msgspec

from .exceptions import FieldValueError
from .types import DictType, FieldType, ListType, NullableType, ObjectType, SetType

if TYPE_CHECKING:
    from .base import VersionedObject


class _Tracked:
    __slots__ = ()
    # Weak, so that objects and their containers never form reference cycles.
    _obj: weakref.ref[VersionedObject]
    _field: str
    _item: FieldType

    def _changed(self) -> None:
        owner = self._obj()
        if owner is not None:
            if self._item.has_objects:
                # The parent's data holds the children's envelopes: keep them in step.
                owner._obj_sync_wire(self._field)
            owner._obj_mark(self._field)


def _adopt_item(container: Any, value: Any) -> Any:
    """Check a value put into a tracked container and give objects their owner."""
    item: FieldType = container._item
    owner = container._obj()
    where = f"{owner.obj_name() if owner else '?'}.{container._field}[]"
    try:
        value = item.coerce(value, where)
    except FieldValueError as exc:
        raise at_user_path(exc, owner) from None
    if container._adopt_items and owner is not None:
        return adopt_value(value, item, owner, container._field)
    return value


def _add_owner(child: VersionedObject, owner: VersionedObject, fname: str) -> None:
    owners = child._owner
    if owners is None:
        child._owner = [(weakref.ref(owner), fname)]
        return
    # Drop parents that are gone, so a child reused by many short-lived parents
    # does not collect an ever longer list.
    owners[:] = [(ref, f) for ref, f in owners if ref() is not None]
    if not any(ref() is owner and f == fname for ref, f in owners):
        # The same object held by a second parent: both hear of its changes.
        owners.append((weakref.ref(owner), fname))


def owner_path(obj: VersionedObject) -> str:
    """How the user reaches ``obj``: ``Instance.flavor``, ``InstanceList.objects[3]``.

    Just the class name when no live parent holds it; a child held by two parents
    is named through the first. Walks the parents, so it is for error messages only.
    """
    for ref, fname in obj._owner or ():
        parent = ref()
        held = parent._children.get(fname) if parent is not None and parent._children else None
        step = _step_to(held, obj)
        if parent is not None and step is not None:
            return f"{owner_path(parent)}.{fname}{step}"
    return obj.obj_name()


def _step_to(held: Any, obj: VersionedObject) -> str | None:
    """The index or key path from a field's value down to ``obj`` ("" when it is
    ``obj``), None when ``obj`` is not in it (any more)."""
    if held is obj:
        return ""
    items: Iterable[tuple[str, Any]] = ()
    if isinstance(held, list):
        items = ((f"[{i}]", v) for i, v in enumerate(held))
    elif isinstance(held, dict):
        items = ((f"[{k!r}]", v) for k, v in held.items())
    for step, value in items:
        rest = _step_to(value, obj)
        if rest is not None:
            return step + rest
    return None


def at_user_path(exc: FieldValueError, obj: VersionedObject | None) -> FieldValueError:
    """``exc``, which names a field of ``obj`` from its class (``Flavor.vcpus``), naming
    it from where the user reached ``obj`` instead (``Instance.flavor.vcpus``)."""
    if obj is None or obj._owner is None:
        return exc
    name = obj.obj_name()
    path = owner_path(obj)
    if path == name or not exc.where.startswith(name):
        return exc
    return FieldValueError(path + exc.where[len(name) :], exc.reason)


class TrackedList(list[Any], _Tracked):
    """A list field's value: checks new items and marks the field changed on mutation."""

    __slots__ = ("_adopt_items", "_field", "_item", "_obj")

    def __init__(
        self, items: Iterable[Any], obj: VersionedObject, fname: str, item: FieldType
    ) -> None:
        super().__init__(items)
        self._obj = weakref.ref(obj)
        self._field = fname
        self._item = item
        self._adopt_items = item.needs_adopt

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            value = [_adopt_item(self, v) for v in value]
        else:
            value = _adopt_item(self, value)
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: Any) -> None:
        super().__delitem__(index)
        self._changed()

    def __iadd__(self, other: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(other)
        return self

    def __imul__(self, n: Any) -> TrackedList:  # type: ignore[misc]
        super().__imul__(n)
        self._changed()
        return self

    def append(self, value: Any) -> None:
        super().append(_adopt_item(self, value))
        self._changed()

    def extend(self, values: Iterable[Any]) -> None:
        super().extend([_adopt_item(self, v) for v in values])
        self._changed()

    def insert(self, index: Any, value: Any) -> None:
        super().insert(index, _adopt_item(self, value))
        self._changed()

    def pop(self, index: Any = -1) -> Any:
        value = super().pop(index)
        self._changed()
        return value

    def remove(self, value: Any) -> None:
        super().remove(value)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._changed()

    def reverse(self) -> None:
        super().reverse()
        self._changed()

    def __reduce__(self) -> Any:
        return (list, (list(self),))

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return [copy.deepcopy(v, memo) for v in self]


class TrackedDict(dict[str, Any], _Tracked):
    """A dict field's value: checks new values and marks the field changed on mutation."""

    __slots__ = ("_adopt_items", "_field", "_item", "_obj")

    def __init__(
        self, items: Iterable[Any], obj: VersionedObject, fname: str, item: FieldType
    ) -> None:
        super().__init__(items)
        self._obj = weakref.ref(obj)
        self._field = fname
        self._item = item
        self._adopt_items = item.needs_adopt

    def _key(self, key: Any) -> str:
        if not isinstance(key, str):
            owner = self._obj()
            error = FieldValueError(
                f"{owner.obj_name() if owner else '?'}.{self._field}[{key!r}]",
                f"Expected `str` key, got `{type(key).__name__}`",
            )
            raise at_user_path(error, owner)
        return key

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._key(key), _adopt_item(self, value))
        self._changed()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._changed()

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[override,misc]
        self.update(other)
        return self

    def update(self, *args: Any, **kwargs: Any) -> None:
        merged = dict(*args, **kwargs)
        super().update({self._key(k): _adopt_item(self, v) for k, v in merged.items()})
        self._changed()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: Any, *default: Any) -> Any:
        value = super().pop(key, *default)
        self._changed()
        return value

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self._changed()
        return item

    def clear(self) -> None:
        super().clear()
        self._changed()

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {k: copy.deepcopy(v, memo) for k, v in self.items()}


class TrackedSet(set[Any], _Tracked):
    """A set field's value: checks new members and marks the field changed on mutation."""

    __slots__ = ("_adopt_items", "_field", "_item", "_obj")

    def __init__(
        self, items: Iterable[Any], obj: VersionedObject, fname: str, item: FieldType
    ) -> None:
        super().__init__(items)
        self._obj = weakref.ref(obj)
        self._field = fname
        self._item = item
        self._adopt_items = False

    def add(self, value: Any) -> None:
        super().add(_adopt_item(self, value))
        self._changed()

    def update(self, *others: Iterable[Any]) -> None:
        for other in others:
            super().update([_adopt_item(self, v) for v in other])
        self._changed()

    def __ior__(self, other: Any) -> TrackedSet:  # type: ignore[misc]
        self.update(other)
        return self

    def __iand__(self, other: Any) -> TrackedSet:  # type: ignore[misc]
        super().__iand__(other)
        self._changed()
        return self

    def __isub__(self, other: Any) -> TrackedSet:  # type: ignore[misc]
        super().__isub__(other)
        self._changed()
        return self

    def __ixor__(self, other: Any) -> TrackedSet:  # type: ignore[misc]
        super().__ixor__({_adopt_item(self, v) for v in other})
        self._changed()
        return self

    def discard(self, value: Any) -> None:
        super().discard(value)
        self._changed()

    def remove(self, value: Any) -> None:
        super().remove(value)
        self._changed()

    def pop(self) -> Any:
        value = super().pop()
        self._changed()
        return value

    def clear(self) -> None:
        super().clear()
        self._changed()

    def difference_update(self, *others: Iterable[Any]) -> None:
        super().difference_update(*others)
        self._changed()

    def intersection_update(self, *others: Iterable[Any]) -> None:
        super().intersection_update(*others)
        self._changed()

    def symmetric_difference_update(self, other: Iterable[Any]) -> None:
        super().symmetric_difference_update({_adopt_item(self, v) for v in other})
        self._changed()

    def __reduce__(self) -> Any:
        return (set, (set(self),))

    def __copy__(self) -> set[Any]:
        return set(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> set[Any]:
        return {copy.deepcopy(v, memo) for v in self}


TRACKED = (TrackedList, TrackedDict, TrackedSet)


def adopt_value(value: Any, ftype: FieldType, owner: VersionedObject, fname: str) -> Any:
    """Turn a stored value into what the user sees.

    Wire envelopes become objects owned by ``owner``; containers become tracked
    containers. Values that need neither are returned as they are.
    """
    if value is None:
        return None
    if isinstance(ftype, NullableType):
        ftype = ftype.inner
    if isinstance(ftype, ObjectType):
        if isinstance(value, msgspec.Struct):  # still its wire envelope
            envelope: Any = value
            value = envelope._obj_cls._obj_from_envelope(envelope, owner._context)
        _add_owner(value, owner, fname)
        return value
    if isinstance(ftype, ListType):
        item = ftype.item
        if item.needs_adopt:
            return TrackedList(
                (adopt_value(v, item, owner, fname) for v in value), owner, fname, item
            )
        return TrackedList(value, owner, fname, item)
    if isinstance(ftype, DictType):
        item = ftype.value
        if item.needs_adopt:
            return TrackedDict(
                ((k, adopt_value(v, item, owner, fname)) for k, v in value.items()),
                owner,
                fname,
                item,
            )
        return TrackedDict(value, owner, fname, item)
    if isinstance(ftype, SetType):
        return TrackedSet(value, owner, fname, ftype.item)
    return value
