"""Field descriptors: the class attribute standing for each field, reading its value
from the object's data (wrapping containers and objects on first read) and
sending assignments through the object's checks and change tracking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from msgspec import UNSET

from .containers import TRACKED, adopt_value
from .exceptions import ReadOnlyFieldError
from .fields import FieldSpec

if TYPE_CHECKING:
    from .base import VersionedObject


class FieldDescriptor:
    """Class attribute standing for one field; the value lives in ``obj._data``."""

    __slots__ = ("adopt", "name", "spec")

    def __init__(self, name: str) -> None:
        self.name = name
        self.spec: FieldSpec | None = None
        self.adopt = False  # the stored value may need wrapping when read

    def __get__(self, obj: VersionedObject | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = getattr(obj._data, self.name)
        if value is UNSET:
            return obj._obj_read_unset(self.name)
        if self.adopt and value is not None and type(value) not in TRACKED:
            assert self.spec is not None
            value = adopt_value(value, self.spec.type, obj, self.name)
            setattr(obj._data, self.name, value)
        return value

    def __set__(self, obj: VersionedObject, value: Any) -> None:
        obj._obj_assign(self.name, value)
        obj._obj_mark(self.name)

    def __delete__(self, obj: VersionedObject) -> None:
        assert self.spec is not None
        if self.spec.read_only and getattr(obj._data, self.name) is not UNSET:
            raise ReadOnlyFieldError(obj.obj_name(), self.name)
        setattr(obj._data, self.name, UNSET)
        if obj._children:
            obj._children.pop(self.name, None)
        obj._obj_changes().discard(self.name)
        if obj._dirty:
            obj._dirty.discard(self.name)
        obj._obj_refresh_wire_changes()


class ObjectFieldDescriptor(FieldDescriptor):
    """A field holding objects (directly, in a list or in a dict).

    The parent's data holds the children's wire envelopes, so encoding a tree is
    one native msgspec call; the objects themselves are made on first read and
    kept in ``obj._children``.
    """

    __slots__ = ()

    def __get__(self, obj: VersionedObject | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        children = obj._children
        if children is not None and self.name in children:
            return children[self.name]
        value = getattr(obj._data, self.name)
        if value is UNSET:
            return obj._obj_read_unset(self.name)
        if value is not None:
            assert self.spec is not None
            value = adopt_value(value, self.spec.type, obj, self.name)
        if children is None:
            children = obj._children = {}
        children[self.name] = value
        return value
