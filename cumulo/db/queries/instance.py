"""Instances and their info caches: create, read (with the lazy fields asked
for, one query per field, never one per row), the compare-and-swap save, soft delete."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, selectinload, undefer
from sqlalchemy.orm.interfaces import ORMOption

from cumulo.model.exceptions import (
    AlreadyExists,
    FlavorNotFound,
    InstanceInfoCacheNotFound,
    InstanceNotFound,
    ModelError,
    SecurityGroupNotFound,
    UnexpectedDeletingTaskStateError,
    UnexpectedTaskStateError,
    UnexpectedVmStateError,
)
from cumulo.model.instance import LAZY_FIELDS, Instance
from cumulo.model.instance_info_cache import InstanceInfoCache
from cumulo.model.network import NetworkInfo
from cumulo.model.security_group import SecurityGroupList
from cumulo.model.states import TaskState, VmState
from cumulo.model.storage import Context, InstanceFilters

from .. import convert, ipam
from ..exceptions import DatabaseError
from ..models import (
    BlockDeviceMappingRow,
    InstanceFaultRow,
    InstanceInfoCacheRow,
    InstanceRow,
    InstanceTagRow,
    SecurityGroupInstanceAssociationRow,
    SecurityGroupRow,
)
from .allocation import drop_allocations
from .base import (
    CAS_ATTEMPTS,
    Queries,
    checked_name,
    in_chunks,
    matched_rows,
    missing,
    row_exists,
    taken,
    utcnow,
    without_keys,
)


def _instance_options(expected_attrs: Sequence[str]) -> list[ORMOption]:
    options: list[ORMOption] = []
    if "flavor" in expected_attrs:
        options.append(undefer(InstanceRow.flavor))
    if "info_cache" in expected_attrs:
        options.append(joinedload(InstanceRow.info_cache))
    if "security_groups" in expected_attrs:
        options.append(
            selectinload(InstanceRow.security_groups).selectinload(SecurityGroupRow.rules)
        )
    if "tags" in expected_attrs:
        options.append(selectinload(InstanceRow.tags))
    return options


def _state_in(column: Any, expected: tuple[TaskState | None, ...]) -> ColumnElement[bool]:
    """``column IN (...)``, where ``None`` in ``expected`` matches NULL."""
    states = [state for state in expected if state is not None]
    clauses: list[ColumnElement[bool]] = []
    if states:
        clauses.append(column.in_(states))
    if None in expected:
        clauses.append(column.is_(None))
    return or_(false(), *clauses)  # nothing expected: never matches


class InstanceQueries(Queries):
    """``Storage``'s ``instance_*`` and ``info_cache_*`` methods."""

    def instance_create(self, context: Context, instance: Instance) -> Instance:
        now = utcnow()
        values = convert.columns(Instance).values(instance, skip=("id",))
        values["created_at"] = instance.created_at or now
        values["deleted"] = 0
        if instance.obj_attr_is_set("flavor"):
            values["flavor"] = instance.flavor
        attrs = [name for name in LAZY_FIELDS if instance.obj_attr_is_set(name)]
        try:
            with self._writing() as session:
                session.add(InstanceRow(**values))
                session.flush()
                if instance.obj_attr_is_set("info_cache"):
                    network_info = instance.info_cache.network_info
                else:
                    network_info = NetworkInfo()
                session.add(
                    InstanceInfoCacheRow(
                        instance_uuid=instance.uuid,
                        network_info=network_info,
                        created_at=now,
                        deleted=0,
                    )
                )
                if instance.obj_attr_is_set("security_groups"):
                    groups = self._group_ids(session, instance.security_groups)
                    self._link_groups(session, instance.uuid, groups)
                if instance.obj_attr_is_set("tags"):
                    self._set_tags(session, instance.uuid, instance.tags)
                session.flush()
                return self._instance(session, instance.uuid, attrs)
        except IntegrityError as exc:
            uuid_ = instance.uuid
            raise self._explain(
                exc, taken(AlreadyExists("instance", uuid=uuid_), InstanceRow.uuid == uuid_)
            ) from exc

    def instance_get_by_uuid(
        self, context: Context, instance_uuid: uuid.UUID, expected_attrs: Sequence[str]
    ) -> Instance:
        with self._reading() as session:
            return self._instance(session, instance_uuid, expected_attrs)

    def instance_get_all_by_host(
        self, context: Context, host: str, expected_attrs: Sequence[str]
    ) -> list[Instance]:
        with self._reading() as session:
            criteria = [InstanceRow.host == host, InstanceRow.deleted == 0]
            return self._instances(session, criteria, expected_attrs)

    def instance_get_all(
        self, context: Context, filters: InstanceFilters, expected_attrs: Sequence[str]
    ) -> list[Instance]:
        criteria: list[ColumnElement[bool]] = []
        if filters.host is not None:
            criteria.append(InstanceRow.host == filters.host)
        if filters.node is not None:
            criteria.append(InstanceRow.node == filters.node)
        if filters.project_id is not None:
            criteria.append(InstanceRow.project_id == filters.project_id)
        if filters.vm_states is not None:
            criteria.append(InstanceRow.vm_state.in_(filters.vm_states))
        if filters.uuids is not None:
            criteria.append(InstanceRow.uuid.in_(filters.uuids))
        if not filters.include_deleted:
            criteria.append(InstanceRow.deleted == 0)
        with self._reading() as session:
            return self._instances(session, criteria, expected_attrs, limit=filters.limit)

    def instance_save(
        self,
        context: Context,
        instance_uuid: uuid.UUID,
        changes: dict[str, Any],
        expected_task_state: tuple[TaskState | None, ...] | None,
        expected_vm_state: tuple[VmState, ...] | None,
    ) -> Instance:
        changes = without_keys(changes, "id", "uuid")
        changes.pop("fault", None)  # faults are rows of their own (instance_fault_create)
        handled = {"flavor", "deleted", "security_groups", "tags", "info_cache"}
        by_name = convert.columns(Instance).by_field
        unknown = sorted(name for name in changes if name not in by_name and name not in handled)
        if unknown:
            raise ValueError(f"Instance has no stored fields {unknown}")
        values: dict[Any, Any] = {
            getattr(InstanceRow, attr): value
            for attr, value in convert.columns(Instance).values_of(changes).items()
        }
        if "flavor" in changes:
            values[InstanceRow.flavor] = changes["flavor"]
        if "deleted" in changes:
            values[InstanceRow.deleted] = InstanceRow.id if changes["deleted"] else 0
        values[InstanceRow.updated_at] = utcnow()
        criteria = [InstanceRow.uuid == instance_uuid]
        if expected_task_state is not None:
            criteria.append(_state_in(InstanceRow.task_state, expected_task_state))
        if expected_vm_state is not None:
            criteria.append(InstanceRow.vm_state.in_(expected_vm_state))
        with self._writing() as session:
            before = select(InstanceRow.vm_state).where(InstanceRow.uuid == instance_uuid)
            failed_build = (
                changes.get("vm_state") is VmState.ERROR
                and session.scalar(before) is VmState.BUILDING
            )
            # The compare-and-swap: one UPDATE whose WHERE holds the expected states.
            for _ in range(CAS_ATTEMPTS):
                statement = update(InstanceRow).where(*criteria).values(values)
                if matched_rows(session, statement) == 1:
                    break
                failure = self._cas_failure(
                    session, instance_uuid, expected_task_state, expected_vm_state
                )
                if failure is not None:
                    raise failure
            else:
                raise DatabaseError(
                    f"instance {instance_uuid}: the update matched no row although its "
                    f"states matched, {CAS_ATTEMPTS} times"
                )
            if "security_groups" in changes:
                groups = self._group_ids(session, changes["security_groups"])
                session.execute(
                    delete(SecurityGroupInstanceAssociationRow).where(
                        SecurityGroupInstanceAssociationRow.instance_uuid == instance_uuid
                    )
                )
                self._link_groups(session, instance_uuid, groups)
            if "tags" in changes:
                session.execute(
                    delete(InstanceTagRow).where(InstanceTagRow.instance_uuid == instance_uuid)
                )
                self._set_tags(session, instance_uuid, changes["tags"])
            if "info_cache" in changes:
                self._save_network_info(session, instance_uuid, changes["info_cache"].network_info)
            if failed_build:  # nothing runs there: what placement claimed goes back
                drop_allocations(session, instance_uuid)
            session.flush()
            touched = [name for name in LAZY_FIELDS if name in changes]
            return self._instance(session, instance_uuid, touched)

    def instance_destroy(self, context: Context, instance_uuid: uuid.UUID) -> Instance:
        """Soft-delete the instance, its info cache and its block device mappings.
        Destroying a deleted instance changes nothing and returns it (a retried
        request succeeds)."""
        now = utcnow()
        with self._writing() as session:
            row = session.scalar(select(InstanceRow).where(InstanceRow.uuid == instance_uuid))
            if row is None:
                raise InstanceNotFound(uuid=instance_uuid)
            if row.deleted == 0:
                marked = {"deleted_at": now, "updated_at": now}
                matched_rows(
                    session,
                    update(InstanceRow)
                    .where(InstanceRow.id == row.id)
                    .values(deleted=InstanceRow.id, **marked),
                )
                matched_rows(
                    session,
                    update(InstanceInfoCacheRow)
                    .where(
                        InstanceInfoCacheRow.instance_uuid == instance_uuid,
                        InstanceInfoCacheRow.deleted == 0,
                    )
                    .values(deleted=InstanceInfoCacheRow.id, **marked),
                )
                matched_rows(
                    session,
                    update(BlockDeviceMappingRow)
                    .where(
                        BlockDeviceMappingRow.instance_uuid == instance_uuid,
                        BlockDeviceMappingRow.deleted == 0,
                    )
                    .values(deleted=BlockDeviceMappingRow.id, **marked),
                )
            # Its addresses go back in the same transaction, whichever release's
            # host deleted it.
            ipam.release_ports(session, str(instance_uuid))
            drop_allocations(session, instance_uuid)  # a retried destroy drops leftovers too
            return self._instance(session, instance_uuid, ())

    def instance_load_attr(self, context: Context, instance_uuid: uuid.UUID, name: str) -> Any:
        if name not in LAZY_FIELDS:
            raise ValueError(f"Instance has no lazy field {name!r}; lazy: {list(LAZY_FIELDS)}")
        with self._reading() as session:
            loaded = self._instance(session, instance_uuid, [name])
        if not loaded.obj_attr_is_set(name):  # only a flavor can be missing
            raise FlavorNotFound(instance_uuid=instance_uuid)
        return getattr(loaded, name)

    def _instance(
        self, session: Session, instance_uuid: uuid.UUID, expected_attrs: Sequence[str]
    ) -> Instance:
        found = self._instances(session, [InstanceRow.uuid == instance_uuid], expected_attrs)
        if not found:
            raise InstanceNotFound(uuid=instance_uuid)
        return found[0]

    def _instances(
        self,
        session: Session,
        criteria: Sequence[ColumnElement[bool]],
        expected_attrs: Sequence[str],
        limit: int | None = None,
    ) -> list[Instance]:
        """Instances matching ``criteria``, oldest first: one query for the rows
        (and info caches), one per other lazy field asked for."""
        statement = (
            select(InstanceRow)
            .where(*criteria)
            .order_by(InstanceRow.created_at, InstanceRow.id)
            .options(*_instance_options(expected_attrs))
            .execution_options(populate_existing=True)
        )
        if limit is not None:
            statement = statement.limit(limit)
        rows = session.scalars(statement).all()
        faults: dict[uuid.UUID, InstanceFaultRow] = {}
        if "fault" in expected_attrs and rows:
            faults = self._latest_faults(session, [row.uuid for row in rows])
        return [convert.instance(row, expected_attrs, faults.get(row.uuid)) for row in rows]

    def _latest_faults(
        self, session: Session, instance_uuids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, InstanceFaultRow]:
        latest: dict[uuid.UUID, InstanceFaultRow] = {}
        for chunk in in_chunks(instance_uuids):
            rank = (
                func.row_number()
                .over(
                    partition_by=InstanceFaultRow.instance_uuid,
                    order_by=(InstanceFaultRow.created_at.desc(), InstanceFaultRow.id.desc()),
                )
                .label("rank")
            )
            ranked = (
                select(InstanceFaultRow, rank)
                .where(InstanceFaultRow.instance_uuid.in_(chunk))
                .subquery()
            )
            fault = aliased(InstanceFaultRow, ranked)
            for row in session.scalars(select(fault).where(ranked.c.rank == 1)):
                latest[row.instance_uuid] = row
        return latest

    def _cas_failure(
        self,
        session: Session,
        instance_uuid: uuid.UUID,
        expected_task_state: tuple[TaskState | None, ...] | None,
        expected_vm_state: tuple[VmState, ...] | None,
    ) -> ModelError | None:
        """Why a compare-and-swap matched nothing (``None``: it now would match)."""
        current = session.execute(
            select(InstanceRow.task_state, InstanceRow.vm_state).where(
                InstanceRow.uuid == instance_uuid
            )
        ).one_or_none()
        if current is None:
            return InstanceNotFound(uuid=instance_uuid)
        task_state, vm_state = current
        if expected_task_state is not None and task_state not in expected_task_state:
            if task_state is TaskState.DELETING:
                return UnexpectedDeletingTaskStateError(
                    instance_uuid, expected_task_state, task_state
                )
            return UnexpectedTaskStateError(instance_uuid, expected_task_state, task_state)
        if expected_vm_state is not None and vm_state not in expected_vm_state:
            return UnexpectedVmStateError(instance_uuid, expected_vm_state, vm_state)
        return None

    def _group_ids(self, session: Session, groups: SecurityGroupList) -> list[int]:
        """The ids of ``groups`` (by name within their project for groups without
        one); raises ``SecurityGroupNotFound``."""
        ids: list[int] = []
        for group in groups.objects:
            if group.obj_attr_is_set("id"):
                ids.append(group.id)
                continue
            found = session.scalar(
                select(SecurityGroupRow.id).where(
                    SecurityGroupRow.project_id == group.project_id,
                    SecurityGroupRow.name == group.name,
                )
            )
            if found is None:
                raise SecurityGroupNotFound(project_id=group.project_id, name=group.name)
            ids.append(found)
        ids = list(dict.fromkeys(ids))
        if ids:
            known = set(
                session.scalars(select(SecurityGroupRow.id).where(SecurityGroupRow.id.in_(ids)))
            )
            for group_id in ids:
                if group_id not in known:
                    raise SecurityGroupNotFound(id=group_id)
        return ids

    def _link_groups(self, session: Session, instance_uuid: uuid.UUID, ids: list[int]) -> None:
        session.add_all(
            SecurityGroupInstanceAssociationRow(
                security_group_id=group_id, instance_uuid=instance_uuid
            )
            for group_id in ids
        )

    def _set_tags(self, session: Session, instance_uuid: uuid.UUID, tags: Sequence[str]) -> None:
        session.add_all(
            InstanceTagRow(instance_uuid=instance_uuid, tag=checked_name("Instance.tags[]", tag))
            for tag in dict.fromkeys(tags)
        )

    # --- instance info caches ---------------------------------------------------------------

    def info_cache_get(self, context: Context, instance_uuid: uuid.UUID) -> InstanceInfoCache:
        with self._reading() as session:
            row = session.scalar(
                select(InstanceInfoCacheRow).where(
                    InstanceInfoCacheRow.instance_uuid == instance_uuid
                )
            )
            if row is None:
                raise InstanceInfoCacheNotFound(instance_uuid=instance_uuid)
            return convert.instance_info_cache(instance_uuid, row)

    def info_cache_save(
        self, context: Context, instance_uuid: uuid.UUID, network_info: NetworkInfo
    ) -> InstanceInfoCache:
        for attempt in range(2):
            try:
                with self._writing() as session:
                    return self._save_network_info(session, instance_uuid, network_info)
            except IntegrityError as exc:
                explained = self._explain(
                    exc,
                    missing(
                        InstanceNotFound(uuid=instance_uuid), InstanceRow.uuid == instance_uuid
                    ),
                )
                # Another writer created the cache first: the second try updates it.
                if isinstance(explained, InstanceNotFound) or attempt == 1:
                    raise explained from exc
        raise AssertionError("unreachable")

    def _save_network_info(
        self, session: Session, instance_uuid: uuid.UUID, network_info: NetworkInfo
    ) -> InstanceInfoCache:
        now = utcnow()
        matched = matched_rows(
            session,
            update(InstanceInfoCacheRow)
            .where(InstanceInfoCacheRow.instance_uuid == instance_uuid)
            .values(network_info=network_info, updated_at=now),
        )
        if matched == 0:
            if not row_exists(session, InstanceRow.uuid == instance_uuid):
                raise InstanceNotFound(uuid=instance_uuid)
            session.add(
                InstanceInfoCacheRow(
                    instance_uuid=instance_uuid,
                    network_info=network_info,
                    created_at=now,
                    deleted=0,
                )
            )
            session.flush()
        row = session.scalars(
            select(InstanceInfoCacheRow)
            .where(InstanceInfoCacheRow.instance_uuid == instance_uuid)
            .execution_options(populate_existing=True)
        ).one()
        return convert.instance_info_cache(instance_uuid, row)
