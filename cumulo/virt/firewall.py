"""What a guest's firewall filter lets through, decided from ``SecurityGroupRule``
objects: the semantics every Cumulo driver enforces.

Ingress passes only when a rule allows it. Egress passes when the groups have no
egress rule at all (nova-network groups had ingress rules only), else only when
one allows it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable

from cumulo.model import Direction, EtherType, Protocol, SecurityGroupRule

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def rule_matches(
    rule: SecurityGroupRule,
    *,
    protocol: Protocol,
    port: int | None,
    remote_ip: IPAddress,
    direction: Direction,
    remote_group_ids: Collection[int] = (),
) -> bool:
    """Whether ``rule`` allows one flow.

    ``port`` is the destination port (TCP/UDP) or the ICMP type; ``remote_ip`` the
    peer's address; ``remote_group_ids`` the security groups the peer belongs to
    (for rules that name a remote group instead of a CIDR).
    """
    if rule.direction is not direction:
        return False
    if rule.protocol is not Protocol.ANY and rule.protocol is not protocol:
        return False
    version = EtherType.IPV4 if remote_ip.version == 4 else EtherType.IPV6
    if rule.ethertype is not version:
        return False
    if not _port_matches(rule, protocol, port):
        return False
    if rule.cidr is not None and remote_ip not in rule.cidr:
        return False
    return rule.remote_group_id is None or rule.remote_group_id in remote_group_ids


def _port_matches(rule: SecurityGroupRule, protocol: Protocol, port: int | None) -> bool:
    if rule.protocol is Protocol.ANY:
        return True  # a rule for every protocol has no ports
    if protocol is Protocol.ICMP:
        # from_port holds the ICMP type (None: every type).
        return rule.from_port is None or rule.from_port == port
    if rule.from_port is None and rule.to_port is None:
        return True
    if port is None:
        return False
    low = rule.from_port if rule.from_port is not None else 0
    high = rule.to_port if rule.to_port is not None else 65535
    return low <= port <= high


def traffic_allowed(
    rules: Iterable[SecurityGroupRule],
    *,
    protocol: Protocol,
    port: int | None,
    remote_ip: IPAddress,
    direction: Direction = Direction.INGRESS,
    remote_group_ids: Collection[int] = (),
) -> bool:
    """Whether a filter holding ``rules`` lets one flow through (see the module doc)."""
    relevant = [rule for rule in rules if rule.direction is direction]
    if direction is Direction.EGRESS and not relevant:
        return True
    return any(
        rule_matches(
            rule,
            protocol=protocol,
            port=port,
            remote_ip=remote_ip,
            direction=direction,
            remote_group_ids=remote_group_ids,
        )
        for rule in relevant
    )
