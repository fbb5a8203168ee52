"""The identity records as the rest of Cumulo sees them: plain frozen dataclasses,
read from and written to the tables of ``cumulo/db/models.py`` by
:class:`~cumulo.identity.store.IdentityStore`.

They are not versioned objects: nothing sends them over RPC. What crosses a
service boundary is the token and the user, project and roles it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_DOMAIN_ID = "default"
DEFAULT_DOMAIN_NAME = "Default"
DEFAULT_ROLES = ("admin", "member", "reader")
"""The roles ``bootstrap`` creates, in Keystone's order of power."""


@dataclass(frozen=True, slots=True)
class Domain:
    id: str
    name: str
    description: str | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str
    domain_id: str
    description: str | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    domain_id: str
    enabled: bool = True
    default_project_id: str | None = None
    email: str | None = None
    description: str | None = None
    password_changed_at: datetime | None = None
    revoked_before: datetime | None = None
    # The argon2 hash; kept out of repr so it never reaches a log line.
    password_hash: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Role:
    id: str
    name: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """``user`` has ``role`` on ``project``."""

    user_id: str
    project_id: str
    role_id: str


@dataclass(frozen=True, slots=True)
class NamedAssignment:
    """A role assignment with the records it names (``include_names``)."""

    user: User
    user_domain: Domain
    project: Project
    project_domain: Domain
    role: Role
