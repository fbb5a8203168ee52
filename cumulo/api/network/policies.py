"""The network service's default policy rules (oslo.policy syntax, Neutron's
names): readers read their project's resources, members change them, admins any
project's."""

from __future__ import annotations

from ..policy import Rule

ADMIN = "role:admin"
PROJECT_READER = "role:admin or (role:reader and project_id:%(project_id)s)"
"""A reader of the resource's project, or an admin (any project's)."""
PROJECT_MEMBER = "role:admin or (role:member and project_id:%(project_id)s)"
"""A member of the resource's project, or an admin."""

SECURITY_GROUP_RULES: tuple[Rule, ...] = (
    Rule("get_security_group", PROJECT_READER, "List security groups, show one"),
    Rule("create_security_group", PROJECT_MEMBER, "Create a security group"),
    Rule("update_security_group", PROJECT_MEMBER, "Rename a security group"),
    Rule("delete_security_group", PROJECT_MEMBER, "Delete a security group"),
    Rule("get_security_group_rule", PROJECT_READER, "List security group rules, show one"),
    Rule("create_security_group_rule", PROJECT_MEMBER, "Add a rule to a security group"),
    Rule("delete_security_group_rule", PROJECT_MEMBER, "Remove a security group rule"),
)

QUOTA_RULES: tuple[Rule, ...] = (
    Rule("get_quota", PROJECT_READER, "Show a project's network quotas"),
)

RULES: tuple[Rule, ...] = (*SECURITY_GROUP_RULES, *QUOTA_RULES)
