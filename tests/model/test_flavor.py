"""Tests of cumulo/model/flavor.py."""

import jsonschema
import pytest

from cumulo.model import Flavor, FlavorList, FlavorNotFound, ObjectActionError
from cumulo.objects import FieldValueError, ReadOnlyFieldError
from cumulo.objects.jsonschema import json_schema


def small() -> Flavor:
    return Flavor(id=1, flavorid="m1.small", name="m1.small", memory_mb=2048, vcpus=1)


def test_defaults():
    flavor = small()
    assert (flavor.root_gb, flavor.ephemeral_gb, flavor.swap) == (0, 0, 0)
    assert flavor.rxtx_factor == 1.0
    assert flavor.vcpu_weight is None
    assert (flavor.disabled, flavor.is_public) == (False, True)
    assert flavor.extra_specs == {}
    assert flavor.description is None


def test_round_trip_through_the_wire():
    flavor = small()
    flavor.extra_specs["hw:cpu_policy"] = "dedicated"
    primitive = flavor.obj_to_primitive()
    assert primitive["cumulo_object.name"] == "Flavor"
    assert primitive["cumulo_object.namespace"] == "cumulo"
    assert Flavor.obj_from_primitive(primitive) == flavor
    assert Flavor.obj_from_json(flavor.obj_to_json()) == flavor


def test_primitive_matches_its_json_schema():
    jsonschema.validate(small().obj_to_primitive(), json_schema(Flavor))


def test_id_is_read_only():
    flavor = small()
    flavor.id = 1
    with pytest.raises(ReadOnlyFieldError):
        flavor.id = 2


def test_extra_specs_are_strings():
    with pytest.raises(FieldValueError, match="extra_specs"):
        small().extra_specs = {"hw:numa_nodes": 2}


# --- remotable methods (object side; tests/db covers the database) ------------------------


def test_get_by_flavorid_and_id_ask_storage(storage):
    from .conftest import Ctx

    ctx = Ctx()
    stored_flavor = small()
    storage.returns["flavor_get_by_flavorid"] = stored_flavor
    storage.returns["flavor_get_by_id"] = stored_flavor
    found = Flavor.get_by_flavorid(ctx, "m1.small")
    assert found.obj_context is ctx
    assert found.obj_what_changed() == set()
    Flavor.get_by_id(ctx, 1)
    assert storage.calls == [
        ("flavor_get_by_flavorid", (ctx, "m1.small"), {}),
        ("flavor_get_by_id", (ctx, 1), {}),
    ]


def test_create_takes_the_assigned_id(storage, ctx):
    storage.returns["flavor_create"] = small()
    flavor = Flavor(flavorid="m1.small", name="m1.small", memory_mb=2048, vcpus=1)
    flavor.obj_set_context(ctx).create()
    assert flavor.id == 1
    assert flavor.obj_what_changed() == set()
    with pytest.raises(ObjectActionError, match="already created"):
        flavor.create()


def test_flavor_not_found_names_the_key(storage, ctx):
    storage.raises["flavor_get_by_flavorid"] = FlavorNotFound(flavorid="m9")
    with pytest.raises(FlavorNotFound, match="flavor not found: flavorid=m9"):
        Flavor.get_by_flavorid(ctx, "m9")


def test_list_all(storage, ctx):
    storage.returns["flavor_get_all"] = [small()]
    flavors = FlavorList.get_all(ctx, include_disabled=False)
    assert [f.flavorid for f in flavors.objects] == ["m1.small"]
    assert storage.calls == [("flavor_get_all", (ctx, False), {})]
