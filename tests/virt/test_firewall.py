"""Firewall semantics on SecurityGroupRule objects."""

from __future__ import annotations

import ipaddress

from cumulo.model import Direction, EtherType, Protocol, SecurityGroupRule
from cumulo.virt.firewall import rule_matches, traffic_allowed

V4 = ipaddress.ip_address("192.168.1.10")
V6 = ipaddress.ip_address("2001:db8::1")


def rule(**fields: object) -> SecurityGroupRule:
    fields.setdefault("protocol", Protocol.TCP)
    return SecurityGroupRule(**fields)


def test_port_ranges() -> None:
    r = rule(from_port=8000, to_port=8080)
    match = {"protocol": Protocol.TCP, "remote_ip": V4, "direction": Direction.INGRESS}
    assert rule_matches(r, port=8000, **match)
    assert rule_matches(r, port=8080, **match)
    assert not rule_matches(r, port=8081, **match)
    assert rule_matches(rule(), port=1, **match)  # no ports: every port
    assert not rule_matches(r, port=None, **match)


def test_cidr_and_ethertype() -> None:
    r = rule(cidr="192.168.0.0/16")
    common = {"protocol": Protocol.TCP, "port": 22, "direction": Direction.INGRESS}
    assert rule_matches(r, remote_ip=V4, **common)
    assert not rule_matches(r, remote_ip=ipaddress.ip_address("10.0.0.1"), **common)
    assert not rule_matches(rule(), remote_ip=V6, **common)
    assert rule_matches(rule(ethertype=EtherType.IPV6), remote_ip=V6, **common)


def test_icmp_type() -> None:
    echo = rule(protocol=Protocol.ICMP, from_port=8, to_port=0)
    common = {"protocol": Protocol.ICMP, "remote_ip": V4, "direction": Direction.INGRESS}
    assert rule_matches(echo, port=8, **common)
    assert not rule_matches(echo, port=3, **common)
    assert rule_matches(rule(protocol=Protocol.ICMP), port=3, **common)


def test_remote_group() -> None:
    r = rule(remote_group_id=7)
    common = {
        "protocol": Protocol.TCP,
        "port": 5432,
        "remote_ip": V4,
        "direction": Direction.INGRESS,
    }
    assert rule_matches(r, remote_group_ids={7}, **common)
    assert not rule_matches(r, remote_group_ids={8}, **common)


def test_ingress_needs_a_rule_egress_is_open_until_restricted() -> None:
    ingress = [rule(from_port=22, to_port=22)]
    flow = {"protocol": Protocol.TCP, "port": 443, "remote_ip": V4}
    assert not traffic_allowed([], direction=Direction.INGRESS, **flow)
    assert traffic_allowed(ingress, direction=Direction.EGRESS, **flow)
    egress_dns = [rule(protocol=Protocol.UDP, from_port=53, to_port=53, direction=Direction.EGRESS)]
    assert not traffic_allowed(egress_dns, direction=Direction.EGRESS, **flow)
    assert traffic_allowed(
        egress_dns, protocol=Protocol.UDP, port=53, remote_ip=V4, direction=Direction.EGRESS
    )


def test_any_protocol_matches_every_protocol_and_port() -> None:
    """Neutron's rules without a protocol (the default group's egress rules)."""
    r = rule(protocol=Protocol.ANY, direction=Direction.EGRESS, cidr="192.168.0.0/16")
    for protocol, port in ((Protocol.TCP, 443), (Protocol.UDP, 53), (Protocol.ICMP, 8)):
        assert rule_matches(
            r, protocol=protocol, port=port, remote_ip=V4, direction=Direction.EGRESS
        )
    assert not rule_matches(
        r, protocol=Protocol.TCP, port=1, remote_ip=V6, direction=Direction.EGRESS
    )
    assert not rule_matches(
        r, protocol=Protocol.TCP, port=1, remote_ip=V4, direction=Direction.INGRESS
    )


def test_nftables_renders_any_protocol_without_a_protocol_match() -> None:
    import uuid

    from cumulo.virt.qemu.nftables import InstanceFilter, render_table

    rules = [
        rule(protocol=Protocol.ANY, direction=Direction.EGRESS, ethertype=EtherType.IPV6),
        rule(protocol=Protocol.TCP, from_port=80, to_port=80),
    ]
    script = render_table(
        "h1", [InstanceFilter(uuid.uuid4(), ["tap0"], rules, [1], [V4])], stateful=False
    )
    assert "    ether type ip6 accept\n" in script
    assert "    ether type ip tcp dport 80 accept\n" in script
