"""The compute service's default policy rules (oslo.policy syntax, Nova's names):
anyone with a token scoped to a project reads flavors, admins change them."""

from __future__ import annotations

from ..policy import Rule

ADMIN = "role:admin"
READER = "role:reader"
"""The least role of a project token (admins and members are readers too)."""
PROJECT_READER = "role:admin or (role:reader and project_id:%(project_id)s)"
"""A reader of the resource's project, or an admin (any project's)."""
PROJECT_MEMBER = "role:admin or (role:member and project_id:%(project_id)s)"
"""A member of the resource's project, or an admin."""
MEMBER = "role:member"

OWNER_READER = f"{ADMIN} or ({READER} and user_id:%(user_id)s)"
OWNER_MEMBER = f"{ADMIN} or (role:member and user_id:%(user_id)s)"
ANY = "@"

KEYPAIR_RULES = (
    Rule("os_compute_api:os-keypairs:index", OWNER_READER, "List a user's key pairs"),
    Rule("os_compute_api:os-keypairs:show", OWNER_READER, "Show a key pair"),
    Rule("os_compute_api:os-keypairs:create", OWNER_MEMBER, "Create or import a key pair"),
    Rule("os_compute_api:os-keypairs:delete", OWNER_MEMBER, "Delete a key pair"),
)
QUOTA_RULES = (
    Rule("os_compute_api:os-quota-sets:show", PROJECT_READER, "Show a project's quotas"),
    Rule("os_compute_api:os-quota-sets:detail", PROJECT_READER, "Show quotas with usage"),
    Rule("os_compute_api:os-quota-sets:defaults", ANY, "Show the default quotas"),
    Rule("os_compute_api:os-quota-sets:update", ADMIN, "Set a project's quotas"),
    Rule("os_compute_api:os-quota-sets:delete", ADMIN, "Reset a project's quotas"),
    Rule("os_compute_api:limits", ANY, "Show the caller's project's limits and usage"),
    Rule("os_compute_api:limits:other_project", ADMIN, "Show another project's limits"),
    Rule("os_compute_api:os-availability-zone:list", ANY, "List availability zones"),
    Rule("os_compute_api:os-availability-zone:detail", ADMIN, "List zones with hosts and services"),
)

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
    # servers
    Rule("os_compute_api:servers:index", READER, "List the project's servers"),
    Rule("os_compute_api:servers:detail", READER, "List the project's servers in detail"),
    Rule("os_compute_api:servers:index:get_all_tenants", ADMIN, "List every project's servers"),
    Rule("os_compute_api:servers:detail:get_all_tenants", ADMIN, "Detail every project's servers"),
    Rule("os_compute_api:servers:show", PROJECT_READER, "Show a server"),
    Rule("os_compute_api:servers:create", MEMBER, "Create servers in the token's project"),
    Rule(
        "os_compute_api:servers:create:forced_host",
        ADMIN,
        "Create a server on a named host (availability_zone nova:HOST)",
    ),
    Rule("os_compute_api:servers:update", PROJECT_MEMBER, "Rename or describe a server"),
    Rule("os_compute_api:servers:delete", PROJECT_MEMBER, "Delete a server"),
    Rule("os_compute_api:server-metadata:index", PROJECT_READER, "List a server's metadata"),
    Rule("os_compute_api:server-metadata:show", PROJECT_READER, "Show one metadata item"),
    Rule("os_compute_api:server-metadata:create", PROJECT_MEMBER, "Add metadata items"),
    Rule("os_compute_api:server-metadata:update_all", PROJECT_MEMBER, "Replace the metadata"),
    Rule("os_compute_api:server-metadata:update", PROJECT_MEMBER, "Set one metadata item"),
    Rule("os_compute_api:server-metadata:delete", PROJECT_MEMBER, "Delete one metadata item"),
    Rule("os_compute_api:os-server-tags:index", PROJECT_READER, "List a server's tags"),
    Rule("os_compute_api:os-server-tags:show", PROJECT_READER, "Check one tag"),
    Rule("os_compute_api:os-server-tags:update_all", PROJECT_MEMBER, "Replace the tags"),
    Rule("os_compute_api:os-server-tags:update", PROJECT_MEMBER, "Add one tag"),
    Rule("os_compute_api:os-server-tags:delete_all", PROJECT_MEMBER, "Remove every tag"),
    Rule("os_compute_api:os-server-tags:delete", PROJECT_MEMBER, "Remove one tag"),
    Rule("os_compute_api:os-server-diagnostics", ADMIN, "A server's guest counters"),
    Rule("os_compute_api:os-networks:view", READER, "List networks (proxy API, before 2.36)"),
    # Admin reads: instance actions, migrations, hypervisors, services.
    Rule(
        "os_compute_api:os-instance-actions:list",
        PROJECT_READER,
        "List a server's actions",
    ),
    Rule("os_compute_api:os-instance-actions:show", PROJECT_READER, "Show a server action"),
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
    # Key pairs belong to a user: its owner (a reader may look, a member change) or an
    # admin (2.10's user_id). Quotas: a project's readers read them, admins set them.
    *KEYPAIR_RULES,
    *QUOTA_RULES,
    # Server actions and volume attachments (server_actions.py, volume_attachments.py).
    Rule("os_compute_api:servers:start", PROJECT_MEMBER, "Start a stopped server"),
    Rule("os_compute_api:servers:stop", PROJECT_MEMBER, "Stop a server"),
    Rule("os_compute_api:servers:reboot", PROJECT_MEMBER, "Reboot a server"),
    Rule("os_compute_api:os-pause-server:pause", PROJECT_MEMBER, "Pause a server"),
    Rule("os_compute_api:os-pause-server:unpause", PROJECT_MEMBER, "Unpause a server"),
    Rule("os_compute_api:os-suspend-server:suspend", PROJECT_MEMBER, "Suspend a server"),
    Rule("os_compute_api:os-suspend-server:resume", PROJECT_MEMBER, "Resume a server"),
    Rule("os_compute_api:os-lock-server:lock", PROJECT_MEMBER, "Lock a server"),
    Rule("os_compute_api:os-lock-server:unlock", PROJECT_MEMBER, "Unlock a server"),
    Rule(
        "os_compute_api:os-lock-server:unlock:unlock_override",
        ADMIN,
        "Unlock a server someone else (an admin) locked",
    ),
    Rule("os_compute_api:os-console-output", PROJECT_MEMBER, "Show a server's console"),
    Rule("os_compute_api:os-migrate-server:migrate_live", ADMIN, "Live-migrate a server"),
    Rule(
        "os_compute_api:os-volumes-attachments:index",
        PROJECT_READER,
        "List a server's volume attachments",
    ),
    Rule(
        "os_compute_api:os-volumes-attachments:show",
        PROJECT_READER,
        "Show a volume attachment",
    ),
    Rule(
        "os_compute_api:os-volumes-attachments:create",
        PROJECT_MEMBER,
        "Attach a volume to a server",
    ),
    Rule(
        "os_compute_api:os-volumes-attachments:delete",
        PROJECT_MEMBER,
        "Detach a volume from a server",
    ),
)
