"""The network service's default rules (Neutron's names). Readers read what their
project may see (its own resources and shared networks, checked by the handlers);
admins alone create and delete networks; members change their project's subnets
and ports."""

from __future__ import annotations

from ..policy import Rule

ADMIN = "role:admin"
READER = "role:reader"
MEMBER = "role:member"

RULES: tuple[Rule, ...] = (
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
