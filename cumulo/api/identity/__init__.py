"""The identity service (Keystone v3 subset) under ``/identity``: version discovery,
tokens, domains, projects, users, roles and role assignments; one module per
resource, the records and rules in :mod:`cumulo.identity`."""

from __future__ import annotations

from ..errors import keystone_error_body
from ..registry import App, MountedService
from ..state import ApiState
from . import domains, grants, projects, role_assignments, roles, tokens, users, versions
from .common import PREFIX, V3
from .policies import RULES


def add_routes(app: App, state: ApiState) -> None:
    app.add_route(PREFIX, versions.Versions(state))
    app.add_route(V3, versions.Version(state))
    app.add_route(f"{V3}/auth/tokens", tokens.Tokens(state))
    app.add_route(f"{V3}/auth/projects", projects.AuthProjects(state))
    app.add_route(f"{V3}/domains", domains.Domains(state))
    app.add_route(f"{V3}/domains/{{domain_id}}", domains.Domain(state))
    app.add_route(f"{V3}/projects", projects.Projects(state))
    app.add_route(f"{V3}/projects/{{project_id}}", projects.Project(state))
    app.add_route(f"{V3}/projects/{{project_id}}/users/{{user_id}}/roles", grants.Grants(state))
    app.add_route(
        f"{V3}/projects/{{project_id}}/users/{{user_id}}/roles/{{role_id}}", grants.Grant(state)
    )
    app.add_route(f"{V3}/users", users.Users(state))
    app.add_route(f"{V3}/users/{{user_id}}", users.User(state))
    app.add_route(f"{V3}/users/{{user_id}}/password", users.UserPassword(state))
    app.add_route(f"{V3}/users/{{user_id}}/projects", projects.UserProjects(state))
    app.add_route(f"{V3}/roles", roles.Roles(state))
    app.add_route(f"{V3}/roles/{{role_id}}", roles.Role(state))
    app.add_route(f"{V3}/role_assignments", role_assignments.RoleAssignments(state))


SERVICE = MountedService(
    type="identity",
    name="keystone",
    prefix=PREFIX,
    catalog_path="",
    add_routes=add_routes,
    error_body=keystone_error_body,
    policies=RULES,
)
