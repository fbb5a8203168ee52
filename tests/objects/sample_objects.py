"""A realistic, test-only object model with a declared history.

Shaped like Nova's Instance/Flavor/SecurityGroup: fields added across versions,
an enum that grew values, a nested object, a list of objects, a list object and a
backport hook. It lives in its own namespace and private registry, so it never
meets the production objects.
"""

from __future__ import annotations

import enum
import ipaddress
import uuid
from datetime import datetime
from typing import Any, Literal

from cumulo.objects import MACAddress, Registry, VersionedObject, backport_hook, field, register

SAMPLE_REGISTRY = Registry()
SAMPLE_NAMESPACE = "cumulo_test"
SAMPLE_SERIAL_NAMESPACE = "cumulo_test_object"


class SampleObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = SAMPLE_NAMESPACE
    OBJ_SERIAL_NAMESPACE = SAMPLE_SERIAL_NAMESPACE
    OBJ_REGISTRY = SAMPLE_REGISTRY


class VMState(enum.StrEnum):
    BUILDING = "building"
    ACTIVE = "active"
    STOPPED = "stopped"
    ERROR = "error"
    SHELVED = "shelved"  # 1.2
    RESCUED = "rescued"  # 1.3


@register
class Flavor(SampleObject):
    """1.1: swap, ephemeral_gb. 1.2: extra_specs, rxtx_factor."""

    VERSION = "1.2"

    id: int
    flavorid: str
    name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    swap: int = field(default=0, added="1.1")
    ephemeral_gb: int = field(default=0, added="1.1")
    extra_specs: dict[str, str] = field(default_factory=dict, added="1.2")
    rxtx_factor: float = field(default=1.0, added="1.2")


@register
class SecurityGroup(SampleObject):
    """1.1: rules."""

    VERSION = "1.1"

    id: int
    name: str
    description: str | None = None
    project_id: str | None = None
    rules: list[str] = field(default_factory=list, added="1.1")


@register
class SecurityGroupList(SampleObject):
    VERSION = "1.0"

    objects: list[SecurityGroup] = field(default_factory=list)


@register
class Instance(SampleObject):
    """1.1: security_groups, access_ip_v6, power_state. 1.2: mac_address, locked,
    old_flavor, state "shelved". 1.3: networks, fixed_ips, launched_at, state
    "rescued" (sent to older peers as "error")."""

    VERSION = "1.3"

    uuid: uuid.UUID = field(read_only=True)
    display_name: str
    host: str | None = None
    vm_state: VMState = field(
        default=VMState.BUILDING,
        values_added={"1.2": ["shelved"], "1.3": ["rescued"]},
    )
    flavor: Flavor
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    system_metadata: dict[str, str | None] = field(default_factory=dict)
    created_at: datetime | None = None
    access_ip_v4: ipaddress.IPv4Address | None = None
    admin_pass: str | None = field(default=None, sensitive=True)
    security_groups: list[SecurityGroup] = field(default_factory=list, added="1.1")
    access_ip_v6: ipaddress.IPv6Address | None = field(default=None, added="1.1")
    power_state: Literal[0, 1, 3, 4] = field(default=0, added="1.1")
    mac_address: MACAddress | None = field(default=None, added="1.2")
    locked: bool = field(default=False, added="1.2")
    old_flavor: Flavor | None = field(default=None, added="1.2")
    networks: set[ipaddress.IPv4Network | ipaddress.IPv6Network] = field(
        default_factory=set, added="1.3"
    )
    fixed_ips: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = field(
        default_factory=list, added="1.3"
    )
    launched_at: datetime | None = field(default=None, added="1.3")

    @backport_hook("1.3")
    @classmethod
    def _before_1_3(cls, data: dict[str, Any], target: str) -> None:
        # A 1.2 peer has no "rescued" state; to it a rescued instance is in error.
        if data.get("vm_state") == "rescued":
            data["vm_state"] = "error"


@register
class InstanceList(SampleObject):
    """1.1: Instance 1.1 (the list itself gained nothing but was bumped, as in Nova)."""

    VERSION = "1.1"

    objects: list[Instance] = field(default_factory=list)
