"""Flavors and their extra specs."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cumulo.model.exceptions import AlreadyExists, FlavorExtraSpecNotFound, FlavorNotFound
from cumulo.model.flavor import Flavor
from cumulo.model.storage import Context

from .. import convert
from ..models import FlavorExtraSpecRow, FlavorRow
from .base import Queries, checked_name, matched_rows, taken, utcnow


class FlavorQueries(Queries):
    """``Storage``'s ``flavor_*`` methods."""

    def flavor_create(self, context: Context, flavor: Flavor) -> Flavor:
        values = convert.columns(Flavor).values(flavor, skip=("id",))
        values["created_at"] = utcnow()
        try:
            with self._writing() as session:
                row = FlavorRow(**values)
                session.add(row)
                session.flush()
                session.add_all(
                    FlavorExtraSpecRow(
                        flavor_id=row.id,
                        key=checked_name("Flavor.extra_specs key", key),
                        value=checked_name(f"Flavor.extra_specs[{key!r}]", value),
                    )
                    for key, value in flavor.extra_specs.items()
                )
                session.flush()
                return self._flavor(session, FlavorRow.id == row.id, FlavorNotFound(id=row.id))
        except IntegrityError as exc:
            raise self._explain(
                exc,
                taken(
                    AlreadyExists("flavor", flavorid=flavor.flavorid),
                    FlavorRow.flavorid == flavor.flavorid,
                ),
                taken(AlreadyExists("flavor", name=flavor.name), FlavorRow.name == flavor.name),
            ) from exc

    def flavor_get_by_id(self, context: Context, flavor_id: int) -> Flavor:
        with self._reading() as session:
            return self._flavor(session, FlavorRow.id == flavor_id, FlavorNotFound(id=flavor_id))

    def flavor_get_by_flavorid(self, context: Context, flavorid: str) -> Flavor:
        with self._reading() as session:
            return self._flavor(
                session, FlavorRow.flavorid == flavorid, FlavorNotFound(flavorid=flavorid)
            )

    def flavor_get_all(self, context: Context, include_disabled: bool) -> list[Flavor]:
        statement = (
            select(FlavorRow).options(selectinload(FlavorRow.extra_specs)).order_by(FlavorRow.id)
        )
        if not include_disabled:
            statement = statement.where(FlavorRow.disabled.is_(False))
        with self._reading() as session:
            return [convert.flavor(row) for row in session.scalars(statement)]

    def flavor_destroy(self, context: Context, flavorid: str) -> None:
        with self._writing() as session:
            flavor_id = session.scalar(select(FlavorRow.id).where(FlavorRow.flavorid == flavorid))
            if flavor_id is None:
                raise FlavorNotFound(flavorid=flavorid)
            matched_rows(
                session, delete(FlavorExtraSpecRow).where(FlavorExtraSpecRow.flavor_id == flavor_id)
            )
            session.execute(delete(FlavorRow).where(FlavorRow.id == flavor_id))

    def flavor_update_description(
        self, context: Context, flavorid: str, description: str | None
    ) -> Flavor:
        with self._writing() as session:
            flavor_id = self._flavor_key(session, flavorid)
            session.execute(
                update(FlavorRow)
                .where(FlavorRow.id == flavor_id)
                .values(description=description, updated_at=utcnow())
            )
            return self._flavor(session, FlavorRow.id == flavor_id, FlavorNotFound(id=flavor_id))

    def flavor_update_extra_specs(
        self, context: Context, flavorid: str, specs: Mapping[str, str]
    ) -> Flavor:
        with self._writing() as session:
            flavor_id = self._flavor_key(session, flavorid)
            if specs:
                matched_rows(
                    session,
                    delete(FlavorExtraSpecRow).where(
                        FlavorExtraSpecRow.flavor_id == flavor_id,
                        FlavorExtraSpecRow.key.in_(list(specs)),
                    ),
                )
                session.add_all(
                    FlavorExtraSpecRow(
                        flavor_id=flavor_id,
                        key=checked_name("Flavor.extra_specs key", key),
                        value=checked_name(f"Flavor.extra_specs[{key!r}]", value),
                    )
                    for key, value in specs.items()
                )
                session.flush()
            return self._flavor(session, FlavorRow.id == flavor_id, FlavorNotFound(id=flavor_id))

    def flavor_delete_extra_spec(self, context: Context, flavorid: str, key: str) -> Flavor:
        with self._writing() as session:
            flavor_id = self._flavor_key(session, flavorid)
            deleted = matched_rows(
                session,
                delete(FlavorExtraSpecRow).where(
                    FlavorExtraSpecRow.flavor_id == flavor_id, FlavorExtraSpecRow.key == key
                ),
            )
            if not deleted:
                raise FlavorExtraSpecNotFound(flavorid=flavorid, key=key)
            return self._flavor(session, FlavorRow.id == flavor_id, FlavorNotFound(id=flavor_id))

    def _flavor_key(self, session: Session, flavorid: str) -> int:
        flavor_id = session.scalar(select(FlavorRow.id).where(FlavorRow.flavorid == flavorid))
        if flavor_id is None:
            raise FlavorNotFound(flavorid=flavorid)
        return flavor_id

    def _flavor(
        self, session: Session, criterion: ColumnElement[bool], missing: FlavorNotFound
    ) -> Flavor:
        row = session.scalar(
            select(FlavorRow).where(criterion).options(selectinload(FlavorRow.extra_specs))
        )
        if row is None:
            raise missing
        return convert.flavor(row)
