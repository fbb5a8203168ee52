"""Building a class: :class:`ObjectMeta` collects the declared fields when the class
statement runs; :func:`build_class` resolves them and generates the msgspec types
of the class's wire envelope on first use.

The *current* envelope of a class is used for every decode: lenient about older
versions of the same major (it fills in defaults of fields added since), and
refusing newer minors with :class:`IncompatibleObjectVersion`. The *historical*
envelopes (the exact shape an older release reads) are made from the same
:func:`envelope_struct` in ``history.py``.
"""

from __future__ import annotations

import functools
import inspect
import operator
import sys
import threading
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, dataclass_transform

import msgspec
from msgspec import UNSET, UnsetType

from . import versions
from .addresses import dec_hook
from .descriptors import FieldDescriptor, ObjectFieldDescriptor
from .exceptions import IncompatibleObjectVersion, ObjectDeclarationError
from .fields import MISSING, FieldInfo, FieldSpec, field
from .types import IPType, MACType, from_annotation

if TYPE_CHECKING:
    from .base import VersionedObject

# --- the class statement --------------------------------------------------------------------


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


# --- building on first use -----------------------------------------------------------------

_build_lock = threading.RLock()
_building: set[type[Any]] = set()


def _owner_classes(cls: type[VersionedObject]) -> list[type[Any]]:
    return [c for c in reversed(cls.__mro__) if "_obj_own_infos" in c.__dict__]


def _resolve(owner: type[Any], fname: str, annotation: Any) -> Any:
    """Evaluate a (possibly string or forward-referencing) annotation.

    Names resolve in the declaring module, then among the objects registered in the
    class's namespace, so objects can refer to ones declared later.
    """
    base: type[VersionedObject] = owner
    module = sys.modules.get(owner.__module__)
    globalns = dict(vars(module)) if module else {}
    localns: dict[str, Any] = dict(base.OBJ_REGISTRY.names(base.OBJ_PROJECT_NAMESPACE))
    localns[owner.__name__] = owner
    try:
        return _evaluate(annotation, globalns, localns)
    except Exception as exc:
        raise ObjectDeclarationError(
            f"{owner.__qualname__}.{fname}: cannot resolve annotation {annotation!r}: {exc}"
        ) from None


def _evaluate(tp: Any, globalns: dict[str, Any], localns: dict[str, Any]) -> Any:
    if isinstance(tp, str):
        return _evaluate(eval(tp, globalns, localns), globalns, localns)
    if isinstance(tp, typing.ForwardRef):
        return _evaluate(tp.__forward_arg__, globalns, localns)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if not args or origin is typing.Literal:
        return tp
    if origin is typing.Annotated:
        inner = _evaluate(args[0], globalns, localns)
        return tp if inner is args[0] else typing.Annotated[(inner, *tp.__metadata__)]
    new = tuple(_evaluate(a, globalns, localns) for a in args)
    if new == args:
        return tp
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, new)
    return origin[new if len(new) > 1 else new[0]]


def build_class(cls: type[VersionedObject]) -> None:
    with _build_lock:
        if cls.__dict__.get("_obj_built"):
            return
        if cls in _building:
            raise ObjectDeclarationError(
                f"{cls.obj_name()} contains itself (directly or through other objects); "
                "recursive object graphs are not supported"
            )
        _building.add(cls)
        try:
            _build(cls)
        finally:
            _building.discard(cls)


def _build(cls: type[VersionedObject]) -> None:
    name = cls.obj_name()
    if not versions.is_valid(cls.VERSION):
        raise ObjectDeclarationError(f"{name}.VERSION {cls.VERSION!r} is not 'X.Y'")
    current = versions.parse(cls.VERSION)
    first = f"{current[0]}.0"

    all_specs: dict[str, FieldSpec] = {}
    for owner in _owner_classes(cls):
        annotations = inspect.get_annotations(owner)
        for fname, info in owner.__dict__["_obj_own_infos"].items():
            annotation = _resolve(owner, fname, annotations[fname])
            ftype = from_annotation(annotation, f"{name}.{fname}")
            spec = FieldSpec(fname, ftype, info, first, name)
            _check_history(name, spec, current)
            all_specs[fname] = spec

    fields = {n: s for n, s in all_specs.items() if s.exists_at(current)}
    for fname, spec in all_specs.items():
        if fname not in fields:
            if isinstance(cls.__dict__.get(fname), FieldDescriptor):
                delattr(cls, fname)  # removed in an earlier major: no attribute any more
            continue
        # A descriptor of this class's own (inherited fields are shadowed, not shared).
        desc = (ObjectFieldDescriptor if spec.type.has_objects else FieldDescriptor)(fname)
        desc.spec = spec
        desc.adopt = spec.adopt
        setattr(cls, fname, desc)

    cls._obj_all_fields = all_specs
    cls._obj_fields = fields
    cls._obj_object_fields = tuple(n for n, s in fields.items() if s.type.has_objects)
    cls._obj_defaults = tuple(s for s in fields.values() if s.has_default)
    cls._obj_default_names = frozenset(s.name for s in cls._obj_defaults)
    cls._obj_field_names = frozenset(fields)
    cls._obj_backport_hooks = _collect_backport_hooks(cls)
    cls._obj_remotables = _collect_remotables(cls)

    # Two decode types. The fast one states the header and change names as literal
    # sets, so msgspec checks them in C and interns the strings; any input it refuses
    # is decoded again with the lenient one, whose Python check accepts ".Z" versions
    # and unknown change names, and words the errors (schema.py's __post_init__).
    fast_data = _data_struct(cls, fields, current_envelope, "")
    cls._obj_data_cls = fast_data
    cls._obj_envelope_cls = envelope_struct(
        cls, fast_data, None, header=(name, cls.OBJ_PROJECT_NAMESPACE, tuple(cls.obj_history()))
    )
    lenient_data = _data_struct(cls, fields, lenient_envelope, "Lenient")
    cls._obj_lenient_envelope_cls = envelope_struct(
        cls, lenient_data, _current_post_init(cls, fields), tag="Lenient"
    )
    # Encoding builds an envelope per new object: a twin type without decode checks.
    encode_envelope = envelope_struct(cls, fast_data, None, tag="Out")
    cls._obj_wire = (encode_envelope, name, cls.OBJ_PROJECT_NAMESPACE, cls.VERSION)
    sns = cls.OBJ_SERIAL_NAMESPACE
    cls._obj_wire_keys = (f"{sns}.name", f"{sns}.namespace", f"{sns}.version")
    # Passing a dec_hook costs msgspec time even when unused: only trees holding
    # addresses or MACs (types msgspec does not know) get one.
    cls._obj_dec_hook = dec_hook if _needs_dec_hook(cls) else None
    cls._obj_built = True


def _needs_dec_hook(cls: type[VersionedObject]) -> bool:
    """Whether ``cls`` or any object it can hold has an address or MAC field."""
    seen: set[type[Any]] = set()
    pending: list[type[VersionedObject]] = [cls]
    while pending:
        klass = pending.pop()
        if klass in seen:
            continue
        seen.add(klass)
        specs = klass._obj_fields if klass is cls else klass.obj_fields()
        for spec in specs.values():
            for node in spec.type.walk():
                if isinstance(node, IPType | MACType):
                    return True
            pending.extend(spec.type.object_classes())
    return False


def _check_history(name: str, spec: FieldSpec, current: versions.Version) -> None:
    where = f"{name}.{spec.name}"
    if spec.added_v > current:
        raise ObjectDeclarationError(
            f"{where}: added={spec.added!r} is newer than {name}.VERSION {versions.fmt(current)}"
        )
    if spec.removed_v is not None:
        if spec.removed_v <= spec.added_v:
            raise ObjectDeclarationError(f"{where}: removed={spec.removed!r} is not after added")
        if spec.removed_v[1] != 0:
            raise ObjectDeclarationError(
                f"{where}: removed={spec.removed!r}; fields are only removed by a major bump (X.0)"
            )
    if spec.values_added:
        enum_t = spec.type.enum()
        if enum_t is None:
            raise ObjectDeclarationError(f"{where}: values_added given for a non-enum field")
        for ver, vals in spec.values_added.items():
            v = versions.parse(ver)
            if v > current or v <= spec.added_v:
                raise ObjectDeclarationError(
                    f"{where}: values_added version {ver} must be after the field's "
                    f"version {spec.added} and not after {versions.fmt(current)}"
                )
            unknown = [x for x in vals if x not in enum_t.values]
            if unknown:
                raise ObjectDeclarationError(
                    f"{where}: values_added lists unknown values {unknown}"
                )
        if spec.has_default:
            first_values = spec.values_at(spec.added_v)
            assert first_values is not None
            for value in _leaves(spec.make_default()):
                raw = getattr(value, "value", value)
                if value is not None and raw not in first_values:
                    raise ObjectDeclarationError(
                        f"{where}: the default {raw!r} did not exist at version {spec.added}; "
                        "a default must be valid in every version of the field"
                    )


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, list | set | tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    return [value]


def _collect_backport_hooks(cls: type[Any]) -> tuple[tuple[versions.Version, str], ...]:
    hooks: dict[str, versions.Version] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in klass.__dict__.items():
            func = getattr(value, "__func__", value)
            ver = getattr(func, "_obj_backport_from", None)
            if ver is not None:
                hooks[attr] = versions.parse(ver)
    if any(v > versions.parse(cls.VERSION) for v in hooks.values()):
        raise ObjectDeclarationError(f"{cls.obj_name()}: a @backport hook is newer than VERSION")
    # newest first: a 1.3 -> 1.0 backport runs the 1.3 hook, then 1.2, then 1.1
    return tuple(sorted(((v, a) for a, v in hooks.items()), reverse=True))


def _collect_remotables(cls: type[Any]) -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in klass.__dict__.items():
            func = getattr(value, "__func__", value)
            original = getattr(func, "_obj_remotable_original", None)
            if original is not None:
                found[attr] = func
    return dict(sorted(found.items()))


def _data_struct(
    cls: type[VersionedObject],
    fields: Mapping[str, FieldSpec],
    envelope_for: Callable[[type[VersionedObject]], Any],
    tag: str,
) -> Any:
    return msgspec.defstruct(
        f"{cls.obj_name()}Data{tag}",
        [(n, s.type.wire(envelope_for) | UnsetType, UNSET) for n, s in fields.items()],
        kw_only=True,
        forbid_unknown_fields=True,
        # Objects hold their parents only weakly and field types admit no cycles, so
        # these Structs never sit in a reference cycle: keep them out of the GC, which
        # otherwise dominates decoding large lists.
        gc=False,
        module=cls.__module__,
    )


def envelope_struct(
    cls: type[VersionedObject],
    data_cls: Any,
    post_init: Callable[[Any], None] | None,
    tag: str = "",
    header: tuple[str, str, tuple[str, ...]] | None = None,
) -> type[msgspec.Struct]:
    ns = cls.OBJ_SERIAL_NAMESPACE
    class_namespace: dict[str, Any] = {"_obj_cls": cls}
    if post_init is not None:
        class_namespace["__post_init__"] = post_init
    name_t: Any = str
    namespace_t: Any = str
    version_t: Any = str
    changes_t: Any = list[str]
    if header is not None:
        name_t = Literal[header[0]]
        namespace_t = Literal[header[1]]
        version_t = Literal[header[2]]
        field_names = tuple(cls._obj_fields)
        if field_names:
            changes_t = list[Literal[field_names]]  # type: ignore[valid-type]
    return msgspec.defstruct(
        f"{cls.obj_name()}Envelope{tag}",
        [
            ("name", name_t),
            ("namespace", namespace_t),
            ("version", version_t),
            ("data", data_cls),
            ("changes", changes_t | UnsetType, UNSET),
        ],
        rename={
            "name": f"{ns}.name",
            "namespace": f"{ns}.namespace",
            "version": f"{ns}.version",
            "data": f"{ns}.data",
            "changes": f"{ns}.changes",
        },
        namespace=class_namespace,
        forbid_unknown_fields=True,
        # Objects hold their parents only weakly and field types admit no cycles, so
        # these Structs never sit in a reference cycle: keep them out of the GC, which
        # otherwise dominates decoding large lists.
        gc=False,
        module=cls.__module__,
    )


def current_envelope(cls: type[VersionedObject]) -> Any:
    """The fast decode type of ``cls`` (see ``_build``)."""
    cls._obj_build()
    return cls._obj_envelope_cls


def lenient_envelope(cls: type[VersionedObject]) -> Any:
    """The lenient decode type of ``cls``: the second try when the fast one refuses."""
    cls._obj_build()
    return cls._obj_lenient_envelope_cls


def upgrade_envelope(cls: type[VersionedObject], envelope: Any) -> None:
    """An older version's envelope (same major) as the current version: fields added
    since then take their defaults."""
    got = versions.parse(envelope.version)
    data = envelope.data
    for spec in cls._obj_defaults:
        if spec.added_v > got and getattr(data, spec.name) is UNSET:
            setattr(data, spec.name, spec.make_default())
    envelope.version = cls.VERSION


def _current_post_init(
    cls: type[VersionedObject], fields: Mapping[str, FieldSpec]
) -> Callable[[Any], None]:
    name = cls.obj_name()
    namespace = cls.OBJ_PROJECT_NAMESPACE
    version = cls.VERSION
    current = versions.parse(version)

    def __post_init__(self: Any) -> None:
        if self.name != name:
            raise ValueError(f"Expected a `{name}` object, got `{self.name}`")
        if self.namespace != namespace:
            raise ValueError(f"Object namespace `{self.namespace}` is not `{namespace}`")
        if self.version != version:
            try:
                got = versions.parse(self.version)
            except ObjectDeclarationError:
                raise ValueError(f"Invalid object version {self.version!r}") from None
            if got[0] != current[0] or got[1] > current[1]:
                raise IncompatibleObjectVersion(name, self.version, version)
            self.version = versions.fmt(got)
            upgrade_envelope(cls, self)

    return __post_init__
