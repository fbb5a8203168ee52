"""Cumulo's versioned-object framework.

Typed fields declared as annotations, change tracking, lazy loading, an
oslo.versionedobjects-compatible wire format (JSON or msgpack through msgspec),
backports generated from each field's declared history, remotable methods, and
canonical fingerprints. It imports nothing from the rest of Cumulo.
"""

from .base import VersionedObject, lazy_load_counts, obj_to_loggable, reset_lazy_load_counts
from .codec import (
    backport,
    decode_json,
    decode_msgpack,
    deserialize_entity,
    encode_json,
    encode_msgpack,
    serialize_entity,
)
from .containers import TrackedDict, TrackedList, TrackedSet
from .exceptions import (
    BackportError,
    DeserializationError,
    FieldNotSetError,
    FieldValueError,
    IncompatibleObjectVersion,
    InvalidTargetVersion,
    LazyLoadError,
    ObjectDeclarationError,
    ObjectError,
    OrphanedObjectError,
    ReadOnlyFieldError,
    UnsupportedObjectError,
)
from .fields import NO_DEFAULT, field
from .fingerprint import normalized_schema, remotable_added
from .history import backport_hook, fields_at, historical_envelope
from .jsonschema import json_schema
from .lockfile import LockfileError, Problem, build_lock, check_lock, read_lock, write_lock
from .registry import REGISTRY, Registry, register
from .remote import (
    Indirection,
    apply_updates,
    remotable,
    remotable_classmethod,
    run_class_action,
    run_object_action,
)
from .schema_diff import Change, diff_schemas
from .types import MACAddress

__all__ = [
    "NO_DEFAULT",
    "REGISTRY",
    "BackportError",
    "Change",
    "DeserializationError",
    "FieldNotSetError",
    "FieldValueError",
    "IncompatibleObjectVersion",
    "Indirection",
    "InvalidTargetVersion",
    "LazyLoadError",
    "LockfileError",
    "MACAddress",
    "ObjectDeclarationError",
    "ObjectError",
    "OrphanedObjectError",
    "Problem",
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
    "build_lock",
    "check_lock",
    "decode_json",
    "decode_msgpack",
    "deserialize_entity",
    "diff_schemas",
    "encode_json",
    "encode_msgpack",
    "field",
    "fields_at",
    "historical_envelope",
    "json_schema",
    "lazy_load_counts",
    "normalized_schema",
    "obj_to_loggable",
    "read_lock",
    "register",
    "remotable",
    "remotable_added",
    "remotable_classmethod",
    "reset_lazy_load_counts",
    "run_class_action",
    "run_object_action",
    "serialize_entity",
    "write_lock",
]
