"""The network service's default rules (Neutron's names). Readers read what their
project may see (its own resources and shared networks, checked by the handlers);
admins alone create and delete networks; members change their project's subnets
and ports, and their security groups and rules."""

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


READER = "role:reader"
MEMBER = "role:member"

NETWORK_RULES: tuple[Rule, ...] = (
    Rule("get_network", READER, "List networks or show one"),
    Rule("create_network", ADMIN, "Create a network"),
    Rule("delete_network", ADMIN, "Delete a network"),
    Rule("get_subnet", READER, "List subnets or show one"),
    Rule("create_subnet", MEMBER, "Create a subnet on a network of the project"),
    Rule("delete_subnet", MEMBER, "Delete a subnet of the project"),
    Rule("get_port", READER, "List ports or show one"),
    Rule("create_port", MEMBER, "Create a port"),
    Rule("delete_port", MEMBER, "Delete a port of the project"),
    Rule("get_quota", READER, "Show a project's network quotas"),
)

RULES: tuple[Rule, ...] = (*NETWORK_RULES, *SECURITY_GROUP_RULES)
