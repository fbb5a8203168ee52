"""Wire format: OVO-compatible primitives, JSON and msgpack.

Encoding is native msgspec work: an object becomes its envelope Struct (name,
namespace, version, the field Struct, changes) through ``enc_hook``. Decoding
goes straight into the generated envelope types, so the values are validated in
C and an error names the path of the bad value; envelopes become objects only
at the top level, children on first access.

This module and ``base.py`` import each other, the one import circle in
``cumulo.objects``: ``VersionedObject``'s ``obj_to_*`` / ``obj_from_*`` methods hand
over to the functions here, which need ``VersionedObject``. ``base.py`` imports this
module at its end, so either can be imported first.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Mapping
from typing import Any

import msgspec

from . import versions
from .addresses import MACWire, dec_hook
from .base import VersionedObject
from .exceptions import (
    DeserializationError,
    IncompatibleObjectVersion,
    ObjectError,
    UnsupportedObjectError,
)
from .history import backport_primitive
from .registry import Registry
from .schema import current_envelope, lenient_envelope
from .types import (
    DictType,
    FieldType,
    ListType,
    NullableType,
    ObjectType,
    SetType,
    from_annotation,
)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Largest encoded message accepted by the decoders unless told otherwise."""

_IP_TYPES = (
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
)
# Written to the wire as their string form.
_STRING_LIKE = (*_IP_TYPES, MACWire)


def enc_hook(value: Any) -> Any:
    """msgspec hook: objects become envelopes, addresses become strings."""
    if isinstance(value, VersionedObject):
        return value._env
    if isinstance(value, _STRING_LIKE):
        return str(value)
    raise NotImplementedError(f"cannot encode a `{type(value).__name__}`")


_json_encoder = msgspec.json.Encoder(enc_hook=enc_hook)
_msgpack_encoder = msgspec.msgpack.Encoder(enc_hook=enc_hook)


# --- errors -----------------------------------------------------------------------------

_AT = re.compile(r"^(.*) - at `(\$.*)`$", re.S)


# The envelope checks (schema.py) word a wrong name or namespace like this.
_UNSUPPORTED = re.compile(r"^(Expected a `[^`]*` object, got|Object namespace `)")


def _translate(exc: msgspec.ValidationError, target: FieldType) -> DeserializationError:
    """msgspec's error on decoding into ``target``, at the user's path of the bad value."""
    message = str(exc)
    match = _AT.match(message)
    reason, path = (match.group(1), _user_path(match.group(2), target)) if match else (message, "$")
    if _UNSUPPORTED.match(reason):
        return UnsupportedObjectError(reason, path)
    return DeserializationError(reason, path)


_FIELD = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")
_ITEM = re.compile(r"\[(?:[0-9]+|\.\.\.)\]")


def _user_path(wire_path: str, target: FieldType) -> str:
    """The path of a value in the objects the user sees, from its path in the wire form
    of ``target``: ``$.flavor.vcpus``, not ``$.<ns>.data.flavor.<ns>.data.vcpus``.

    Each object's ``<ns>.data`` step is left out. A step into an envelope's header
    (``$.flavor.<ns>.version``) stays: the bad value is there, and the user's objects
    have no name for it. The rest of a path that does not fit ``target`` stays as is.
    """
    out = ["$"]
    rest = wire_path[1:]
    ftype = target
    while rest:
        if isinstance(ftype, NullableType):
            ftype = ftype.inner
            continue
        if isinstance(ftype, ObjectType):
            data_key = f".{ftype.cls.OBJ_SERIAL_NAMESPACE}.data"
            if rest != data_key and not rest.startswith(data_key + "."):
                break  # a header key, kept with whatever follows it
            rest = rest[len(data_key) :]
            field = _FIELD.match(rest)
            spec = ftype.cls.obj_fields().get(field.group(1)) if field else None
            if field is None or spec is None:
                break  # the error is about the data as a whole
            out.append(field.group(0))
            rest = rest[field.end() :]
            ftype = spec.type
        elif isinstance(ftype, ListType | SetType | DictType):
            item = _ITEM.match(rest)
            if item is None:
                break
            out.append(item.group(0))
            rest = rest[item.end() :]
            ftype = ftype.value if isinstance(ftype, DictType) else ftype.item
        else:
            break
    return "".join(out) + rest


def _diagnose_versions(primitive: Any, registry: Registry, sns: str, path: str = "$") -> None:
    """Raise IncompatibleObjectVersion for the first object in ``primitive`` that is too new.

    Called when a typed decode failed: a newer peer's object can fail on fields or
    values we do not know before its version is looked at.
    """
    stack: list[tuple[Any, str]] = [(primitive, path)]
    name_key, ns_key, ver_key = f"{sns}.name", f"{sns}.namespace", f"{sns}.version"
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            name, ns, ver = value.get(name_key), value.get(ns_key), value.get(ver_key)
            if isinstance(name, str) and isinstance(ns, str) and isinstance(ver, str):
                if not versions.is_valid(ver):
                    continue
                try:
                    registry.lookup(ns, name, ver)
                except IncompatibleObjectVersion as exc:
                    raise IncompatibleObjectVersion(
                        exc.objname, exc.objver, exc.supported
                    ) from None
                except UnsupportedObjectError:
                    pass
            stack.extend((v, f"{where}.{k}") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(value))


def _guarded_convert(primitive: Any, cls: type[VersionedObject]) -> Any:
    try:
        return msgspec.convert(primitive, cls._obj_envelope_cls, dec_hook=cls._obj_dec_hook)
    except msgspec.ValidationError:
        pass
    except RecursionError:
        raise DeserializationError("input is too deeply nested") from None
    try:
        return msgspec.convert(primitive, lenient_envelope(cls), dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        _diagnose_versions(primitive, cls.OBJ_REGISTRY, cls.OBJ_SERIAL_NAMESPACE)
        raise _translate(exc, ObjectType(cls)) from None
    except RecursionError:
        raise DeserializationError("input is too deeply nested") from None


# --- primitives -----------------------------------------------------------------------


def to_primitive(
    obj: VersionedObject,
    target_version: str | None = None,
    manifest: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    primitive: dict[str, Any] = msgspec.to_builtins(obj._env, enc_hook=enc_hook)
    cls = type(obj)
    if target_version is None and manifest:
        target_version = manifest.get(cls.obj_name())
    if (target_version is not None and target_version != cls.VERSION) or manifest:
        backport_primitive(
            primitive, cls, target_version or cls.VERSION, manifest or {}, cls.OBJ_SERIAL_NAMESPACE
        )
    return primitive


def from_primitive(
    primitive: Any,
    context: Any = None,
    registry: Registry | None = None,
    expect: type[VersionedObject] = VersionedObject,
) -> Any:
    """Load an object primitive, looking its class up by the name it carries.

    (``VersionedObject.obj_from_primitive`` tries the expected class's fast envelope
    type first and comes here only when that fails or does not apply.)
    """
    registry = registry or expect.OBJ_REGISTRY
    sns = expect.OBJ_SERIAL_NAMESPACE
    if not isinstance(primitive, dict):
        raise DeserializationError(
            f"Expected an object primitive (`dict`), got `{type(primitive).__name__}`"
        )
    header: list[str] = []
    for key in ("name", "namespace", "version"):
        value = primitive.get(f"{sns}.{key}")
        if not isinstance(value, str):
            raise DeserializationError(
                f"Object primitive has no string `{sns}.{key}`", f"$.{sns}.{key}"
            )
        header.append(value)
    name, namespace, version = header
    if not versions.is_valid(version):
        raise DeserializationError(f"Invalid object version {version!r}", f"$.{sns}.version")
    try:
        cls = registry.lookup(namespace, name, version)
    except UnsupportedObjectError as exc:
        raise UnsupportedObjectError(exc.reason, "$") from None
    if not issubclass(cls, expect):
        raise UnsupportedObjectError(
            f"Expected a `{expect.obj_name()}` object, got `{name}`", f"$.{sns}.name"
        )
    cls._obj_build()
    envelope = _guarded_convert(primitive, cls)
    return cls._obj_from_envelope(envelope, context)


def deserialize_entity(
    value: Any,
    context: Any = None,
    registry: Registry | None = None,
    base: type[VersionedObject] = VersionedObject,
) -> Any:
    """Turn every object primitive inside a plain value (lists, dicts) back into objects."""
    return _deserialize(value, context, registry, base, f"{base.OBJ_SERIAL_NAMESPACE}.name", 0)


MAX_DEPTH = 64
"""How deeply plain lists and dicts around objects may nest in an RPC payload."""


def _deserialize(
    value: Any,
    context: Any,
    registry: Registry | None,
    base: type[VersionedObject],
    key: str,
    depth: int,
) -> Any:
    if depth > MAX_DEPTH:
        raise DeserializationError(f"input is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        if key in value:
            return from_primitive(value, context, registry, base)
        return {
            k: _deserialize(v, context, registry, base, key, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_deserialize(v, context, registry, base, key, depth + 1) for v in value]
    return value


def serialize_entity(value: Any) -> Any:
    """Turn objects inside a value into primitives (sets and tuples become lists)."""
    return msgspec.to_builtins(value, enc_hook=enc_hook)


# --- backports ---------------------------------------------------------------------------


def backport(
    primitive: dict[str, Any],
    manifest: Mapping[str, str],
    registry: Registry | None = None,
    base: type[VersionedObject] = VersionedObject,
) -> dict[str, Any]:
    """Backport an object primitive to the versions of ``manifest``.

    This is what a conductor's ``object_backport_versions`` does for an older peer:
    load the primitive with this process's (newer) classes, then write it out at
    the versions the peer understands.
    """
    obj = from_primitive(primitive, registry=registry, expect=base)
    return to_primitive(obj, manifest.get(obj.obj_name()), manifest)


# --- JSON and msgpack --------------------------------------------------------------------


def encode_json(value: Any) -> bytes:
    """Encode objects (or lists/dicts of them) as OVO-compatible JSON."""
    return _json_encoder.encode(value)


def to_json(
    obj: VersionedObject,
    target_version: str | None = None,
    manifest: Mapping[str, str] | None = None,
) -> bytes:
    if target_version is None and not manifest:
        return _json_encoder.encode(obj._env)
    return msgspec.json.encode(to_primitive(obj, target_version, manifest))


def encode_msgpack(value: Any) -> bytes:
    return _msgpack_encoder.encode(value)


class _TypedDecoder:
    """A cached decoder for one target annotation (``Instance``, ``list[Instance]``...)."""

    def __init__(self, target: Any) -> None:
        self.target = target
        if isinstance(target, type) and issubclass(target, VersionedObject):
            self.ftype: FieldType = ObjectType(target)
            self.base: type[VersionedObject] = target
        else:
            self.ftype = from_annotation(target, "decode target")
            classes = list(self.ftype.object_classes())
            self.base = classes[0] if classes else VersionedObject
        fast = self.ftype.wire(current_envelope)
        lenient = self.ftype.wire(lenient_envelope)
        self.json = msgspec.json.Decoder(fast, dec_hook=dec_hook)
        self.msgpack = msgspec.msgpack.Decoder(fast, dec_hook=dec_hook)
        # Second tries: see schema._build on the two decode types.
        self.lenient_json = msgspec.json.Decoder(lenient, dec_hook=dec_hook)
        self.lenient_msgpack = msgspec.msgpack.Decoder(lenient, dec_hook=dec_hook)

    def materialize(self, value: Any, context: Any) -> Any:
        return _materialize(value, self.ftype, context)


def _materialize(value: Any, ftype: FieldType, context: Any) -> Any:
    if value is None:
        return None
    if isinstance(ftype, NullableType):
        ftype = ftype.inner
    if isinstance(ftype, ObjectType):
        return value._obj_cls._obj_from_envelope(value, context)
    if isinstance(ftype, ListType) and ftype.item.has_objects:
        item = ftype.item
        return [_materialize(v, item, context) for v in value]
    if isinstance(ftype, DictType) and ftype.value.has_objects:
        item = ftype.value
        return {k: _materialize(v, item, context) for k, v in value.items()}
    return value


_decoders: dict[Any, _TypedDecoder] = {}
_decoders_lock = threading.Lock()


def _decoder_for(target: Any) -> _TypedDecoder:
    try:
        return _decoders[target]
    except KeyError:
        pass
    except TypeError:
        return _TypedDecoder(target)
    with _decoders_lock:
        decoder = _decoders.get(target)
        if decoder is None:
            decoder = _decoders[target] = _TypedDecoder(target)
    return decoder


def _decode(data: bytes | str, target: Any, context: Any, max_bytes: int, fmt: str) -> Any:
    if isinstance(data, str):
        data = data.encode()
    if len(data) > max_bytes:
        raise DeserializationError(
            f"message of {len(data)} bytes is larger than the limit of {max_bytes} bytes"
        )
    decoder = _decoder_for(target)
    raw_decode = msgspec.json.decode if fmt == "json" else msgspec.msgpack.decode
    try:
        try:
            if fmt == "json":
                value = decoder.json.decode(data)
            else:
                value = decoder.msgpack.decode(data)
        except msgspec.ValidationError:
            if fmt == "json":
                value = decoder.lenient_json.decode(data)
            else:
                value = decoder.lenient_msgpack.decode(data)
    except msgspec.ValidationError as exc:
        try:
            raw = raw_decode(data)
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            raw = None
        _diagnose_versions(raw, decoder.base.OBJ_REGISTRY, decoder.base.OBJ_SERIAL_NAMESPACE)
        raise _translate(exc, decoder.ftype) from None
    except msgspec.DecodeError as exc:
        raise DeserializationError(f"malformed {fmt}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise DeserializationError(
            f"malformed {fmt}: invalid UTF-8 in a string ({exc.reason})"
        ) from None
    except RecursionError:
        raise DeserializationError("input is too deeply nested") from None
    except ObjectError:
        raise
    return decoder.materialize(value, context)


def decode_json(
    data: bytes | str, target: Any, context: Any = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Any:
    """Decode JSON into ``target`` (an object class, ``list[Cls]``, ``dict[str, Cls]``...)."""
    return _decode(data, target, context, max_bytes, "json")


def decode_msgpack(
    data: bytes, target: Any, context: Any = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Any:
    return _decode(data, target, context, max_bytes, "msgpack")


# --- copies -----------------------------------------------------------------------------


def clone(obj: VersionedObject) -> Any:
    cls = type(obj)
    envelope = msgspec.convert(
        msgspec.to_builtins(obj._env, enc_hook=enc_hook), current_envelope(cls), dec_hook=dec_hook
    )
    return cls._obj_from_envelope(envelope, obj._context)


def _rebuild(cls: type[VersionedObject], primitive: dict[str, Any]) -> Any:
    """Unpickling: load the primitive with the class's registry and namespaces."""
    return cls.obj_from_primitive(primitive)
