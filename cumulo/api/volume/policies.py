"""The volume service's default rules (Cinder's names): a project's readers read
its volumes and quotas, its members change its volumes, admins set quotas."""

from __future__ import annotations

from ..policy import Rule

READER = "role:reader and project_id:%(project_id)s or role:admin"
MEMBER = "role:member and project_id:%(project_id)s or role:admin"
ADMIN = "role:admin"

RULES: tuple[Rule, ...] = (
    Rule("volume:get_all", READER, "List volumes"),
    Rule("volume:get", READER, "Show a volume"),
    Rule("volume:create", MEMBER, "Create a volume"),
    Rule("volume:update", MEMBER, "Rename a volume or change its description"),
    Rule("volume:extend", MEMBER, "Grow a volume"),
    Rule("volume:delete", MEMBER, "Delete a volume"),
    Rule("volume_extension:quotas:show", READER, "Show a project's volume quotas"),
    Rule("volume_extension:quotas:update", ADMIN, "Set a project's volume quotas"),
    Rule("limits_extension:used_limits", READER, "Show a project's volume limits and usage"),
)
