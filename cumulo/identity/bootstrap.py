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

    roles: dict[str, Role] = {}
    for name in dict.fromkeys((*DEFAULT_ROLES, admin_role)):
        try:
            roles[name] = store.find_role(name)
            report.note(f"kept role {name} ({roles[name].id})")
        except NotFound:
            roles[name] = store.create_role(Role(new_id(), name))
            report.note(f"created role {name} ({roles[name].id})")

    try:
        project = store.find_project(admin_project, domain.id)
        report.note(f"kept project {project.name} ({project.id})")
    except NotFound:
        project = manager.create_project(admin_project, domain.id, "Bootstrap project")
        report.note(f"created project {project.name} ({project.id})")

    try:
        user = store.find_user(admin_user, domain.id)
    except NotFound:
        user = manager.create_user(
            admin_user, domain.id, admin_password, default_project_id=project.id
        )
        report.note(f"created user {user.name} ({user.id})")
    else:
        changes: dict[str, object] = {}
        if not user.enabled:
            changes["enabled"] = True
        new_password = not manager.hasher.verify(user.password_hash, admin_password)
        if changes or new_password:
            user = manager.update_user(
                user.id, changes, password=admin_password if new_password else None
            )
            done = [
                *(["enabled"] if changes else []),
                *(["password reset"] if new_password else []),
            ]
            report.note(f"updated user {user.name} ({user.id}): {', '.join(done)}")
        else:
            report.note(f"kept user {user.name} ({user.id})")

    if manager.grant(user.id, project.id, roles[admin_role].id):
        report.note(f"granted role {admin_role} on project {project.name} to user {user.name}")
    else:
        report.note(f"kept role {admin_role} on project {project.name} for user {user.name}")
    report.user = user
    return report
