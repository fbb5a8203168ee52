"""Flavors and their extra specs."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cumulo.model.exceptions import AlreadyExists, FlavorNotFound
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

    def _flavor(
        self, session: Session, criterion: ColumnElement[bool], missing: FlavorNotFound
    ) -> Flavor:
        row = session.scalar(
            select(FlavorRow).where(criterion).options(selectinload(FlavorRow.extra_specs))
        )
        if row is None:
            raise missing
        return convert.flavor(row)
