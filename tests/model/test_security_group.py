"""Tests of cumulo/model/security_group.py."""

import ipaddress

import jsonschema
import pytest

from cumulo.model import (
    Direction,
    EtherType,
    Protocol,
    SecurityGroup,
    SecurityGroupList,
    SecurityGroupRule,
)
from cumulo.objects import FieldValueError, decode_json, encode_json
from cumulo.objects.jsonschema import json_schema


def web_group() -> SecurityGroup:
    return SecurityGroup(
        id=1,
        name="web",
        project_id="p1",
        rules=[
            SecurityGroupRule(id=1, protocol="tcp", from_port=443, to_port=443, cidr="0.0.0.0/0"),
            SecurityGroupRule(id=2, protocol=Protocol.ICMP, cidr="::/0", ethertype="IPv6"),
        ],
    )


def test_rule_defaults_and_types():
    rule = SecurityGroupRule(id=1, protocol="udp")
    assert rule.protocol is Protocol.UDP
    assert rule.direction is Direction.INGRESS
    assert rule.ethertype is EtherType.IPV4
    assert (rule.from_port, rule.to_port, rule.cidr) == (None, None, None)
    rule.cidr = "2001:db8::/32"
    assert rule.cidr == ipaddress.IPv6Network("2001:db8::/32")


@pytest.mark.parametrize(
    ("name", "value"),
    [("protocol", "sctp"), ("direction", "sideways"), ("ethertype", "IPX"), ("cidr", "10.0.0.1/8")],
)
def test_rule_refuses_bad_values(name, value):
    rule = SecurityGroupRule(id=1, protocol="tcp")
    with pytest.raises(FieldValueError):
        setattr(rule, name, value)


def test_group_list_round_trip():
    groups = SecurityGroupList(
        objects=[web_group(), SecurityGroup(id=2, name="empty", project_id="p1")]
    )
    again = decode_json(encode_json(groups), SecurityGroupList)
    assert again == groups
    assert again.objects[0].rules[1].cidr == ipaddress.IPv6Network("::/0")


def test_primitives_match_their_json_schema():
    groups = SecurityGroupList(objects=[web_group()])
    jsonschema.validate(groups.obj_to_primitive(), json_schema(SecurityGroupList))
    schema = json_schema(SecurityGroupList)
    assert sorted(schema["$defs"]) == [
        "SecurityGroup-1.1",
        "SecurityGroupList-1.1",
        "SecurityGroupRule-1.1",
    ]


# --- remotable methods (object side) ------------------------------------------------------


def test_get_by_instance_and_all(storage, ctx):
    import uuid

    storage.returns["security_group_get_by_instance"] = [web_group()]
    storage.returns["security_group_get_all"] = [web_group()]
    instance_uuid = uuid.uuid4()
    groups = SecurityGroupList.get_by_instance(ctx, str(instance_uuid))
    assert [g.name for g in groups.objects] == ["web"]
    SecurityGroupList.get_all(ctx)
    assert storage.calls == [
        ("security_group_get_by_instance", (ctx, instance_uuid), {}),
        ("security_group_get_all", (ctx, None), {}),
    ]


def test_create_and_add_rules_take_what_storage_returns(storage, ctx):
    group = SecurityGroup(name="web", project_id="p1").obj_set_context(ctx)
    storage.returns["security_group_create"] = SecurityGroup(id=3, name="web", project_id="p1")
    group.create()
    assert group.id == 3
    storage.returns["security_group_add_rules"] = SecurityGroup(
        id=3, name="web", project_id="p1", rules=web_group().rules
    )
    group.add_rules([SecurityGroupRule(protocol="tcp", from_port=22, to_port=22)])
    (name, (_, group_id, rules), _) = storage.calls[1]
    assert (name, group_id, rules[0].from_port) == ("security_group_add_rules", 3, 22)
    assert [r.id for r in group.rules] == [1, 2]
    assert group.obj_what_changed() == set()


def test_remote_group_rule():
    rule = SecurityGroupRule(id=1, protocol="tcp", remote_group_id=4)
    assert (rule.remote_group_id, rule.cidr) == (4, None)


def test_update_destroy_and_get_by_rule_go_to_storage(storage, ctx):
    group = SecurityGroup(id=3, name="web", project_id="p1").obj_set_context(ctx)
    storage.returns["security_group_update"] = SecurityGroup(id=3, name="www", project_id="p1")
    group.update(name="www")
    assert group.name == "www" and group.obj_what_changed() == set()
    group.destroy()
    storage.returns["security_group_get_by_rule"] = web_group()
    assert SecurityGroup.get_by_rule(ctx, 2).name == "web"
    assert [call[0] for call in storage.calls] == [
        "security_group_update",
        "security_group_destroy",
        "security_group_get_by_rule",
    ]
    assert storage.calls[0][2] == {"name": "www", "description": None}


def test_a_rule_for_any_protocol_reaches_a_1_0_peer_as_one_rule_per_protocol():
    """Release 0.1/0.2 hosts know tcp, udp and icmp only: an ``any`` rule (Neutron's
    default egress) becomes one rule for each, with no ports, the rest unchanged."""
    from cumulo.compute.version import level
    from tests.objects.strategies import assert_backports

    group = SecurityGroup(
        id=1,
        name="default",
        project_id="p1",
        rules=[
            SecurityGroupRule(id=1, protocol="any", direction="egress", ethertype="IPv6"),
            SecurityGroupRule(id=2, protocol="tcp", from_port=80, to_port=80),
        ],
    )
    manifest = dict(level(1).object_manifest)
    assert_backports(group, "1.0", manifest)
    primitive = group.obj_to_primitive(target_version="1.0", version_manifest=manifest)
    rules = [r["cumulo_object.data"] for r in primitive["cumulo_object.data"]["rules"]]
    assert [(r["protocol"], r["direction"], r["ethertype"]) for r in rules] == [
        ("tcp", "egress", "IPv6"),
        ("udp", "egress", "IPv6"),
        ("icmp", "egress", "IPv6"),
        ("tcp", "ingress", "IPv4"),
    ]
    assert rules[0]["from_port"] is None and rules[3]["from_port"] == 80
    assert "created_at" not in primitive["cumulo_object.data"]
