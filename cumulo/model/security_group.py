"""Security groups: named sets of firewall rules attached to instances."""

from __future__ import annotations

import enum
import ipaddress

from cumulo.objects import field, register

from .base import CumuloObject


class Protocol(enum.StrEnum):
    """IP protocols a security group rule can match."""

    TCP = "tcp"
    UDP = "udp"
    ICMP = "icmp"


class Direction(enum.StrEnum):
    """Which traffic a rule applies to, seen from the instance."""

    INGRESS = "ingress"
    EGRESS = "egress"


class EtherType(enum.StrEnum):
    IPV4 = "IPv4"
    IPV6 = "IPv6"


@register
class SecurityGroupRule(CumuloObject):
    """One firewall rule: traffic of ``protocol`` on ports ``from_port``-``to_port``
    from (ingress) or to (egress) ``cidr``.

    For ICMP, ``from_port`` and ``to_port`` hold the ICMP type and code. ``None``
    ports mean every port; a ``None`` ``cidr`` means any address of ``ethertype``.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int = field(read_only=True)
    protocol: Protocol
    from_port: int | None = None
    to_port: int | None = None
    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    direction: Direction = Direction.INGRESS
    ethertype: EtherType = EtherType.IPV4


@register
class SecurityGroup(CumuloObject):
    """A project's named set of rules; an instance's traffic passes when any
    rule of any of its groups allows it.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int = field(read_only=True)
    name: str
    description: str = ""
    project_id: str
    rules: list[SecurityGroupRule] = field(default_factory=list)


@register
class SecurityGroupList(CumuloObject):
    """A list of security groups, as one object (what a query returns over RPC).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    objects: list[SecurityGroup] = field(default_factory=list)
