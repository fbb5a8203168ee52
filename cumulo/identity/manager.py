"""``IdentityManager``: the identity rules on top of the store: password
authentication, issuing and checking tokens, and the changes that revoke them.

A token stays valid until it expires unless its subject changes: a user disabled,
deleted or given a new password has every earlier token refused (the user row's
``revoked_before``, read at each check), and a project disabled or deleted, or a
user's last role on it revoked, ends the tokens scoped to it. The check reads the
user (and project and roles) by key: no token is ever stored or looked up.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .exceptions import (
    AuthenticationFailed,
    DomainNotFound,
    InvalidValue,
    NotFound,
    ProjectNotFound,
    TokenExpired,
    TokenInvalid,
)
from .passwords import PasswordHasher
from .records import Domain, Project, Role, RoleAssignment, User
from .store import IdentityStore, Subject
from .tokens import TokenFormatter, TokenPayload

LOG = logging.getLogger(__name__)

DEFAULT_TOKEN_LIFETIME = timedelta(hours=1)

IMPLIED_ROLES: Mapping[str, tuple[str, ...]] = {"admin": ("member",), "member": ("reader",)}
"""Keystone's default implications: a token of an admin carries member and reader
too, and a member's carries reader, so a rule asks for the least role it needs."""


def new_id() -> str:
    """A generated identity id: 32 lower-case hex digits, as Keystone's."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PasswordCredentials:
    """The ``password`` method's user: by id, or by name and a domain (id or name)."""

    password: str
    user_id: str | None = None
    user_name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectScope:
    """The project asked for: by id, or by name and a domain (id or name)."""

    project_id: str | None = None
    name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None


@dataclass(frozen=True, slots=True)
class Token:
    """A checked token: its string, what it says, and whom it names as they are now."""

    id: str
    payload: TokenPayload
    user: User
    user_domain: Domain
    project: Project | None
    project_domain: Domain | None
    roles: tuple[Role, ...]
    """Effective roles on the project: those assigned and those they imply."""

    @property
    def role_names(self) -> list[str]:
        return [role.name for role in self.roles]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.role_names


class IdentityManager:
    """Authentication, tokens and the identity changes that have rules.

    Plain reads (``get_project``, ``list_users``...) go straight to ``store``.
    ``clock`` returns the current UTC time (tests move it).
    """

    def __init__(
        self,
        store: IdentityStore,
        tokens: TokenFormatter,
        hasher: PasswordHasher | None = None,
        token_lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.hasher = hasher or PasswordHasher()
        self.token_lifetime = token_lifetime
        self.clock = clock

    # --- authentication --------------------------------------------------------------------

    def authenticate(
        self, credentials: PasswordCredentials, scope: ProjectScope | None = None
    ) -> Token:
        """A new token for the user ``credentials`` name, scoped to ``scope`` (else to
        the user's default project if it has a role there, else unscoped). Raises
        ``AuthenticationFailed``: the client is told no more than that."""
        user = self._user_to_authenticate(credentials)
        if user is None or not self.hasher.verify(user.password_hash, credentials.password):
            raise AuthenticationFailed(f"wrong user or password for {_described(credentials)}")
        if user.password_hash and self.hasher.needs_rehash(user.password_hash):
            self.store.update_user(
                user.id, {"password_hash": self.hasher.hash(credentials.password)}
            )
        project = self._project_to_scope(user, scope)
        now = self.clock()
        payload = TokenPayload.new(
            user.id, project.id if project else None, ("password",), now, self.token_lifetime
        )
        token = self.tokens.encode(payload)
        subject = self._subject(payload)
        self._check(subject, payload, AuthenticationFailed)
        return self._token(token, payload, subject)

    def _user_to_authenticate(self, credentials: PasswordCredentials) -> User | None:
        try:
            if credentials.user_id is not None:
                user = self.store.get_user(credentials.user_id)
            else:
                domain = self._domain(credentials.domain_id, credentials.domain_name)
                user = self.store.find_user(credentials.user_name or "", domain.id)
        except NotFound:
            self.hasher.verify(None, credentials.password)  # the same cost as a wrong password
            return None
        return user

    def _project_to_scope(self, user: User, scope: ProjectScope | None) -> Project | None:
        if scope is None:
            if user.default_project_id is None:
                return None
            try:
                project = self.store.get_project(user.default_project_id)
            except ProjectNotFound:
                return None
            has_role = self.store.roles_on_project(user.id, project.id)
            return project if has_role and project.enabled else None
        try:
            if scope.project_id is not None:
                return self.store.get_project(scope.project_id)
            domain = self._domain(scope.domain_id, scope.domain_name)
            return self.store.find_project(scope.name or "", domain.id)
        except NotFound as exc:
            raise AuthenticationFailed(
                f"user {user.id} asked for a scope that is not: {exc}"
            ) from exc

    def _domain(self, domain_id: str | None, domain_name: str | None) -> Domain:
        if domain_id is not None:
            return self.store.get_domain(domain_id)
        if domain_name is not None:
            return self.store.find_domain(domain_name)
        raise DomainNotFound()

    # --- tokens ----------------------------------------------------------------------------

    def validate(self, token: str) -> Token:
        """The token ``token`` is, if it still is one; raises ``TokenInvalid`` or
        ``TokenExpired`` (a subclass) with the reason for the log."""
        payload = self.tokens.decode(token)
        if payload.expired(self.clock()):
            raise TokenExpired(f"token of user {payload.user_id} expired at {payload.expires_at}")
        subject = self._subject(payload)
        self._check(subject, payload, TokenInvalid)
        return self._token(token, payload, subject)

    def _subject(self, payload: TokenPayload) -> Subject:
        try:
            return self.store.subject(payload.user_id, payload.project_id)
        except NotFound as exc:
            raise TokenInvalid(f"token names what no longer exists: {exc}") from exc

    @staticmethod
    def _check(
        subject: Subject, payload: TokenPayload, error: type[TokenInvalid | AuthenticationFailed]
    ) -> None:
        user = subject.user
        if not user.enabled:
            raise error(f"user {user.id} is disabled")
        if not subject.user_domain.enabled:
            raise error(f"the domain of user {user.id} is disabled")
        # At or before: a token issued in the very microsecond of the change is refused too.
        if user.revoked_before is not None and payload.issued_at <= user.revoked_before:
            raise error(
                f"token of user {user.id} issued at {payload.issued_at}, before its "
                f"tokens were revoked at {user.revoked_before}"
            )
        project = subject.project
        if project is None:
            return
        if not project.enabled or not (subject.project_domain and subject.project_domain.enabled):
            raise error(f"project {project.id} (or its domain) is disabled")
        if not subject.roles:
            raise error(
                f"user {user.id} has no role on project {project.id}",
                f"User {user.id} has no access to project {project.id}.",
            )

    def _token(self, token: str, payload: TokenPayload, subject: Subject) -> Token:
        return Token(
            id=token,
            payload=payload,
            user=replace(subject.user, password_hash=None),
            user_domain=subject.user_domain,
            project=subject.project,
            project_domain=subject.project_domain,
            roles=self._effective(subject.roles),
        )

    def _effective(self, assigned: tuple[Role, ...]) -> tuple[Role, ...]:
        names = {role.name for role in assigned}
        implied: set[str] = set()
        pending = list(names)
        while pending:
            for name in IMPLIED_ROLES.get(pending.pop(), ()):
                if name not in names and name not in implied:
                    implied.add(name)
                    pending.append(name)
        if not implied:
            return assigned
        found = [role for role in self.store.list_roles() if role.name in implied]
        return tuple(sorted((*assigned, *found), key=lambda role: role.name))

    # --- changes with rules ----------------------------------------------------------------

    def create_project(
        self, name: str, domain_id: str, description: str | None = None, enabled: bool = True
    ) -> Project:
        self._existing_domain(domain_id, "project.domain_id")
        return self.store.create_project(Project(new_id(), name, domain_id, description, enabled))

    def create_user(
        self,
        name: str,
        domain_id: str,
        password: str | None = None,
        *,
        enabled: bool = True,
        default_project_id: str | None = None,
        email: str | None = None,
        description: str | None = None,
    ) -> User:
        self._existing_domain(domain_id, "user.domain_id")
        now = self.clock()
        user = User(
            id=new_id(),
            name=name,
            domain_id=domain_id,
            enabled=enabled,
            default_project_id=default_project_id,
            email=email,
            description=description,
            password_hash=None if password is None else self.hasher.hash(password),
            password_changed_at=None if password is None else now,
        )
        return replace(self.store.create_user(user), password_hash=None)

    def update_user(
        self, user_id: str, changes: Mapping[str, Any], password: str | None = None
    ) -> User:
        """Change a user; a new password or disabling revokes every token issued before."""
        values = dict(changes)
        now = self.clock()
        if password is not None:
            values["password_hash"] = self.hasher.hash(password)
            values["password_changed_at"] = now
            values["revoked_before"] = now
        elif values.get("enabled") is False:
            values["revoked_before"] = now
        return replace(self.store.update_user(user_id, values), password_hash=None)

    def change_password(self, user_id: str, original: str, password: str) -> User:
        """A user's own change: ``original`` must be its current password."""
        try:
            user = self.store.get_user(user_id)
        except NotFound:
            user = None
        if user is None or not self.hasher.verify(user.password_hash, original):
            if user is None:
                self.hasher.verify(None, original)
            raise AuthenticationFailed(f"wrong original password for user {user_id}")
        if not user.enabled:
            raise AuthenticationFailed(f"user {user_id} is disabled")
        return self.update_user(user_id, {}, password=password)

    def grant(self, user_id: str, project_id: str, role_id: str) -> bool:
        return self.store.grant(RoleAssignment(user_id, project_id, role_id))

    def _existing_domain(self, domain_id: str, field: str) -> None:
        try:
            self.store.get_domain(domain_id)
        except DomainNotFound:
            raise InvalidValue(field, f"no domain {domain_id!r}") from None


def _described(credentials: PasswordCredentials) -> str:
    if credentials.user_id is not None:
        return f"user id {credentials.user_id}"
    domain = credentials.domain_id or credentials.domain_name
    return f"user {credentials.user_name!r} in domain {domain!r}"
