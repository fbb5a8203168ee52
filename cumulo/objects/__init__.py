"""Cumulo's versioned-object framework.

Typed fields declared as annotations, change tracking, lazy loading, an
oslo.versionedobjects-compatible wire format (JSON or msgpack through msgspec),
backports generated from each field's declared history, remotable methods, and
canonical fingerprints. It imports nothing from the rest of Cumulo.
"""

from .base import (
    TrackedDict,
    TrackedList,
    TrackedSet,
    VersionedObject,
    lazy_load_counts,
    obj_to_loggable,
    reset_lazy_load_counts,
)
from .codec import (
    backport,
    decode_json,
    decode_msgpack,
    deserialize_entity,
    encode_json,
    encode_msgpack,
    serialize_entity,
)
from .exceptions import (
    BackportError,
    DeserializationError,
    FieldNotSetError,
    FieldValueError,
    IncompatibleObjectVersion,
    InvalidTargetVersion,
    LazyLoadError,
    ObjectActionError,
    ObjectDeclarationError,
    ObjectError,
    OrphanedObjectError,
    ReadOnlyFieldError,
    UnsupportedObjectError,
)
from .fields import field
from .history import backport_hook
from .registry import REGISTRY, Registry, register
from .remote import (
    Indirection,
    apply_updates,
    remotable,
    remotable_classmethod,
    run_class_action,
    run_object_action,
)
from .schema import fields_at, historical_envelope
from .types import MACAddress

__all__ = [
    "REGISTRY",
    "BackportError",
    "DeserializationError",
    "FieldNotSetError",
    "FieldValueError",
    "IncompatibleObjectVersion",
    "Indirection",
    "InvalidTargetVersion",
    "LazyLoadError",
    "MACAddress",
    "ObjectActionError",
    "ObjectDeclarationError",
    "ObjectError",
    "OrphanedObjectError",
    "ReadOnlyFieldError",
    "Registry",
    "TrackedDict",
    "TrackedList",
    "TrackedSet",
    "UnsupportedObjectError",
    "VersionedObject",
    "apply_updates",
    "backport",
    "backport_hook",
    "decode_json",
    "decode_msgpack",
    "deserialize_entity",
    "encode_json",
    "encode_msgpack",
    "field",
    "fields_at",
    "historical_envelope",
    "lazy_load_counts",
    "obj_to_loggable",
    "register",
    "remotable",
    "remotable_classmethod",
    "reset_lazy_load_counts",
    "run_class_action",
    "run_object_action",
    "serialize_entity",
]
