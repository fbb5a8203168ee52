"""Tests of cumulo/db/queries/flavor.py: flavors and their extra specs, on every backend."""

from __future__ import annotations

import pytest

from cumulo.db.models import FlavorExtraSpecRow, FlavorRow
from cumulo.model import AlreadyExists, FlavorNotFound

from ..conftest import make_flavor, make_instance


def test_create_and_read_back(storage, ctx):
    created = storage.flavor_create(ctx, make_flavor(rxtx_factor=1.1, vcpu_weight=3, swap=512))
    assert created.id > 0
    assert created.obj_what_changed() == set()
    assert storage.flavor_get_by_id(ctx, created.id) == created
    assert storage.flavor_get_by_flavorid(ctx, "m1.small") == created
    assert created.rxtx_factor == 1.1  # a double on every backend, not MariaDB's float
    assert created.extra_specs == {"hw:cpu_policy": "dedicated"}


def test_unknown_flavors(storage, ctx):
    with pytest.raises(FlavorNotFound, match="flavor not found: id=99"):
        storage.flavor_get_by_id(ctx, 99)
    with pytest.raises(FlavorNotFound, match="flavor not found: flavorid=nope"):
        storage.flavor_get_by_flavorid(ctx, "nope")
    with pytest.raises(FlavorNotFound):
        storage.flavor_destroy(ctx, "nope")


def test_flavorid_and_name_are_unique(storage, ctx, database):
    storage.flavor_create(ctx, make_flavor())
    with pytest.raises(AlreadyExists, match=r"flavor already exists: flavorid=m1\.small"):
        storage.flavor_create(ctx, make_flavor(name="other"))
    with pytest.raises(AlreadyExists, match=r"flavor already exists: name=m1\.small"):
        storage.flavor_create(ctx, make_flavor(flavorid="other"))
    assert database.count(FlavorRow) == 1
    assert database.count(FlavorExtraSpecRow) == 1


def test_names_are_case_sensitive_everywhere(storage, ctx):
    storage.flavor_create(ctx, make_flavor())
    storage.flavor_create(ctx, make_flavor(flavorid="M1.SMALL", name="M1.SMALL"))
    assert storage.flavor_get_by_flavorid(ctx, "M1.SMALL").name == "M1.SMALL"


def test_get_all_by_id_and_disabled(storage, ctx):
    a = storage.flavor_create(ctx, make_flavor(flavorid="a", name="a"))
    b = storage.flavor_create(ctx, make_flavor(flavorid="b", name="b", disabled=True))
    assert storage.flavor_get_all(ctx, True) == [a, b]
    assert storage.flavor_get_all(ctx, False) == [a]


def test_destroy_removes_the_flavor_and_its_specs_but_not_instance_copies(storage, ctx, database):
    flavor = storage.flavor_create(ctx, make_flavor())
    inst = storage.instance_create(ctx, make_instance(flavor=flavor))
    storage.flavor_destroy(ctx, "m1.small")
    assert database.count(FlavorRow) == 0
    assert database.count(FlavorExtraSpecRow) == 0
    assert storage.instance_load_attr(ctx, inst.uuid, "flavor") == flavor


def test_over_long_extra_specs_are_refused(storage, ctx, database):
    with pytest.raises(ValueError, match=r"Flavor.extra_specs\['k'\]: at most 255"):
        storage.flavor_create(ctx, make_flavor(extra_specs={"k": "v" * 256}))
    assert database.count(FlavorRow) == 0
