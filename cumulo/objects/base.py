"""``VersionedObject``: declared fields, change tracking, lazy loading, equality.

Field values live in a per-class msgspec Struct (``_data``), one attribute per
field, ``UNSET`` while a field is unset. That keeps encoding native: msgspec
writes the Struct straight into the wire envelope. Attribute access goes through
one descriptor per field, which checks values on assignment and records the
change in ObjT(1), telling the owning parent object (if any) that a child changed.
"""

from __future__ import annotations

import copy
import typing
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, TypeVar, dataclass_transform

import msgspec
from msgspec import UNSET

from . import versions
from .exceptions import (
    FieldNotSetError,
    FieldValueError,
    LazyLoadError,
    ObjectDeclarationError,
    ReadOnlyFieldError,
)
from .fields import MISSING, FieldInfo, FieldSpec, field
from .registry import REGISTRY, Registry
from .types import (
    DictType,
    FieldType,
    ListType,
    NullableType,
    ObjectType,
    SetType,
)

if typing.TYPE_CHECKING:
    from .remote import Indirection

ObjT = TypeVar("ObjT", bound="VersionedObject")

LAZY_LOADS: Counter[tuple[str, str]] = Counter()
"""How many times each ``(object name, field)`` was lazy-loaded in this process."""


def lazy_load_counts() -> dict[tuple[str, str], int]:
    """A snapshot of :data:`LAZY_LOADS`, to find N+1 loading patterns."""
    return dict(LAZY_LOADS)


def reset_lazy_load_counts() -> None:
    LAZY_LOADS.clear()


# --- containers that report in-place mutation -------------------------------------------


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
    value = item.coerce(value, where)
    if container._adopt_items and owner is not None:
        return _adopt(value, item, owner, container._field)
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
            raise FieldValueError(
                f"{owner.obj_name() if owner else '?'}.{self._field}[{key!r}]",
                f"Expected `str` key, got `{type(key).__name__}`",
            )
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


_TRACKED = (TrackedList, TrackedDict, TrackedSet)


def _adopt(value: Any, ftype: FieldType, owner: VersionedObject, fname: str) -> Any:
    """Turn a stored value into what the user sees.

    Wire envelopes become objects owned by ``owner``; containers become tracked
    containers. Values that need neither are returned as they are.
    """
    if value is None:
        return None
    if isinstance(ftype, NullableType):
        ftype = ftype.inner
    if isinstance(ftype, ObjectType):
        if not isinstance(value, VersionedObject):
            value = value._obj_cls._obj_from_envelope(value, owner._context)
        _add_owner(value, owner, fname)
        return value
    if isinstance(ftype, ListType):
        item = ftype.item
        if item.needs_adopt:
            return TrackedList((_adopt(v, item, owner, fname) for v in value), owner, fname, item)
        return TrackedList(value, owner, fname, item)
    if isinstance(ftype, DictType):
        item = ftype.value
        if item.needs_adopt:
            return TrackedDict(
                ((k, _adopt(v, item, owner, fname)) for k, v in value.items()), owner, fname, item
            )
        return TrackedDict(value, owner, fname, item)
    if isinstance(ftype, SetType):
        return TrackedSet(value, owner, fname, ftype.item)
    return value


def _wire_form(value: Any) -> Any:
    """What a parent's data holds for an object-bearing value: envelopes, not objects."""
    if isinstance(value, VersionedObject):
        return value._env
    if isinstance(value, list):
        return [_wire_form(v) for v in value]
    if isinstance(value, dict):
        return {k: _wire_form(v) for k, v in value.items()}
    return value


def has_changes(value: Any) -> bool:
    """True when ``value`` holds an object (or wire envelope) with pending changes."""
    if isinstance(value, VersionedObject):
        return bool(value._obj_changes()) or bool(value._dirty and value.obj_what_changed())
    if isinstance(value, list):
        return any(has_changes(v) for v in value)
    if isinstance(value, dict):
        return any(has_changes(v) for v in value.values())
    changes = getattr(value, "changes", UNSET)
    return changes is not UNSET and bool(changes)


def iter_objects(value: Any) -> Iterator[VersionedObject]:
    """The objects directly held by a field value (not their descendants)."""
    if isinstance(value, VersionedObject):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from iter_objects(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_objects(v)


# --- field descriptors ---------------------------------------------------------------------


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
        if self.adopt and value is not None and type(value) not in _TRACKED:
            assert self.spec is not None
            value = _adopt(value, self.spec.type, obj, self.name)
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
            value = _adopt(value, self.spec.type, obj, self.name)
        if children is None:
            children = obj._children = {}
        children[self.name] = value
        return value


# --- class construction --------------------------------------------------------------------


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return typing.get_origin(annotation) is ClassVar


@dataclass_transform(kw_only_default=True, field_specifiers=(field,))
class ObjectMeta(type):
    """Turns annotated class attributes into field descriptors."""

    def __new__(
        mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kwargs: Any
    ) -> ObjectMeta:
        namespace.setdefault("__slots__", ())
        own: dict[str, FieldInfo] = {}
        for fname, annotation in namespace.get("__annotations__", {}).items():
            if fname.startswith("_") or _is_classvar(annotation):
                continue
            declared = namespace.pop(fname, MISSING)
            if isinstance(declared, FieldInfo):
                info = declared
            else:
                info = FieldInfo(declared, None, None, None, False, False, False, None)
            own[fname] = info
            namespace[fname] = FieldDescriptor(fname)
        namespace["_obj_own_infos"] = own
        namespace["_obj_built"] = False
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        return cls


class _ObjectState:
    """The per-object state slots, declared outside the dataclass-like hierarchy so
    that type checkers do not take them for constructor fields."""

    __slots__ = (
        "__weakref__",
        "_changed",
        "_children",
        "_context",
        "_data",
        "_dirty",
        "_env",
        "_owner",
    )

    _data: Any
    # This object's wire envelope (name, namespace, version, _data, changes); its
    # `changes` list is kept equal to the changed fields as they change.
    _env: Any
    # Objects (or tracked lists/dicts of objects) made from envelopes in _data.
    _children: dict[str, Any] | None
    # The changed fields; None while they are still only the envelope's `changes`
    # list of a decoded object (made into a set when first needed).
    _changed: set[str] | None
    _dirty: set[str] | None
    # The parents holding this object, weakly, with the field that holds it.
    _owner: list[tuple[weakref.ref[VersionedObject], str]] | None
    _context: Any


class VersionedObject(_ObjectState, metaclass=ObjectMeta):
    """Base class of versioned objects.

    Subclass it once per project to set the namespaces, then declare objects::

        class MyObject(VersionedObject):
            OBJ_PROJECT_NAMESPACE = "myproject"
            OBJ_SERIAL_NAMESPACE = "myproject_object"

        @register
        class Flavor(MyObject):
            VERSION = "1.1"
            name: str
            swap: int = field(default=0, added="1.1")
    """

    __slots__ = ()

    VERSION: ClassVar[str] = "1.0"
    OBJ_PROJECT_NAMESPACE: ClassVar[str] = "versionedobjects"
    OBJ_SERIAL_NAMESPACE: ClassVar[str] = "versioned_object"
    OBJ_REGISTRY: ClassVar[Registry] = REGISTRY
    OBJ_NAME: ClassVar[str | None] = None
    indirection_api: ClassVar[Indirection | None] = None

    # Filled in by ObjectMeta / _obj_build.
    _obj_own_infos: ClassVar[dict[str, FieldInfo]]
    _obj_built: ClassVar[bool]
    _obj_fields: ClassVar[dict[str, FieldSpec]]
    _obj_object_fields: ClassVar[tuple[str, ...]]
    _obj_data_cls: ClassVar[type[msgspec.Struct]]
    _obj_envelope_cls: ClassVar[type[msgspec.Struct]]
    _obj_lenient_envelope_cls: ClassVar[type[msgspec.Struct]]
    _obj_wire: ClassVar[tuple[Any, str, str, str]]
    _obj_wire_keys: ClassVar[tuple[str, str, str]]
    _obj_dec_hook: ClassVar[Callable[[Any, Any], Any] | None]
    _obj_all_fields: ClassVar[dict[str, FieldSpec]]
    _obj_defaults: ClassVar[tuple[FieldSpec, ...]]
    _obj_default_names: ClassVar[frozenset[str]]
    _obj_field_names: ClassVar[frozenset[str]]
    _obj_backport_hooks: ClassVar[tuple[tuple[versions.Version, str], ...]]
    _obj_remotables: ClassVar[dict[str, Callable[..., Any]]]

    # --- class-level API -------------------------------------------------------------

    @classmethod
    def obj_name(cls) -> str:
        return cls.OBJ_NAME or cls.__name__

    @classmethod
    def _obj_build(cls) -> None:
        """Resolve annotations and generate the wire types (once, on first use)."""
        if cls.__dict__.get("_obj_built"):
            return
        from . import schema

        schema.build_class(cls)

    @classmethod
    def obj_fields(cls) -> dict[str, FieldSpec]:
        """The fields of the current version, by name, in declaration order."""
        cls._obj_build()
        return cls._obj_fields

    @classmethod
    def obj_history(cls) -> list[str]:
        """Every version of this object's current major, oldest first."""
        major, minor = versions.parse(cls.VERSION)
        return [f"{major}.{m}" for m in range(minor + 1)]

    @classmethod
    def obj_tree_get_versions(cls) -> dict[str, str]:
        """The manifest ``{name: version}`` of this object and all it can contain."""
        manifest: dict[str, str] = {}
        pending: list[type[VersionedObject]] = [cls]
        while pending:
            current = pending.pop()
            if current.obj_name() in manifest:
                continue
            manifest[current.obj_name()] = current.VERSION
            for spec in current.obj_fields().values():
                pending.extend(spec.type.object_classes())
        return manifest

    # --- construction ----------------------------------------------------------------

    def __init__(self, **kwargs: Any) -> None:
        cls = type(self)
        if not cls.__dict__.get("_obj_built"):
            cls._obj_build()
        data = self._data = cls._obj_data_cls()
        make, name, namespace, version = cls._obj_wire
        self._env = make(name, namespace, version, data, UNSET)
        self._children = None
        self._changed = set()
        self._dirty = None
        self._owner = None
        self._context = None
        fields = cls._obj_fields
        for name, value in kwargs.items():
            if name not in fields:
                raise TypeError(f"{cls.obj_name()}() got an unexpected field {name!r}")
            self._obj_assign(name, value)
        for spec in cls._obj_defaults:
            if spec.name not in kwargs:
                if spec.fast_default:
                    setattr(data, spec.name, spec.default)
                else:
                    self._obj_assign(spec.name, spec.make_default())
        changed = self._changed = set(cls._obj_default_names)
        changed.update(kwargs)
        if changed:
            self._env.changes = list(changed)

    @classmethod
    def _obj_from_envelope(cls: type[ObjT], envelope: Any, context: Any = None) -> ObjT:
        if envelope.version != cls.VERSION:
            _schema.upgrade_envelope(cls, envelope)
        obj = cls.__new__(cls)
        obj._data = envelope.data
        obj._env = envelope
        obj._children = None
        changes = envelope.changes
        if not changes:
            obj._changed = set()
        elif type(envelope) is cls._obj_envelope_cls:
            # The fast decode type admits only this class's field names; the set is
            # made from them when first needed (see _obj_changes).
            obj._changed = None
        else:
            # Names of fields this class does not have are dropped, as
            # oslo.versionedobjects does (its backports leave them in a child's list).
            known = obj._changed = set(changes).intersection(cls._obj_field_names)
            if len(known) != len(changes):
                envelope.changes = list(known) if known else UNSET
        obj._dirty = None
        obj._owner = None
        obj._context = context
        return obj

    # --- field plumbing --------------------------------------------------------------

    def _obj_assign(self, name: str, value: Any) -> None:
        spec = self._obj_fields[name]
        if value is None and not spec.nullable:
            # Like oslo.versionedobjects: None means "the default" for a field that has one.
            if not spec.has_default:
                raise FieldValueError(
                    spec.where, "Expected a value, got `None` (field not nullable)"
                )
            value = spec.make_default()
        value = spec.type.coerce(value, spec.where)
        if spec.read_only:
            current = getattr(self._data, name)
            if current is not UNSET and current != value:
                raise ReadOnlyFieldError(self.obj_name(), name)
        if spec.adopt and value is not None:
            value = _adopt(value, spec.type, self, name)
        if spec.type.has_objects:
            children = self._children
            if children is None:
                children = self._children = {}
            children[name] = value
            value = _wire_form(value)
        setattr(self._data, name, value)

    def _obj_sync_wire(self, name: str) -> None:
        """A tracked list/dict holding objects changed: store its envelopes in the data."""
        if self._children is not None and name in self._children:
            setattr(self._data, name, _wire_form(self._children[name]))

    def _obj_changes(self) -> set[str]:
        changed = self._changed
        if changed is None:
            changed = self._changed = set(self._env.changes or ())
        return changed

    def _obj_mark(self, name: str) -> None:
        changed = self._changed
        if changed is None:
            changed = self._obj_changes()
        if name not in changed:
            changed.add(name)
            self._obj_wire_change(name)
        if self._owner is not None:
            self._obj_tell_owners()

    def _obj_wire_change(self, name: str) -> None:
        env = self._env
        names = env.changes
        if names is UNSET:
            env.changes = [name]
        elif name not in names:
            names.append(name)

    def _obj_refresh_wire_changes(self) -> None:
        changed = self.obj_what_changed()
        self._env.changes = list(changed) if changed else UNSET

    def _obj_tell_owners(self) -> None:
        for ref, field_name in self._owner or ():
            owner = ref()
            if owner is not None:
                owner._obj_child_changed(field_name)

    def _obj_child_changed(self, name: str) -> None:
        dirty = self._dirty
        if dirty is None:
            dirty = self._dirty = set()
        elif name in dirty:
            return
        dirty.add(name)
        self._obj_wire_change(name)
        if self._owner is not None:
            self._obj_tell_owners()

    def _obj_read_unset(self, name: str) -> Any:
        spec = self._obj_fields[name]
        if not spec.lazy:
            raise FieldNotSetError(self.obj_name(), name)
        LAZY_LOADS[(self.obj_name(), name)] += 1
        self.obj_load_attr(name)
        value = getattr(self._data, name)
        if value is UNSET:
            raise LazyLoadError(f"{self.obj_name()}.obj_load_attr({name!r}) did not set the field")
        return getattr(self, name)

    def _obj_set_loaded(self, name: str, value: Any) -> None:
        """Set a field without recording a change (for loaders and remote updates)."""
        self._obj_assign(name, value)

    # --- public instance API ---------------------------------------------------------

    @property
    def obj_context(self) -> Any:
        return self._context

    def obj_set_context(self: ObjT, context: Any) -> ObjT:
        """Attach a request context (needed by remotable methods); returns ``self``."""
        self._context = context
        for spec_name in self._obj_object_fields:
            value = getattr(self._data, spec_name)
            if value is not UNSET and value is not None:
                for child in iter_objects(getattr(self, spec_name)):
                    child.obj_set_context(context)
        return self

    def obj_load_attr(self, name: str) -> None:
        """Load lazy field ``name``; projects override this (usually via the conductor)."""
        raise LazyLoadError(f"{self.obj_name()} cannot lazy-load {name!r}: no loader defined")

    def obj_attr_is_set(self, name: str) -> bool:
        if name not in self._obj_fields:
            raise AttributeError(f"{self.obj_name()} has no field {name!r}")
        return getattr(self._data, name) is not UNSET

    def obj_set_defaults(self, *names: str) -> None:
        """Set the named fields (all with defaults when none named) to their defaults."""
        specs = [self._obj_fields[n] for n in names] if names else list(self._obj_defaults)
        for spec in specs:
            if not spec.has_default:
                raise ObjectDeclarationError(f"{self.obj_name()}.{spec.name} has no default")
            setattr(self, spec.name, spec.make_default())

    def obj_what_changed(self) -> set[str]:
        """Fields assigned or mutated since the last reset, plus fields whose objects changed."""
        changed = set(self._obj_changes())
        dirty = self._dirty
        if dirty:
            for name in dirty:
                if name not in changed and has_changes(self._obj_held(name)):
                    changed.add(name)
        return changed

    def _obj_held(self, name: str) -> Any:
        """An object-bearing field's objects if made already, else its envelopes."""
        children = self._children
        if children is not None and name in children:
            return children[name]
        return getattr(self._data, name)

    def obj_get_changes(self) -> dict[str, Any]:
        """``{field: value}`` for every changed field that is set."""
        return {
            name: getattr(self, name)
            for name in self.obj_what_changed()
            if getattr(self._data, name) is not UNSET
        }

    def obj_reset_changes(
        self, fields: Iterable[str] | None = None, recursive: bool = False
    ) -> None:
        """Forget recorded changes (of ``fields`` only, when given; of children too when
        ``recursive``)."""
        names = None if fields is None else set(fields)
        if recursive:
            for name in self._obj_object_fields:
                if names is not None and name not in names:
                    continue
                if getattr(self._data, name) is UNSET:
                    continue
                for child in iter_objects(getattr(self, name)):
                    child.obj_reset_changes(recursive=True)
        if names is None:
            self._changed = set()
        else:
            self._obj_changes().difference_update(names)
        # Children that still carry changes keep reporting through the parent.
        dirty = {name for name in self._obj_object_fields if has_changes(self._obj_held(name))}
        self._dirty = dirty or None
        wire = self._obj_changes() | dirty
        self._env.changes = list(wire) if wire else UNSET

    def obj_clone(self: ObjT) -> ObjT:
        """A deep copy with the same values, changes and context."""
        copied: ObjT = _codec.clone(self)
        return copied

    def __deepcopy__(self: ObjT, memo: dict[int, Any]) -> ObjT:
        return self.obj_clone()

    def __copy__(self: ObjT) -> ObjT:
        return self.obj_clone()

    def __reduce__(self) -> Any:
        return (_codec._rebuild, (type(self), self.obj_to_primitive()))

    # --- wire ---------------------------------------------------------------------------

    def obj_to_primitive(
        self, target_version: str | None = None, version_manifest: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The OVO-compatible primitive (envelope dict), optionally backported.

        ``target_version`` defaults to ``version_manifest[name]`` when the manifest
        names this object, else to the current version. Children go to the versions
        the manifest names.
        """
        return _codec.to_primitive(self, target_version, version_manifest)

    @classmethod
    def obj_from_primitive(cls: type[ObjT], primitive: Any, context: Any = None) -> ObjT:
        """Load a primitive made by :meth:`obj_to_primitive` (here or by a peer)."""
        # (_obj_built is each class's own: ObjectMeta puts it in every class body.)
        if cls._obj_built and type(primitive) is dict:
            # Fast path: the fast envelope type checks name, namespace and version.
            hook = cls._obj_dec_hook
            try:
                if hook is None:  # (a dec_hook keyword costs msgspec even when None)
                    envelope = msgspec.convert(primitive, cls._obj_envelope_cls)
                else:
                    envelope = msgspec.convert(primitive, cls._obj_envelope_cls, dec_hook=hook)
            except (msgspec.ValidationError, RecursionError):
                pass  # the general path below says what is wrong
            else:
                return cls._obj_from_envelope(envelope, context)
        obj: ObjT = _codec.from_primitive(
            primitive, context=context, registry=cls.OBJ_REGISTRY, expect=cls
        )
        return obj

    def obj_to_json(
        self, target_version: str | None = None, version_manifest: Mapping[str, str] | None = None
    ) -> bytes:
        return _codec.to_json(self, target_version, version_manifest)

    @classmethod
    def obj_from_json(cls: type[ObjT], data: bytes | str, context: Any = None) -> ObjT:
        result: ObjT = _codec.decode_json(data, cls, context=context)
        return result

    def obj_to_msgpack(self) -> bytes:
        return _codec.encode_msgpack(self)

    @classmethod
    def obj_from_msgpack(cls: type[ObjT], data: bytes, context: Any = None) -> ObjT:
        result: ObjT = _codec.decode_msgpack(data, cls, context=context)
        return result

    # --- comparison and display ---------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, VersionedObject)
        mine, theirs = self._data, other._data
        for name in self._obj_fields:
            a = getattr(mine, name)
            b = getattr(theirs, name)
            if a is UNSET or b is UNSET:
                if a is not b:
                    return False
                continue
            if name in self._obj_object_fields:
                a = getattr(self, name)
                b = getattr(other, name)
            if a != b:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        parts = []
        for name, spec in self._obj_fields.items():
            raw = getattr(self._data, name)
            if raw is UNSET:
                continue
            if spec.sensitive:
                parts.append(f"{name}='***'")
            else:
                parts.append(f"{name}={getattr(self, name)!r}")
        return f"{self.obj_name()}({', '.join(parts)})"


def obj_to_loggable(obj: VersionedObject) -> dict[str, Any]:
    """The object's set fields as a dict fit for logs: sensitive values masked."""
    out: dict[str, Any] = {}
    for name, spec in obj.obj_fields().items():
        if not obj.obj_attr_is_set(name):
            continue
        value = getattr(obj, name)
        out[name] = "***" if spec.sensitive else _loggable(value)
    return out


def _loggable(value: Any) -> Any:
    if isinstance(value, VersionedObject):
        return obj_to_loggable(value)
    if isinstance(value, list):
        return [_loggable(v) for v in value]
    if isinstance(value, dict):
        return {k: _loggable(v) for k, v in value.items()}
    return value


# The codec needs VersionedObject; imported last so both modules can refer to each other.
from . import codec as _codec  # noqa: E402
from . import schema as _schema  # noqa: E402
