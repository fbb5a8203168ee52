"""``bootstrap``: the first identity records of a cloud, like ``keystone-manage
bootstrap``: the ``Default`` domain, the roles ``admin``, ``member`` and ``reader``,
an admin project and an admin user holding ``admin`` on it.

Running it again changes only what differs: a disabled admin user is enabled again
and a password that no longer matches is set anew (which revokes the user's earlier
tokens, as any password change does). It never removes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .exceptions import NotFound
from .manager import IdentityManager, new_id
from .records import DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME, DEFAULT_ROLES, Domain, Role, User


@dataclass
class BootstrapReport:
    """What one run did, one line per record (``created ...``, ``kept ...``)."""

    lines: list[str] = field(default_factory=list)
    user: User | None = None

    def note(self, line: str) -> None:
        self.lines.append(line)


def _ensure_user(
    manager: IdentityManager,
    report: BootstrapReport,
    name: str,
    domain_id: str,
    password: str,
    project_id: str,
) -> User:
    """User ``name`` with ``password``, enabled: created, repaired or kept."""
    try:
        user = manager.store.find_user(name, domain_id)
    except NotFound:
        user = manager.create_user(name, domain_id, password, default_project_id=project_id)
        report.note(f"created user {user.name} ({user.id})")
        return user
    changes: dict[str, object] = {}
    if not user.enabled:
        changes["enabled"] = True
    new_password = not manager.hasher.verify(user.password_hash, password)
    if changes or new_password:
        user = manager.update_user(user.id, changes, password=password if new_password else None)
        done = [
            *(["enabled"] if changes else []),
            *(["password reset"] if new_password else []),
        ]
        report.note(f"updated user {user.name} ({user.id}): {', '.join(done)}")
    else:
        report.note(f"kept user {user.name} ({user.id})")
    return user


def _ensure_role(manager: IdentityManager, report: BootstrapReport, name: str) -> Role:
    try:
        role = manager.store.find_role(name)
        report.note(f"kept role {name} ({role.id})")
    except NotFound:
        role = manager.store.create_role(Role(new_id(), name))
        report.note(f"created role {name} ({role.id})")
    return role


def bootstrap(
    manager: IdentityManager,
    admin_password: str,
    admin_user: str = "admin",
    admin_project: str = "admin",
    admin_role: str = "admin",
) -> BootstrapReport:
    """Make sure the first records exist (see the module docstring)."""
    store = manager.store
    report = BootstrapReport()
    try:
        domain = store.get_domain(DEFAULT_DOMAIN_ID)
        report.note(f"kept domain {domain.name} ({domain.id})")
    except NotFound:
        domain = store.create_domain(Domain(DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME))
        report.note(f"created domain {domain.name} ({domain.id})")

    roles = {
        name: _ensure_role(manager, report, name)
        for name in dict.fromkeys((*DEFAULT_ROLES, admin_role))
    }

    try:
        project = store.find_project(admin_project, domain.id)
        report.note(f"kept project {project.name} ({project.id})")
    except NotFound:
        project = manager.create_project(admin_project, domain.id, "Bootstrap project")
        report.note(f"created project {project.name} ({project.id})")

    user = _ensure_user(manager, report, admin_user, domain.id, admin_password, project.id)
    if manager.grant(user.id, project.id, roles[admin_role].id):
        report.note(f"granted role {admin_role} on project {project.name} to user {user.name}")
    else:
        report.note(f"kept role {admin_role} on project {project.name} for user {user.name}")
    report.user = user
    return report


SERVICE_ROLE = "service"
"""The role of services' own users (a compute host's credential): the image API
lets it download any image."""
SERVICE_USER_ROLES = (SERVICE_ROLE, "reader")
"""What a service user holds on its project: ``service``, and ``reader`` for the
routes every reader may call (showing an image)."""


def ensure_service_user(
    manager: IdentityManager,
    password: str,
    user: str = "compute",
    project: str = "service",
    roles: tuple[str, ...] = SERVICE_USER_ROLES,
) -> BootstrapReport:
    """Make sure a service user exists in the Default domain with ``password``,
    holding ``roles`` on ``project`` (created when missing): the credential compute
    hosts fetch images with. Like :func:`bootstrap`, it changes only what differs."""
    store = manager.store
    report = BootstrapReport()
    store.get_domain(DEFAULT_DOMAIN_ID)  # NotFound: the cloud was not bootstrapped
    try:
        found = store.find_project(project, DEFAULT_DOMAIN_ID)
        report.note(f"kept project {found.name} ({found.id})")
    except NotFound:
        found = manager.create_project(project, DEFAULT_DOMAIN_ID, "Service users' project")
        report.note(f"created project {found.name} ({found.id})")
    account = _ensure_user(manager, report, user, DEFAULT_DOMAIN_ID, password, found.id)
    for name in roles:
        role = _ensure_role(manager, report, name)
        verb = "granted" if manager.grant(account.id, found.id, role.id) else "kept"
        report.note(f"{verb} role {name} on project {found.name} for user {account.name}")
    report.user = account
    return report
