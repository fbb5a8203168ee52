"""The identity service's default policy rules (oslo.policy syntax)."""

from __future__ import annotations

from ..policy import Rule

ADMIN = "role:admin"

RULES: tuple[Rule, ...] = (
    Rule("admin_required", ADMIN, "The cloud administrator"),
    Rule(
        "identity:validate_token",
        "rule:admin_required or user_id:%(target.token.user_id)s",
        "Validate a token (GET/HEAD /v3/auth/tokens): admins, or the token's own user",
    ),
    Rule("identity:list_domains", "rule:admin_required", "List domains"),
    Rule(
        "identity:get_domain",
        "rule:admin_required or user_domain_id:%(target.domain.id)s"
        " or project_domain_id:%(target.domain.id)s",
        "Show a domain: admins, or users of it or scoped to one of its projects",
    ),
    Rule("identity:list_projects", "rule:admin_required", "List projects"),
    Rule(
        "identity:get_project",
        "rule:admin_required or project_id:%(target.project.id)s",
        "Show a project: admins, or tokens scoped to it",
    ),
    Rule(
        "identity:list_user_projects",
        "rule:admin_required or user_id:%(target.user.id)s",
        "List a user's projects: admins, or the user itself",
    ),
    Rule("identity:create_project", "rule:admin_required", "Create a project"),
    Rule("identity:update_project", "rule:admin_required", "Change a project"),
    Rule("identity:delete_project", "rule:admin_required", "Delete a project"),
    Rule("identity:list_users", "rule:admin_required", "List users"),
    Rule(
        "identity:get_user",
        "rule:admin_required or user_id:%(target.user.id)s",
        "Show a user: admins, or the user itself",
    ),
    Rule("identity:create_user", "rule:admin_required", "Create a user"),
    Rule("identity:update_user", "rule:admin_required", "Change a user (its password too)"),
    Rule("identity:delete_user", "rule:admin_required", "Delete a user"),
    Rule("identity:list_roles", "rule:admin_required", "List roles"),
    Rule("identity:get_role", "rule:admin_required", "Show a role"),
    Rule("identity:create_role", "rule:admin_required", "Create a role"),
    Rule("identity:delete_role", "rule:admin_required", "Delete a role"),
    Rule("identity:check_grant", "rule:admin_required", "Check a user's role on a project"),
    Rule("identity:list_grants", "rule:admin_required", "List a user's roles on a project"),
    Rule("identity:create_grant", "rule:admin_required", "Give a user a role on a project"),
    Rule("identity:revoke_grant", "rule:admin_required", "Take a user's role on a project"),
    Rule(
        "identity:list_role_assignments",
        "rule:admin_required or user_id:%(target.user.id)s",
        "List role assignments: admins, or a user listing its own (?user.id=itself)",
    ),
)
