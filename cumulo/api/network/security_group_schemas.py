"""Request bodies of ``/security-groups`` and ``/security-group-rules`` as Neutron
accepts them: an unknown attribute is refused, as Neutron refuses it. What a
schema cannot say (a CIDR's version against the ethertype, port ranges by
protocol) is checked by :mod:`.security_group_rules`."""

from __future__ import annotations

from typing import Any

from .schemas import DESCRIPTION, envelope

NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}
PROJECT: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}
PORT: dict[str, Any] = {"type": ["integer", "string", "null"], "pattern": r"^[0-9]{1,5}$"}
"""A port, an ICMP type or code (Neutron takes numbers as strings too)."""


GROUP_CREATE = envelope(
    "security_group",
    {
        "name": NAME,
        "description": DESCRIPTION,
        "project_id": PROJECT,
        "tenant_id": PROJECT,
        "stateful": {"type": "boolean"},
    },
    ["name"],
)
"""``POST /v2.0/security-groups``."""

GROUP_UPDATE = envelope(
    "security_group",
    {"name": NAME, "description": DESCRIPTION, "stateful": {"type": "boolean"}},
    [],
)
"""``PUT /v2.0/security-groups/{id}``: the name and the description."""

RULE_CREATE = envelope(
    "security_group_rule",
    {
        "security_group_id": {"type": "string", "minLength": 1, "maxLength": 255},
        "direction": {"type": "string", "enum": ["ingress", "egress"]},
        "ethertype": {"type": "string", "enum": ["IPv4", "IPv6"]},
        "protocol": {"type": ["string", "integer", "null"]},
        "port_range_min": PORT,
        "port_range_max": PORT,
        "remote_ip_prefix": {"type": ["string", "null"], "maxLength": 64},
        "remote_group_id": {"type": ["string", "null"], "maxLength": 255},
        "remote_address_group_id": {"type": "null"},
        "description": DESCRIPTION,
        "project_id": PROJECT,
        "tenant_id": PROJECT,
    },
    ["security_group_id", "direction"],
)
"""``POST /v2.0/security-group-rules``."""
