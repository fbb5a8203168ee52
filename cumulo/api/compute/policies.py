"""The compute service's default policy rules (oslo.policy syntax, Nova's names):
anyone with a token scoped to a project reads flavors, admins change them."""

from __future__ import annotations

from ..policy import Rule

ADMIN = "role:admin"
READER = "role:reader"
"""The least role of a project token (admins and members are readers too)."""
PROJECT_READER_OR_ADMIN = f"({READER} and project_id:%(project_id)s) or {ADMIN}"
"""Nova's rule for reading a server's records: its project's readers, admins anywhere."""

RULES: tuple[Rule, ...] = (
    Rule("os_compute_api:flavors:index", READER, "List flavors, show a flavor"),
    Rule("os_compute_api:os-flavor-manage:create", ADMIN, "Create a flavor"),
    Rule("os_compute_api:os-flavor-manage:update", ADMIN, "Change a flavor's description"),
    Rule("os_compute_api:os-flavor-manage:delete", ADMIN, "Delete a flavor"),
    Rule("os_compute_api:os-flavor-extra-specs:index", READER, "List a flavor's extra specs"),
    Rule("os_compute_api:os-flavor-extra-specs:show", READER, "Show one extra spec"),
    Rule("os_compute_api:os-flavor-extra-specs:create", ADMIN, "Add or replace extra specs"),
    Rule("os_compute_api:os-flavor-extra-specs:update", ADMIN, "Replace one extra spec"),
    Rule("os_compute_api:os-flavor-extra-specs:delete", ADMIN, "Delete one extra spec"),
    # Admin reads: instance actions, migrations, hypervisors, services.
    Rule(
        "os_compute_api:os-instance-actions:list",
        PROJECT_READER_OR_ADMIN,
        "List a server's actions",
    ),
    Rule(
        "os_compute_api:os-instance-actions:show", PROJECT_READER_OR_ADMIN, "Show a server action"
    ),
    Rule(
        "os_compute_api:os-instance-actions:events",
        ADMIN,
        "See an action's events with their tracebacks (before 2.51: see its events at all)",
    ),
    Rule("os_compute_api:os-migrations:index", ADMIN, "List migrations"),
    Rule("os_compute_api:servers:migrations:index", ADMIN, "List a server's live migrations"),
    Rule("os_compute_api:servers:migrations:show", ADMIN, "Show a server's live migration"),
    Rule("os_compute_api:servers:migrations:delete", ADMIN, "Abort a live migration"),
    Rule("os_compute_api:servers:migrations:force_complete", ADMIN, "Force a live migration on"),
    Rule("os_compute_api:os-hypervisors:list", ADMIN, "List hypervisors"),
    Rule("os_compute_api:os-hypervisors:list-detail", ADMIN, "List hypervisors in detail"),
    Rule("os_compute_api:os-hypervisors:show", ADMIN, "Show a hypervisor"),
    Rule("os_compute_api:os-hypervisors:statistics", ADMIN, "Sum the hypervisors' resources"),
    Rule("os_compute_api:os-hypervisors:uptime", ADMIN, "A hypervisor's uptime"),
    Rule("os_compute_api:os-aggregates:index", ADMIN, "List host aggregates"),
    Rule("os_compute_api:os-hypervisors:search", ADMIN, "Find hypervisors by name (< 2.53)"),
    Rule("os_compute_api:os-hypervisors:servers", ADMIN, "A hypervisor's servers (< 2.53)"),
    Rule("os_compute_api:os-services:list", ADMIN, "List services"),
    Rule("os_compute_api:os-services:update", ADMIN, "Enable, disable or force down a service"),
)
