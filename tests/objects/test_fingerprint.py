"""Tests of cumulo/objects/fingerprint.py (the normalized schema, fingerprints) and of
cumulo/objects/schema_diff.py (the diffs between two schemas), which they share classes with."""

import datetime
import enum
import ipaddress
import json
import uuid
from typing import Any, Literal

import pytest

from cumulo.objects import (
    ObjectDeclarationError,
    Registry,
    VersionedObject,
    field,
    remotable,
    remotable_classmethod,
)
from cumulo.objects.fingerprint import (
    canonical_json,
    canonical_value,
    fingerprint,
    fingerprint_of,
    normalized_schema,
    remotable_added,
)
from cumulo.objects.schema_diff import (
    ENUM_VALUES_ADDED,
    ENUM_VALUES_REMOVED,
    FIELD_ADDED,
    FIELD_DEFAULT,
    FIELD_NULLABLE,
    FIELD_READ_ONLY,
    FIELD_REMOVED,
    FIELD_TYPE,
    METHOD_ADDED,
    METHOD_KIND,
    METHOD_REMOVED,
    METHOD_SIGNATURE,
    diff_schemas,
    signature_label,
)

# Annotations in this module are evaluated eagerly (no `from __future__ import annotations`),
# so classes defined inside a test can refer to each other without being registered.


class FpBase(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "fptest"
    OBJ_SERIAL_NAMESPACE = "fptest_object"
    OBJ_REGISTRY = Registry()


class OtherBase(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "fptest_other"
    OBJ_SERIAL_NAMESPACE = "fptest_object"
    OBJ_REGISTRY = Registry()


class State(enum.StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"
    SHELVED = "shelved"


def _kinds(old: type[VersionedObject], new: type[VersionedObject]) -> list[str]:
    return [c.kind for c in diff_schemas(normalized_schema(old), normalized_schema(new))]


# --- the blind spots of oslo.versionedobjects' hash ------------------------------------------


def test_list_of_str_differs_from_list_of_int():
    class Thing(FpBase):
        tags: list[str]

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        tags: list[int]

    assert fingerprint(Thing) != fingerprint(Thing2)
    change = diff_schemas(normalized_schema(Thing), normalized_schema(Thing2))
    assert [str(c) for c in change] == ["field 'tags' changed type from list[str] to list[int]"]
    assert not change[0].additive


def test_dict_of_str_differs_from_dict_of_nullable_str():
    class Thing(FpBase):
        meta: dict[str, str]

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        meta: dict[str, str | None]

    assert fingerprint(Thing) != fingerprint(Thing2)
    (change,) = diff_schemas(normalized_schema(Thing), normalized_schema(Thing2))
    assert change.kind == FIELD_TYPE
    assert "dict[str, str] to dict[str, str | None]" in str(change)


def test_object_field_targets_differ():
    class Flavor(FpBase):
        id: int

    class Other(FpBase):
        id: int

    class Holder(FpBase):
        child: Flavor

    class Holder2(FpBase):
        OBJ_NAME = "Holder"
        child: Other

    assert fingerprint(Holder) != fingerprint(Holder2)
    assert _kinds(Holder, Holder2) == [FIELD_TYPE]


def test_object_field_target_namespace_matters():
    class Flavor(FpBase):
        id: int

    class ForeignFlavor(OtherBase):
        OBJ_NAME = "Flavor"
        id: int

    class Holder(FpBase):
        child: Flavor

    class Holder2(FpBase):
        OBJ_NAME = "Holder"
        child: ForeignFlavor

    assert normalized_schema(Holder)["fields"]["child"]["type"] == {
        "kind": "object",
        "name": "Flavor",
        "namespace": "fptest",
    }
    assert fingerprint(Holder) != fingerprint(Holder2)


def test_read_only_matters():
    class Thing(FpBase):
        id: int

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        id: int = field(read_only=True)

    assert fingerprint(Thing) != fingerprint(Thing2)
    (change,) = diff_schemas(normalized_schema(Thing), normalized_schema(Thing2))
    assert (change.kind, change.additive) == (FIELD_READ_ONLY, False)
    (back,) = diff_schemas(normalized_schema(Thing2), normalized_schema(Thing))
    assert (str(back), back.additive) == ("field 'id' is no longer read-only", True)


def test_list_classes_with_same_fields_but_different_children_differ():
    class Instance(FpBase):
        uuid: uuid.UUID

    class SecurityGroup(FpBase):
        name: str

    class InstanceList(FpBase):
        OBJ_NAME = "ObjectList"
        objects: list[Instance] = field(default_factory=list)

    class SecurityGroupList(FpBase):
        OBJ_NAME = "ObjectList"
        objects: list[SecurityGroup] = field(default_factory=list)

    assert fingerprint(InstanceList) != fingerprint(SecurityGroupList)
    (change,) = diff_schemas(normalized_schema(InstanceList), normalized_schema(SecurityGroupList))
    assert str(change) == (
        "field 'objects' changed type from list[Instance] to list[SecurityGroup]"
    )


def test_nullability_matters_and_is_a_major_change():
    class Thing(FpBase):
        host: str

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        host: str | None

    assert fingerprint(Thing) != fingerprint(Thing2)
    (change,) = diff_schemas(normalized_schema(Thing), normalized_schema(Thing2))
    assert (change.kind, str(change), change.bump) == (
        FIELD_NULLABLE,
        "field 'host' is now nullable",
        "major",
    )


# --- remotable methods -------------------------------------------------------------------------


def test_annotations_on_remotable_methods_do_not_churn():
    class Thing(FpBase):
        id: int

        @remotable
        def save(self, expected_state=None):
            return None

        @remotable_classmethod
        def get_by_id(cls, context, id, *, deleted=False):
            return None

    class Typed(FpBase):
        OBJ_NAME = "Thing"
        id: int

        @remotable
        def save(self, expected_state: str | None = None) -> None:
            """Now with a docstring, annotations and another body."""
            print("saving")

        @remotable_classmethod
        def get_by_id(cls, context: Any, id: int, *, deleted: bool = False) -> "Typed":
            raise NotImplementedError

    assert fingerprint(Thing) == fingerprint(Typed)
    assert normalized_schema(Thing)["remotable"] == {
        "get_by_id": {
            "kind": "classmethod",
            "params": [
                {"name": "context", "kind": "positional_or_keyword", "has_default": False},
                {"name": "id", "kind": "positional_or_keyword", "has_default": False},
                {"name": "deleted", "kind": "keyword_only", "has_default": True, "default": False},
            ],
        },
        "save": {
            "kind": "instance",
            "params": [
                {
                    "name": "expected_state",
                    "kind": "positional_or_keyword",
                    "has_default": True,
                    "default": None,
                }
            ],
        },
    }


def test_remotable_signature_changes_churn():
    class Thing(FpBase):
        id: int

        @remotable
        def save(self, expected_state=None):
            return None

    class NewDefault(FpBase):
        OBJ_NAME = "Thing"
        id: int

        @remotable
        def save(self, expected_state="active"):
            return None

    class Renamed(FpBase):
        OBJ_NAME = "Thing"
        id: int

        @remotable
        def save(self, expected=None):
            return None

    class KeywordOnly(FpBase):
        OBJ_NAME = "Thing"
        id: int

        @remotable
        def save(self, *, expected_state=None):
            return None

    class NoMethod(FpBase):
        OBJ_NAME = "Thing"
        id: int

    prints = {fingerprint(c) for c in (Thing, NewDefault, Renamed, KeywordOnly, NoMethod)}
    assert len(prints) == 5
    assert _kinds(Thing, NoMethod) == [METHOD_REMOVED]
    assert _kinds(NoMethod, Thing) == [METHOD_ADDED]


def test_method_kind_change_is_major():
    class Thing(FpBase):
        id: int

        @remotable
        def refresh(self):
            return None

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        id: int

        @remotable_classmethod
        def refresh(cls, context):
            return None

    changes = diff_schemas(normalized_schema(Thing), normalized_schema(Thing2))
    assert [c.kind for c in changes] == [METHOD_KIND, METHOD_SIGNATURE]
    assert all(not c.additive for c in changes)


@pytest.mark.parametrize(
    ("old", "new", "additive"),
    [
        ("(self, a)", "(self, a, b=1)", True),
        ("(self, a)", "(self, a, *, b=1)", True),
        ("(self, a)", "(self, a, **kwargs)", True),
        ("(self, a=1)", "(self, a=2)", True),
        ("(self, a)", "(self, a=1)", True),
        ("(self, a)", "(self, a, b)", False),
        ("(self, a, b=1)", "(self, a)", False),
        ("(self, a, b)", "(self, b, a)", False),
        ("(self, a=1)", "(self, a)", False),
        ("(self, a)", "(self, *, a)", False),
        ("(self, a, b=1)", "(self, a, c=1, b=1)", False),
    ],
)
def test_signature_change_additivity(old, new, additive):
    def build(signature: str) -> type[VersionedObject]:
        namespace: dict[str, Any] = {}
        exec(f"def act{signature}:\n    return None", namespace)
        return type("Thing", (FpBase,), {"act": remotable(namespace["act"])})

    (change,) = diff_schemas(normalized_schema(build(old)), normalized_schema(build(new)))
    assert change.kind == METHOD_SIGNATURE
    assert change.additive is additive, str(change)


def test_remotable_added_limits_a_method_to_later_versions():
    class Thing(FpBase):
        VERSION = "1.2"
        id: int

        @remotable
        def save(self):
            return None

        @remotable_added("1.2")
        @remotable
        def refresh(self):
            return None

        @remotable_added("1.1")
        @remotable_classmethod
        def get_by_id(cls, context, id):
            return None

    assert list(normalized_schema(Thing, "1.0")["remotable"]) == ["save"]
    assert list(normalized_schema(Thing, "1.1")["remotable"]) == ["get_by_id", "save"]
    assert list(normalized_schema(Thing, "1.2")["remotable"]) == ["get_by_id", "refresh", "save"]
    (change,) = diff_schemas(normalized_schema(Thing, "1.1"), normalized_schema(Thing, "1.2"))
    assert (change.kind, str(change)) == (METHOD_ADDED, "remotable method 'refresh'() added")


def test_remotable_added_below_the_decorator_works_too():
    class Thing(FpBase):
        VERSION = "1.1"
        id: int

        @remotable
        @remotable_added("1.1")
        def refresh(self):
            return None

    assert normalized_schema(Thing, "1.0")["remotable"] == {}
    assert list(normalized_schema(Thing, "1.1")["remotable"]) == ["refresh"]


def test_remotable_added_newer_than_version_is_refused():
    class Thing(FpBase):
        id: int

        @remotable_added("1.3")
        @remotable
        def refresh(self):
            return None

    with pytest.raises(ObjectDeclarationError, match=r"remotable_added\('1.3'\) is newer"):
        normalized_schema(Thing)


def test_remotable_added_in_an_older_major_means_every_version():
    class Thing(FpBase):
        VERSION = "2.1"
        id: int

        @remotable_added("1.4")
        @remotable
        def refresh(self):
            return None

    assert list(normalized_schema(Thing, "2.0")["remotable"]) == ["refresh"]


# --- defaults, read_only, enum values ------------------------------------------------------------


def test_default_changes_churn_and_are_minor():
    class Thing(FpBase):
        swap: int = 0

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        swap: int = 1

    class Thing3(FpBase):
        OBJ_NAME = "Thing"
        swap: int

    assert len({fingerprint(Thing), fingerprint(Thing2), fingerprint(Thing3)}) == 3
    (change,) = diff_schemas(normalized_schema(Thing), normalized_schema(Thing2))
    assert (change.kind, str(change), change.bump) == (
        FIELD_DEFAULT,
        "default of field 'swap' changed from 0 to 1",
        "minor",
    )
    (change,) = diff_schemas(normalized_schema(Thing), normalized_schema(Thing3))
    assert str(change) == "field 'swap' no longer has a default (was 0)"
    assert normalized_schema(Thing3)["fields"]["swap"] == {
        "type": {"kind": "int"},
        "nullable": False,
        "has_default": False,
        "read_only": False,
    }


def test_default_none_differs_from_no_default():
    class Thing(FpBase):
        host: str | None = None

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        host: str | None

    assert fingerprint(Thing) != fingerprint(Thing2)


def test_int_default_differs_from_float_default():
    class Thing(FpBase):
        factor: float = 1.0

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        factor: float = 2.0

    assert normalized_schema(Thing)["fields"]["factor"]["default"] == 1.0
    assert fingerprint(Thing) != fingerprint(Thing2)


def test_equivalent_default_spellings_agree():
    class Thing(FpBase):
        state: State = State.ACTIVE
        tags: list[str] = field(default_factory=list)
        meta: dict[str, str] = field(default_factory=dict)
        ip: ipaddress.IPv4Address = ipaddress.IPv4Address("10.0.0.1")

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        ip: ipaddress.IPv4Address = field(default="10.0.0.1")  # type: ignore[assignment]
        meta: dict[str, str] = field(default_factory=lambda: {})
        tags: list[str] = field(default=[])
        state: State = field(default="active")  # type: ignore[assignment]

    assert fingerprint(Thing) == fingerprint(Thing2)
    assert normalized_schema(Thing)["fields"]["ip"]["default"] == "10.0.0.1"


def test_enum_values_follow_the_version():
    class Thing(FpBase):
        VERSION = "1.2"
        state: State = field(default=State.ACTIVE, values_added={"1.2": ["shelved"]})

    at_1_1 = normalized_schema(Thing, "1.1")["fields"]["state"]["type"]
    at_1_2 = normalized_schema(Thing, "1.2")["fields"]["state"]["type"]
    assert at_1_1 == {"kind": "enum", "values": ["active", "stopped"]}
    assert at_1_2 == {"kind": "enum", "values": ["active", "shelved", "stopped"]}
    assert fingerprint(Thing, "1.0") != fingerprint(Thing, "1.1")  # the version is in it
    assert fingerprint_of(normalized_schema(Thing, "1.0"), "1.1") == fingerprint(Thing, "1.1")
    (change,) = diff_schemas(normalized_schema(Thing, "1.1"), normalized_schema(Thing, "1.2"))
    assert (change.kind, str(change), change.values) == (
        ENUM_VALUES_ADDED,
        "enum values ['shelved'] added to field 'state'",
        ("shelved",),
    )
    (back,) = diff_schemas(normalized_schema(Thing, "1.2"), normalized_schema(Thing, "1.1"))
    assert (back.kind, back.additive) == (ENUM_VALUES_REMOVED, False)


def test_enum_values_inside_containers_follow_the_version():
    class Thing(FpBase):
        VERSION = "1.1"
        history: list[Literal["a", "b", "c"]] = field(
            default_factory=list, values_added={"1.1": ["c"]}
        )

    assert normalized_schema(Thing, "1.0")["fields"]["history"]["type"] == {
        "kind": "list",
        "item": {"kind": "enum", "values": ["a", "b"]},
    }
    assert _kinds_between(Thing, "1.0", "1.1") == [ENUM_VALUES_ADDED]


def _kinds_between(cls: type[VersionedObject], old: str, new: str) -> list[str]:
    return [c.kind for c in diff_schemas(normalized_schema(cls, old), normalized_schema(cls, new))]


def test_int_enum_values_sort_before_strings_and_numerically():
    class Thing(FpBase):
        power: Literal[10, 2, 1]

    assert normalized_schema(Thing)["fields"]["power"]["type"]["values"] == [1, 2, 10]


# --- what does not count -----------------------------------------------------------------------


def test_declaration_order_lazy_and_sensitive_do_not_count():
    class Thing(FpBase):
        a: int
        b: str | None = field(default=None, sensitive=True)
        c: int = field(default=0, lazy=True)

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        c: int = 0
        b: str | None = None
        a: int

    assert fingerprint(Thing) == fingerprint(Thing2)


def test_fields_follow_the_version():
    class Thing(FpBase):
        VERSION = "1.2"
        id: int
        swap: int = field(default=0, added="1.1")
        note: str = field(default="", added="1.2")

    assert list(normalized_schema(Thing, "1.0")["fields"]) == ["id"]
    assert list(normalized_schema(Thing, "1.1")["fields"]) == ["id", "swap"]
    assert list(normalized_schema(Thing, "1.2")["fields"]) == ["id", "swap", "note"]
    assert normalized_schema(Thing) == normalized_schema(Thing, "1.2")
    (change,) = diff_schemas(normalized_schema(Thing, "1.0"), normalized_schema(Thing, "1.1"))
    assert (change.kind, str(change), change.bump) == (
        FIELD_ADDED,
        "field 'swap' added (int, default 0)",
        "minor",
    )
    (removed,) = diff_schemas(normalized_schema(Thing, "1.1"), normalized_schema(Thing, "1.0"))
    assert (removed.kind, removed.bump) == (FIELD_REMOVED, "major")


def test_a_version_outside_the_history_is_refused():
    class Thing(FpBase):
        VERSION = "1.1"
        id: int

    with pytest.raises(ObjectDeclarationError, match=r"has no version '1\.2'"):
        normalized_schema(Thing, "1.2")
    with pytest.raises(ObjectDeclarationError):
        fingerprint(Thing, "0.9")


# --- canonical form and stability ---------------------------------------------------------------


def test_normalized_schema_is_plain_json():
    class Child(FpBase):
        id: int

    class Thing(FpBase):
        uid: uuid.UUID
        when: datetime.datetime | None = None
        nets: set[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(default_factory=set)
        child: Child | None = None
        children: dict[str, list[Child]] = field(default_factory=dict)

    schema = normalized_schema(Thing)
    assert json.loads(canonical_json(schema)) == schema
    assert schema["fields"]["nets"]["type"] == {"kind": "set", "item": {"kind": "ipnet"}}


def test_fingerprint_is_a_fixed_value():
    """A literal, so that a Python or library upgrade cannot change fingerprints unseen.

    If this fails, every lockfile in every deployment would report rewritten history:
    change the normalization only together with ``FORMAT``.
    """

    class Flavor(FpBase):
        VERSION = "1.1"
        id: int = field(read_only=True)
        name: str
        tags: list[str] = field(default_factory=list)
        extra: dict[str, str | None] = field(default_factory=dict)
        state: State = field(default=State.ACTIVE, values_added={"1.1": ["shelved"]})
        swap: int = field(default=0, added="1.1")
        factor: float = 1.0

        @remotable
        def save(self, expected_state=None):
            return None

    assert fingerprint(Flavor, "1.0") == "1.0-33833e4975c29d6558ddca1155437351"
    assert fingerprint(Flavor) == "1.1-321fbd7a82e604a1ee5412edb87f7d05"


def test_canonical_text_is_a_fixed_value():
    """The exact text hashed: sorted keys, no whitespace; SHA-256 truncated to 128 bits."""

    class Tiny(FpBase):
        id: int = field(read_only=True)
        tags: list[str] | None = None

    assert canonical_json(normalized_schema(Tiny)) == (
        '{"fields":{"id":{"has_default":false,"nullable":false,"read_only":true,'
        '"type":{"kind":"int"}},"tags":{"default":null,"has_default":true,"nullable":true,'
        '"read_only":false,"type":{"item":{"kind":"str"},"kind":"list"}}},"format":1,'
        '"name":"Tiny","namespace":"fptest","remotable":{},"serial_namespace":"fptest_object"}'
    )
    assert fingerprint(Tiny) == "1.0-3773357f18397ae29f82c92fcbbf5ae1"


def test_canonical_value_forms():
    class Child(FpBase):
        id: int

    child = Child(id=3)
    sentinel = object()
    assert canonical_value({3, 1, 2}) == [1, 2, 3]
    assert canonical_value(frozenset({"b", "a"})) == ["a", "b"]
    assert canonical_value((1, State.SHELVED)) == [1, "shelved"]
    assert canonical_value(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert canonical_value(ipaddress.ip_network("10.0.0.0/8")) == "10.0.0.0/8"
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
    assert canonical_value(when) == "2024-01-02T03:04:05.000006+00:00"
    assert canonical_value(float("inf")) == {"float": "inf"}
    assert canonical_value(child) == {
        "fptest_object.name": "Child",
        "fptest_object.namespace": "fptest",
        "fptest_object.version": "1.0",
        "fptest_object.data": {"id": 3},
    }
    # Never a repr with a memory address in it.
    assert canonical_value(sentinel) == {"python": "builtins.object"}


def test_signature_label():
    params = [
        {"name": "a", "kind": "positional_only", "has_default": False},
        {"name": "b", "kind": "positional_or_keyword", "has_default": True, "default": 1},
        {"name": "c", "kind": "keyword_only", "has_default": True, "default": None},
        {"name": "kw", "kind": "var_keyword", "has_default": False},
    ]
    assert signature_label(params) == "(a, /, b=1, *, c=null, kw)".replace("kw)", "**kw)")


def test_change_advice():
    class Thing(FpBase):
        id: int

    class Thing2(FpBase):
        OBJ_NAME = "Thing"
        id: int
        state: State = State.ACTIVE

        @remotable
        def save(self):
            return None

    changes = diff_schemas(normalized_schema(Thing), normalized_schema(Thing2))
    assert [c.advice("1.4") for c in changes] == [
        "declare added='1.4' on field 'state'",
        "decorate remotable method 'save' with @remotable_added('1.4')",
    ]
    assert changes[0].key() != changes[1].key()
