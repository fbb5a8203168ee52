"""``VersionedObject``: declared fields, change tracking, lazy loading, equality.

Field values live in a per-class msgspec Struct (``_data``), one attribute per
field, ``UNSET`` while a field is unset. That keeps encoding native: msgspec
writes the Struct straight into the wire envelope. Attribute access goes through
one descriptor per field (``descriptors.py``), which checks values on assignment
and records the change in O(1), telling the owning parent object (if any) that a
child changed; list, dict and set values are tracked containers (``containers.py``).

The ``obj_to_*`` / ``obj_from_*`` methods hand over to ``codec.py``, which needs
this class in turn: ``codec`` is imported at the end of this module, once
``VersionedObject`` exists. That is the one import circle in ``cumulo.objects``
(``tests/test_layering.py`` allows it and no other).
"""

from __future__ import annotations

import typing
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, TypeVar

import msgspec
from msgspec import UNSET

from . import schema, versions
from .containers import adopt_value, at_user_path
from .exceptions import (
    FieldNotSetError,
    FieldValueError,
    LazyLoadError,
    ObjectDeclarationError,
    ReadOnlyFieldError,
)
from .fields import FieldInfo, FieldSpec
from .registry import REGISTRY, Registry
from .schema import ObjectMeta

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
            schema.upgrade_envelope(cls, envelope)
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
        try:
            if value is None and not spec.nullable:
                # Like oslo.versionedobjects: None means "the default" for a field that has one.
                if not spec.has_default:
                    raise FieldValueError(
                        spec.where, "Expected a value, got `None` (field not nullable)"
                    )
                value = spec.make_default()
            value = spec.type.coerce(value, spec.where)
        except FieldValueError as exc:
            # Named from the root object the user reached this one through.
            raise at_user_path(exc, self) from None
        if spec.read_only:
            current = getattr(self._data, name)
            if current is not UNSET and current != value:
                raise ReadOnlyFieldError(self.obj_name(), name)
        if spec.adopt and value is not None:
            value = adopt_value(value, spec.type, self, name)
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


# The documented circle (see the module docstring): the codec needs VersionedObject,
# so it is imported last.
from . import codec as _codec  # noqa: E402
