"""Tests of cumulo/db/models.py and cumulo/db/convert.py: every field of every
persisted object has its column, and the column types read back what they stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import configure_mappers

from cumulo.db import convert
from cumulo.db.models import Base, FlavorRow
from cumulo.db.types import ObjectJSON, UTCDateTime, UUIDString
from cumulo.model import CpuInfo, Flavor, Storage
from cumulo.objects import VersionedObject

DIALECTS = [sqlite.dialect(), postgresql.dialect(), mysql.dialect()]


def test_mappers_configure():
    configure_mappers()


@pytest.mark.parametrize("object_class", list(convert.TABLES), ids=lambda c: c.obj_name())
def test_every_field_is_stored(object_class: type[VersionedObject]):
    assert convert.columns(object_class).unmapped() == []


def test_every_object_with_a_create_method_in_storage_has_a_table():
    created = {name.removesuffix("_create") for name in dir(Storage) if name.endswith("_create")}
    names = {c.obj_name() for c in convert.TABLES}
    expected = {
        "instance": "Instance",
        "flavor": "Flavor",
        "bdm": "BlockDeviceMapping",
        "migration": "Migration",
        "service": "Service",
        "compute_node": "ComputeNode",
        "security_group": "SecurityGroup",
        "instance_fault": "InstanceFault",
        "volume": "Volume",
    }
    assert created == set(expected)
    assert set(expected.values()) <= names


def test_tables_are_innodb_utf8mb4_binary_on_mariadb():
    for table in Base.metadata.tables.values():
        assert table.kwargs["mysql_charset"] == "utf8mb4", table.name
        assert table.kwargs["mysql_collate"] == "utf8mb4_bin", table.name


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_datetimes_are_stored_as_utc_and_read_back_aware(dialect):
    kind = UTCDateTime()
    local = datetime(2025, 1, 2, 5, 4, 5, 6, tzinfo=timezone(timedelta(hours=2)))
    stored = kind.process_bind_param(local, dialect)
    assert stored == datetime(2025, 1, 2, 3, 4, 5, 6)
    assert kind.process_result_value(stored, dialect) == local
    assert kind.process_result_value(stored, dialect).tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        kind.process_bind_param(datetime(2025, 1, 1), dialect)


def test_uuids_are_text():
    value = uuid.uuid4()
    kind = UUIDString()
    assert kind.process_bind_param(value, sqlite.dialect()) == str(value)
    assert kind.process_bind_param(str(value), sqlite.dialect()) == str(value)
    assert kind.process_result_value(str(value), sqlite.dialect()) == value


def test_objects_are_stored_as_their_versioned_primitive():
    kind = ObjectJSON(CpuInfo)
    info = CpuInfo(model="EPYC", features=["aes"])
    text = kind.process_bind_param(info, sqlite.dialect())
    assert text is not None
    assert '"cumulo_object.name":"CpuInfo"' in text and '"cumulo_object.version":"1.0"' in text
    assert "changes" not in text
    loaded = kind.process_result_value(text, sqlite.dialect())
    assert loaded == info and loaded.obj_what_changed() == set()
    assert info.obj_what_changed() != set()  # storing did not touch the caller's object
    with pytest.raises(TypeError, match="expected a CpuInfo object, got Flavor"):
        kind.process_bind_param(Flavor(flavorid="f", name="f", memory_mb=1, vcpus=1), None)


def test_over_long_values_name_the_field_and_column():
    columns = convert.columns(Flavor)
    with pytest.raises(
        ValueError, match=r"Flavor.name: at most 255 characters \(column flavors.name\)"
    ):
        columns.values_of({"name": "n" * 300})


def test_length_checks_exist_because_sqlite_accepts_anything(database):
    database.clear()
    row = {
        "flavorid": "f",
        "name": "n" * 300,
        "memory_mb": 1,
        "vcpus": 1,
        "root_gb": 0,
        "ephemeral_gb": 0,
        "swap": 0,
        "rxtx_factor": 1.0,
        "disabled": False,
        "is_public": True,
        "created_at": datetime.now(UTC),
    }
    if database.backend == "sqlite":
        with database.engine.begin() as connection:
            connection.execute(insert(FlavorRow), row)
        assert database.count(FlavorRow) == 1
    else:  # PostgreSQL always, MariaDB in the strict mode Cumulo's engines set
        with pytest.raises(DBAPIError), database.engine.begin() as connection:
            connection.execute(insert(FlavorRow), row)
        assert database.count(FlavorRow) == 0
