"""Request bodies of the network routes, as Neutron's attribute maps allow them."""

from __future__ import annotations

from typing import Any

from ..validation import Schema

NAME: dict[str, Any] = {"type": "string", "maxLength": 255}
PROJECT: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
IP: dict[str, Any] = {"type": "string", "maxLength": 64}
DESCRIPTION: dict[str, Any] = {"type": "string", "maxLength": 255}


def envelope(key: str, properties: dict[str, Any], required: list[str]) -> Schema:
    """A body ``{key: {...}}`` whose object has exactly ``properties`` (Neutron's shape
    for every create and update)."""
    return Schema(
        {
            "type": "object",
            "properties": {
                key: {
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": False,
                }
            },
            "required": [key],
            "additionalProperties": False,
        }
    )


CREATE_NETWORK = envelope(
    "network",
    {
        "name": NAME,
        "description": DESCRIPTION,
        "admin_state_up": {"type": "boolean"},
        "shared": {"type": "boolean"},
        "mtu": {"type": "integer", "minimum": 68, "maximum": 65535},
        "project_id": PROJECT,
        "tenant_id": PROJECT,
        "port_security_enabled": {"type": "boolean"},
    },
    [],
)

_POOL: dict[str, Any] = {
    "type": "object",
    "properties": {"start": IP, "end": IP},
    "required": ["start", "end"],
    "additionalProperties": False,
}

CREATE_SUBNET = envelope(
    "subnet",
    {
        "name": NAME,
        "description": DESCRIPTION,
        "network_id": UUID,
        "ip_version": {"type": "integer", "enum": [4, 6]},
        "cidr": IP,
        "gateway_ip": {"type": ["string", "null"], "maxLength": 64},
        "allocation_pools": {"type": "array", "items": _POOL, "maxItems": 64},
        "dns_nameservers": {"type": "array", "items": IP, "maxItems": 16},
        "host_routes": {"type": "array", "maxItems": 0},
        "enable_dhcp": {"type": "boolean"},
        "project_id": PROJECT,
        "tenant_id": PROJECT,
    },
    ["network_id", "ip_version", "cidr"],
)

_FIXED_IP: dict[str, Any] = {
    "type": "object",
    "properties": {"subnet_id": UUID, "ip_address": IP},
    "additionalProperties": False,
}

CREATE_PORT = envelope(
    "port",
    {
        "name": NAME,
        "description": DESCRIPTION,
        "network_id": UUID,
        "admin_state_up": {"type": "boolean"},
        "mac_address": {
            "type": "string",
            "pattern": r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$",
        },
        "fixed_ips": {"type": "array", "items": _FIXED_IP, "maxItems": 16},
        "device_id": {"type": "string", "maxLength": 255},
        "device_owner": {"type": "string", "maxLength": 255},
        "project_id": PROJECT,
        "tenant_id": PROJECT,
    },
    ["network_id"],
)
