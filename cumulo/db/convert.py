"""Rows to objects and objects (or their changes) to column values.

A table's column attributes carry the names of the fields they store, so most
fields convert by name (:class:`Columns`). What does not map one to one is
converted here by hand: soft-delete markers, an instance's lazy fields, a
flavor's extra specs, a security group's rules.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import String, inspect
from sqlalchemy.orm import DeclarativeBase

from cumulo.model.block_device import BlockDeviceMapping
from cumulo.model.compute_node import ComputeNode
from cumulo.model.flavor import Flavor
from cumulo.model.instance import Instance
from cumulo.model.instance_action import InstanceAction, InstanceActionEvent
from cumulo.model.instance_fault import InstanceFault
from cumulo.model.instance_info_cache import InstanceInfoCache
from cumulo.model.migration import Migration
from cumulo.model.network import NetworkInfo
from cumulo.model.security_group import SecurityGroup, SecurityGroupList, SecurityGroupRule
from cumulo.model.service import Service
from cumulo.model.volume import Volume
from cumulo.objects import VersionedObject

from .models import (
    BlockDeviceMappingRow,
    ComputeNodeRow,
    FlavorRow,
    InstanceActionEventRow,
    InstanceActionRow,
    InstanceFaultRow,
    InstanceInfoCacheRow,
    InstanceRow,
    MigrationRow,
    SecurityGroupRow,
    SecurityGroupRuleRow,
    ServiceRow,
    VolumeRow,
)

RENAMED: Final = {"metadata": "metadata_"}
"""Fields whose column attribute has another name (``metadata`` is taken by the
declarative base)."""

CONVERTED: Final[dict[type[VersionedObject], frozenset[str]]] = {
    Instance: frozenset({"deleted", "flavor", "info_cache", "security_groups", "fault", "tags"}),
    InstanceInfoCache: frozenset({"deleted"}),
    Flavor: frozenset({"extra_specs"}),
    SecurityGroup: frozenset({"rules"}),
}
"""Fields converted by hand rather than by name, per object."""

TABLES: Final[dict[type[VersionedObject], type[DeclarativeBase]]] = {
    Instance: InstanceRow,
    InstanceInfoCache: InstanceInfoCacheRow,
    InstanceFault: InstanceFaultRow,
    InstanceAction: InstanceActionRow,
    InstanceActionEvent: InstanceActionEventRow,
    Flavor: FlavorRow,
    BlockDeviceMapping: BlockDeviceMappingRow,
    Migration: MigrationRow,
    Volume: VolumeRow,
    Service: ServiceRow,
    ComputeNode: ComputeNodeRow,
    SecurityGroup: SecurityGroupRow,
    SecurityGroupRule: SecurityGroupRuleRow,
}
"""The table each persisted object is stored in."""


class Columns:
    """How the fields of one object class map to the columns of its table."""

    def __init__(self, object_class: type[VersionedObject], row_class: type[Any]) -> None:
        self.object_class = object_class
        self.row_class = row_class
        mapper = inspect(row_class)
        converted = CONVERTED.get(object_class, frozenset())
        by_field: dict[str, tuple[str, str]] = {}
        limits: dict[str, int] = {}
        for name in object_class.obj_fields():
            if name in converted:
                continue
            attr = RENAMED.get(name, name)
            if attr not in mapper.column_attrs:
                continue
            column = mapper.column_attrs[attr].columns[0]
            by_field[name] = (attr, column.name)
            if type(column.type) is String and column.type.length:
                limits[name] = column.type.length
        self.by_field: Final = by_field
        """``field -> (attribute, column name)`` of the fields stored by name."""
        self.limits: Final = limits
        self.table_name: Final[str] = mapper.local_table.name

    def unmapped(self) -> list[str]:
        """Fields of the object stored neither by name nor by hand (must be none)."""
        converted = CONVERTED.get(self.object_class, frozenset())
        return [
            name
            for name in self.object_class.obj_fields()
            if name not in self.by_field and name not in converted
        ]

    def values(self, obj: VersionedObject, skip: Iterable[str] = ()) -> dict[str, Any]:
        """``{attribute: value}`` of every field set on ``obj`` (for a new row)."""
        skipped = set(skip)
        values: dict[str, Any] = {}
        for name, (attr, _) in self.by_field.items():
            if name in skipped or not obj.obj_attr_is_set(name):
                continue
            values[attr] = self._checked(name, getattr(obj, name))
        return values

    def values_of(self, changes: Mapping[str, Any], strict: bool = False) -> dict[str, Any]:
        """``{attribute: value}`` for the changed fields stored by name. Other names
        are left to the caller, or refused when ``strict``."""
        values: dict[str, Any] = {}
        for name, value in changes.items():
            mapped = self.by_field.get(name)
            if mapped is not None:
                values[mapped[0]] = self._checked(name, value)
            elif strict:
                raise ValueError(
                    f"{self.object_class.obj_name()} has no stored field {name!r} "
                    f"(table {self.table_name})"
                )
        return values

    def fields(self, row: Any) -> dict[str, Any]:
        """``{field: value}`` read from ``row`` for the fields stored by name."""
        return {name: getattr(row, attr) for name, (attr, _) in self.by_field.items()}

    def _checked(self, name: str, value: Any) -> Any:
        # Only SQLite would accept an over-long string; fail the same way everywhere.
        limit = self.limits.get(name)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise ValueError(
                f"{self.object_class.obj_name()}.{name}: at most {limit} characters "
                f"(column {self.table_name}.{name}), got {len(value)}"
            )
        return value


@functools.cache
def columns(object_class: type[VersionedObject]) -> Columns:
    return Columns(object_class, TABLES[object_class])


def _loaded(obj: Any) -> Any:
    obj.obj_reset_changes(recursive=True)
    return obj


# --- rows -> objects ------------------------------------------------------------------------


def instance(
    row: InstanceRow,
    expected_attrs: Sequence[str],
    fault: InstanceFaultRow | None = None,
) -> Instance:
    """An ``Instance`` from its row, with the lazy fields of ``expected_attrs`` (their
    rows loaded with it; the latest fault passed in). An instance stored without a
    flavor is returned with ``flavor`` unset (reading it raises ``FlavorNotFound``)."""
    values = columns(Instance).fields(row)
    values["deleted"] = row.deleted != 0
    for name in expected_attrs:
        if name == "flavor":
            if row.flavor is not None:
                values["flavor"] = row.flavor
        elif name == "info_cache":
            values["info_cache"] = instance_info_cache(row.uuid, row.info_cache)
        elif name == "security_groups":
            values["security_groups"] = security_group_list(row.security_groups)
        elif name == "fault":
            values["fault"] = None if fault is None else instance_fault(fault)
        elif name == "tags":
            values["tags"] = [tag.tag for tag in row.tags]
    obj: Instance = _loaded(Instance(**values))
    return obj


def instance_info_cache(
    instance_uuid: uuid.UUID, row: InstanceInfoCacheRow | None
) -> InstanceInfoCache:
    """The cache of an instance; an empty one when the instance has no cache row."""
    if row is None:
        cache = InstanceInfoCache(instance_uuid=instance_uuid, network_info=NetworkInfo())
    else:
        values = columns(InstanceInfoCache).fields(row)
        values["deleted"] = row.deleted != 0
        cache = InstanceInfoCache(**values)
    result: InstanceInfoCache = _loaded(cache)
    return result


def instance_fault(row: InstanceFaultRow) -> InstanceFault:
    result: InstanceFault = _loaded(InstanceFault(**columns(InstanceFault).fields(row)))
    return result


def instance_action(row: InstanceActionRow) -> InstanceAction:
    result: InstanceAction = _loaded(InstanceAction(**columns(InstanceAction).fields(row)))
    return result


def instance_action_event(row: InstanceActionEventRow) -> InstanceActionEvent:
    values = columns(InstanceActionEvent).fields(row)
    result: InstanceActionEvent = _loaded(InstanceActionEvent(**values))
    return result


def flavor(row: FlavorRow) -> Flavor:
    values = columns(Flavor).fields(row)
    values["extra_specs"] = {spec.key: spec.value for spec in row.extra_specs}
    result: Flavor = _loaded(Flavor(**values))
    return result


def block_device_mapping(row: BlockDeviceMappingRow) -> BlockDeviceMapping:
    values = columns(BlockDeviceMapping).fields(row)
    result: BlockDeviceMapping = _loaded(BlockDeviceMapping(**values))
    return result


def migration(row: MigrationRow) -> Migration:
    result: Migration = _loaded(Migration(**columns(Migration).fields(row)))
    return result


def volume(row: VolumeRow) -> Volume:
    result: Volume = _loaded(Volume(**columns(Volume).fields(row)))
    return result


def service(row: ServiceRow) -> Service:
    result: Service = _loaded(Service(**columns(Service).fields(row)))
    return result


def compute_node(row: ComputeNodeRow) -> ComputeNode:
    result: ComputeNode = _loaded(ComputeNode(**columns(ComputeNode).fields(row)))
    return result


def security_group_rule(row: SecurityGroupRuleRow) -> SecurityGroupRule:
    values = columns(SecurityGroupRule).fields(row)
    result: SecurityGroupRule = _loaded(SecurityGroupRule(**values))
    return result


def security_group(row: SecurityGroupRow) -> SecurityGroup:
    values = columns(SecurityGroup).fields(row)
    values["rules"] = [security_group_rule(rule) for rule in row.rules]
    result: SecurityGroup = _loaded(SecurityGroup(**values))
    return result


def security_group_list(rows: Iterable[SecurityGroupRow]) -> SecurityGroupList:
    result: SecurityGroupList = _loaded(
        SecurityGroupList(objects=[security_group(row) for row in rows])
    )
    return result
