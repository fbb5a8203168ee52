"""The identity records as Keystone v3 renders them (``links.self`` included)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cumulo.identity import Domain, Project, Role, Token, User
from cumulo.identity.records import NamedAssignment

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def timestamp(moment: datetime) -> str:
    """Keystone's token times: UTC with microseconds and ``Z``."""
    return moment.strftime(TIME_FORMAT)


def domain(v3: str, record: Domain) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "description": record.description or "",
        "enabled": record.enabled,
        "tags": [],
        "options": {},
        "links": {"self": f"{v3}/domains/{record.id}"},
    }


def project(v3: str, record: Project) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "domain_id": record.domain_id,
        "description": record.description or "",
        "enabled": record.enabled,
        "is_domain": False,
        "parent_id": record.domain_id,
        "tags": [],
        "options": {},
        "links": {"self": f"{v3}/projects/{record.id}"},
    }


def user(v3: str, record: User) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "domain_id": record.domain_id,
        "enabled": record.enabled,
        "password_expires_at": None,
        "options": {},
        "links": {"self": f"{v3}/users/{record.id}"},
    }
    # Keystone shows these only when they are set.
    for name in ("default_project_id", "email", "description"):
        value = getattr(record, name)
        if value is not None:
            body[name] = value
    return body


def role(v3: str, record: Role) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "domain_id": None,
        "description": record.description,
        "options": {},
        "links": {"self": f"{v3}/roles/{record.id}"},
    }


def assignment(v3: str, found: NamedAssignment, include_names: bool) -> dict[str, Any]:
    ids = (found.project.id, found.user.id, found.role.id)
    role_ref: dict[str, Any] = {"id": found.role.id}
    user_ref: dict[str, Any] = {"id": found.user.id}
    project_ref: dict[str, Any] = {"id": found.project.id}
    if include_names:
        role_ref["name"] = found.role.name
        user_ref["name"] = found.user.name
        user_ref["domain"] = {"id": found.user_domain.id, "name": found.user_domain.name}
        project_ref["name"] = found.project.name
        project_ref["domain"] = {"id": found.project_domain.id, "name": found.project_domain.name}
    return {
        "role": role_ref,
        "user": user_ref,
        "scope": {"project": project_ref},
        "links": {"assignment": "{}/projects/{}/users/{}/roles/{}".format(v3, *ids)},
    }


def token(record: Token, catalog: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The body of ``POST``/``GET /v3/auth/tokens``; ``catalog`` ``None``: left out
    (``?nocatalog``, or an unscoped token)."""
    body: dict[str, Any] = {
        "methods": list(record.payload.methods),
        "user": {
            "id": record.user.id,
            "name": record.user.name,
            "domain": {"id": record.user_domain.id, "name": record.user_domain.name},
            "password_expires_at": None,
        },
        "audit_ids": list(record.payload.audit_ids),
        "expires_at": timestamp(record.payload.expires_at),
        "issued_at": timestamp(record.payload.issued_at),
    }
    if record.project is not None and record.project_domain is not None:
        body["project"] = {
            "id": record.project.id,
            "name": record.project.name,
            "domain": {"id": record.project_domain.id, "name": record.project_domain.name},
        }
        body["is_domain"] = False
        body["roles"] = [{"id": r.id, "name": r.name} for r in record.roles]
        if catalog is not None:
            body["catalog"] = catalog
    return {"token": body}
