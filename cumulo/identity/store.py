"""``IdentityStore``: the identity records in the tables of ``cumulo/db/models.py``,
on SQLite, PostgreSQL or MariaDB.

Every method is one transaction. Lookups that match nothing raise the ``*NotFound``
errors of :mod:`cumulo.identity.exceptions`; a write that meets a unique name
raises ``Conflict``. Identity records are deleted for real (as Keystone does), and
deleting a project, user or role deletes the role assignments that name it in the
same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Delete, delete, exists, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from cumulo.db.models import DomainRow, ProjectRow, RoleAssignmentRow, RoleRow, UserRow
from cumulo.db.records import RecordStore, utcnow

from .exceptions import (
    AssignmentNotFound,
    Conflict,
    DomainNotFound,
    NotFound,
    ProjectNotFound,
    RoleNotFound,
    UserNotFound,
)
from .records import Domain, NamedAssignment, Project, Role, RoleAssignment, User

R = TypeVar("R", Domain, Project, User, Role)
N = TypeVar("N", Project, User)
"""The records named uniquely within their domain."""

PROJECT_CHANGES = frozenset({"name", "description", "enabled"})
USER_CHANGES = frozenset(
    {
        "name",
        "enabled",
        "default_project_id",
        "email",
        "description",
        "password_hash",
        "password_changed_at",
        "revoked_before",
    }
)


@dataclass(frozen=True, slots=True)
class Subject:
    """What a token's check reads in one transaction: the user, its domain, and the
    project, its domain and the user's roles on it (``None`` and ``()`` unscoped)."""

    user: User
    user_domain: Domain
    project: Project | None
    project_domain: Domain | None
    roles: tuple[Role, ...]


def _record(record_class: type[R], row: Any) -> R:
    return record_class(**{f.name: getattr(row, f.name) for f in fields(record_class)})


def _deleted(session: Session, statement: Delete) -> int:
    """Rows a DELETE matched."""
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return cast("CursorResult[Any]", result).rowcount


def _values(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


class IdentityStore(RecordStore):
    """Domains, projects, users, roles and role assignments in one database."""

    @contextmanager
    def _writing(self, conflict: Conflict | None = None) -> Iterator[Session]:
        """A write transaction; a unique-key violation (a concurrent create) becomes
        ``conflict``, a foreign-key violation (a record deleted meanwhile) a ``Conflict``
        asking to retry."""
        try:
            with self.writing(conflict) as session:
                yield session
        except IntegrityError as exc:
            raise Conflict(
                "a record this change names was changed or deleted meanwhile: retry"
            ) from exc

    # --- domains ---------------------------------------------------------------------------

    def create_domain(self, domain: Domain) -> Domain:
        conflict = Conflict(f"a domain named {domain.name!r} already exists")
        with self._writing(conflict) as session:
            if session.scalar(select(exists().where(DomainRow.name == domain.name))):
                raise conflict
            session.add(DomainRow(**_values(domain), created_at=utcnow()))
        return domain

    def get_domain(self, domain_id: str) -> Domain:
        with self.reading() as session:
            return self._one(
                session, Domain, DomainRow.id == domain_id, DomainNotFound(id=domain_id)
            )

    def find_domain(self, name: str) -> Domain:
        with self.reading() as session:
            return self._one(session, Domain, DomainRow.name == name, DomainNotFound(name=name))

    def list_domains(self, name: str | None = None, enabled: bool | None = None) -> list[Domain]:
        criteria = []
        if name is not None:
            criteria.append(DomainRow.name == name)
        if enabled is not None:
            criteria.append(DomainRow.enabled == enabled)
        with self.reading() as session:
            rows = session.scalars(select(DomainRow).where(*criteria).order_by(DomainRow.name))
            return [_record(Domain, row) for row in rows]

    # --- projects --------------------------------------------------------------------------

    def create_project(self, project: Project) -> Project:
        return self._create_in_domain(project, ProjectRow, "project")

    def get_project(self, project_id: str) -> Project:
        with self.reading() as session:
            return self._one(
                session, Project, ProjectRow.id == project_id, ProjectNotFound(id=project_id)
            )

    def find_project(self, name: str, domain_id: str) -> Project:
        criterion = (ProjectRow.name == name) & (ProjectRow.domain_id == domain_id)
        with self.reading() as session:
            return self._one(
                session, Project, criterion, ProjectNotFound(name=name, domain_id=domain_id)
            )

    def list_projects(
        self,
        domain_id: str | None = None,
        name: str | None = None,
        enabled: bool | None = None,
        user_id: str | None = None,
    ) -> list[Project]:
        """Projects matching every filter given; ``user_id``: those it has a role on."""
        criteria: list[ColumnElement[bool]] = []
        if domain_id is not None:
            criteria.append(ProjectRow.domain_id == domain_id)
        if name is not None:
            criteria.append(ProjectRow.name == name)
        if enabled is not None:
            criteria.append(ProjectRow.enabled == enabled)
        if user_id is not None:
            criteria.append(
                ProjectRow.id.in_(
                    select(RoleAssignmentRow.project_id).where(RoleAssignmentRow.user_id == user_id)
                )
            )
        with self.reading() as session:
            statement = (
                select(ProjectRow).where(*criteria).order_by(ProjectRow.name, ProjectRow.domain_id)
            )
            return [_record(Project, row) for row in session.scalars(statement)]

    def update_project(self, project_id: str, changes: dict[str, Any]) -> Project:
        return self._update_in_domain(
            Project, ProjectRow, project_id, changes, PROJECT_CHANGES, ProjectNotFound
        )

    def delete_project(self, project_id: str) -> None:
        with self._writing() as session:
            session.execute(
                delete(RoleAssignmentRow).where(RoleAssignmentRow.project_id == project_id)
            )
            if _deleted(session, delete(ProjectRow).where(ProjectRow.id == project_id)) != 1:
                raise ProjectNotFound(id=project_id)

    # --- users -----------------------------------------------------------------------------

    def create_user(self, user: User) -> User:
        return self._create_in_domain(user, UserRow, "user")

    def get_user(self, user_id: str) -> User:
        with self.reading() as session:
            return self._one(session, User, UserRow.id == user_id, UserNotFound(id=user_id))

    def find_user(self, name: str, domain_id: str) -> User:
        criterion = (UserRow.name == name) & (UserRow.domain_id == domain_id)
        with self.reading() as session:
            return self._one(session, User, criterion, UserNotFound(name=name, domain_id=domain_id))

    def list_users(
        self, domain_id: str | None = None, name: str | None = None, enabled: bool | None = None
    ) -> list[User]:
        criteria: list[ColumnElement[bool]] = []
        if domain_id is not None:
            criteria.append(UserRow.domain_id == domain_id)
        if name is not None:
            criteria.append(UserRow.name == name)
        if enabled is not None:
            criteria.append(UserRow.enabled == enabled)
        with self.reading() as session:
            statement = select(UserRow).where(*criteria).order_by(UserRow.name, UserRow.domain_id)
            return [_record(User, row) for row in session.scalars(statement)]

    def update_user(self, user_id: str, changes: dict[str, Any]) -> User:
        return self._update_in_domain(User, UserRow, user_id, changes, USER_CHANGES, UserNotFound)

    def delete_user(self, user_id: str) -> None:
        with self._writing() as session:
            session.execute(delete(RoleAssignmentRow).where(RoleAssignmentRow.user_id == user_id))
            if _deleted(session, delete(UserRow).where(UserRow.id == user_id)) != 1:
                raise UserNotFound(id=user_id)

    # --- roles -----------------------------------------------------------------------------

    def create_role(self, role: Role) -> Role:
        conflict = Conflict(f"a role named {role.name!r} already exists")
        with self._writing(conflict) as session:
            if session.scalar(select(exists().where(RoleRow.name == role.name))):
                raise conflict
            session.add(RoleRow(**_values(role), created_at=utcnow()))
        return role

    def get_role(self, role_id: str) -> Role:
        with self.reading() as session:
            return self._one(session, Role, RoleRow.id == role_id, RoleNotFound(id=role_id))

    def find_role(self, name: str) -> Role:
        with self.reading() as session:
            return self._one(session, Role, RoleRow.name == name, RoleNotFound(name=name))

    def list_roles(self, name: str | None = None) -> list[Role]:
        criteria = [] if name is None else [RoleRow.name == name]
        with self.reading() as session:
            rows = session.scalars(select(RoleRow).where(*criteria).order_by(RoleRow.name))
            return [_record(Role, row) for row in rows]

    def delete_role(self, role_id: str) -> None:
        with self._writing() as session:
            session.execute(delete(RoleAssignmentRow).where(RoleAssignmentRow.role_id == role_id))
            if _deleted(session, delete(RoleRow).where(RoleRow.id == role_id)) != 1:
                raise RoleNotFound(id=role_id)

    # --- role assignments ------------------------------------------------------------------

    def grant(self, assignment: RoleAssignment) -> bool:
        """Give the role; returns whether it was new (granting twice is no error)."""
        with self._writing(Conflict("the role assignment already exists")) as session:
            self._require(session, UserRow, assignment.user_id, UserNotFound)
            self._require(session, ProjectRow, assignment.project_id, ProjectNotFound)
            self._require(session, RoleRow, assignment.role_id, RoleNotFound)
            key = (assignment.user_id, assignment.project_id, assignment.role_id)
            if session.get(RoleAssignmentRow, key) is not None:
                return False
            session.add(RoleAssignmentRow(**_values(assignment)))
            return True

    def revoke(self, assignment: RoleAssignment) -> None:
        with self._writing() as session:
            statement = delete(RoleAssignmentRow).where(
                RoleAssignmentRow.user_id == assignment.user_id,
                RoleAssignmentRow.project_id == assignment.project_id,
                RoleAssignmentRow.role_id == assignment.role_id,
            )
            if _deleted(session, statement) != 1:
                raise AssignmentNotFound(**_values(assignment))

    def has_assignment(self, assignment: RoleAssignment) -> bool:
        key = (assignment.user_id, assignment.project_id, assignment.role_id)
        with self.reading() as session:
            return session.get(RoleAssignmentRow, key) is not None

    def list_assignments(
        self, user_id: str | None = None, project_id: str | None = None, role_id: str | None = None
    ) -> list[NamedAssignment]:
        """The assignments matching every filter given, with the records they name."""
        user_domain = aliased(DomainRow)
        project_domain = aliased(DomainRow)
        statement = (
            select(UserRow, user_domain, ProjectRow, project_domain, RoleRow)
            .select_from(RoleAssignmentRow)
            .join(UserRow, UserRow.id == RoleAssignmentRow.user_id)
            .join(user_domain, user_domain.id == UserRow.domain_id)
            .join(ProjectRow, ProjectRow.id == RoleAssignmentRow.project_id)
            .join(project_domain, project_domain.id == ProjectRow.domain_id)
            .join(RoleRow, RoleRow.id == RoleAssignmentRow.role_id)
            .order_by(UserRow.name, ProjectRow.name, RoleRow.name)
        )
        if user_id is not None:
            statement = statement.where(RoleAssignmentRow.user_id == user_id)
        if project_id is not None:
            statement = statement.where(RoleAssignmentRow.project_id == project_id)
        if role_id is not None:
            statement = statement.where(RoleAssignmentRow.role_id == role_id)
        with self.reading() as session:
            return [
                NamedAssignment(
                    user=_record(User, user),
                    user_domain=_record(Domain, udomain),
                    project=_record(Project, project),
                    project_domain=_record(Domain, pdomain),
                    role=_record(Role, role),
                )
                for user, udomain, project, pdomain, role in session.execute(statement)
            ]

    def roles_on_project(self, user_id: str, project_id: str) -> list[Role]:
        with self.reading() as session:
            return self._roles(session, user_id, project_id)

    # --- the token check -------------------------------------------------------------------

    def subject(self, user_id: str, project_id: str | None) -> Subject:
        """The user (and project, and roles) a token names, read in one transaction:
        three primary-key or indexed reads. Raises ``UserNotFound`` /
        ``ProjectNotFound``."""
        with self.reading() as session:
            found = session.execute(
                select(UserRow, DomainRow)
                .join(DomainRow, DomainRow.id == UserRow.domain_id)
                .where(UserRow.id == user_id)
            ).first()
            if found is None:
                raise UserNotFound(id=user_id)
            user, user_domain = _record(User, found[0]), _record(Domain, found[1])
            if project_id is None:
                return Subject(user, user_domain, None, None, ())
            scoped = session.execute(
                select(ProjectRow, DomainRow)
                .join(DomainRow, DomainRow.id == ProjectRow.domain_id)
                .where(ProjectRow.id == project_id)
            ).first()
            if scoped is None:
                raise ProjectNotFound(id=project_id)
            roles = tuple(self._roles(session, user_id, project_id))
            return Subject(
                user, user_domain, _record(Project, scoped[0]), _record(Domain, scoped[1]), roles
            )

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _roles(session: Session, user_id: str, project_id: str) -> list[Role]:
        statement = (
            select(RoleRow)
            .join(RoleAssignmentRow, RoleAssignmentRow.role_id == RoleRow.id)
            .where(RoleAssignmentRow.user_id == user_id, RoleAssignmentRow.project_id == project_id)
            .order_by(RoleRow.name)
        )
        return [_record(Role, row) for row in session.scalars(statement)]

    # --- what projects and users share: a name unique in its domain -----------------------

    @staticmethod
    def _name_taken(session: Session, row_class: Any, domain_id: str, name: str) -> bool:
        taken = (row_class.domain_id == domain_id) & (row_class.name == name)
        return bool(session.scalar(select(exists().where(taken))))

    def _create_in_domain(self, record: N, row_class: Any, kind: str) -> N:
        conflict = Conflict(
            f"a {kind} named {record.name!r} already exists in domain {record.domain_id!r}"
        )
        with self._writing(conflict) as session:
            self._require_domain(session, record.domain_id)
            if self._name_taken(session, row_class, record.domain_id, record.name):
                raise conflict
            session.add(row_class(**_values(record), created_at=utcnow()))
        return record

    def _update_in_domain(
        self,
        record_class: type[N],
        row_class: Any,
        key: str,
        changes: dict[str, Any],
        allowed: frozenset[str],
        not_found: type[NotFound],
    ) -> N:
        kind = record_class.__name__.lower()
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"{kind} fields that cannot change: {sorted(unknown)}")
        conflict = Conflict(f"a {kind} named {changes.get('name')!r} already exists")
        with self._writing(conflict) as session:
            row = session.get(row_class, key, with_for_update=True)
            if row is None:
                raise not_found(id=key)
            if (
                "name" in changes
                and changes["name"] != row.name
                and self._name_taken(session, row_class, row.domain_id, changes["name"])
            ):
                raise conflict
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            session.flush()
            return _record(record_class, row)

    @staticmethod
    def _one(
        session: Session, record_class: type[R], criterion: ColumnElement[bool], error: NotFound
    ) -> R:
        row_class = {Domain: DomainRow, Project: ProjectRow, User: UserRow, Role: RoleRow}[
            record_class
        ]
        row = session.scalars(select(row_class).where(criterion)).first()
        if row is None:
            raise error
        return _record(record_class, row)

    @staticmethod
    def _require(session: Session, row_class: type[Any], key: str, error: type[NotFound]) -> None:
        if session.get(row_class, key) is None:
            raise error(id=key)

    def _require_domain(self, session: Session, domain_id: str) -> None:
        self._require(session, DomainRow, domain_id, DomainNotFound)
