"""Tests of cumulo/db/queries/security_group.py: groups and rules, on every backend."""

from __future__ import annotations

import ipaddress

import pytest

from cumulo.db.models import SecurityGroupRow, SecurityGroupRuleRow
from cumulo.model import (
    AlreadyExists,
    SecurityGroupInUse,
    SecurityGroupList,
    SecurityGroupNotFound,
    SecurityGroupRule,
    SecurityGroupRuleNotFound,
)
from cumulo.model.security_group import Direction, EtherType

from ..conftest import make_group, make_instance


def test_create_and_read_back_with_rules(storage, ctx):
    rules = [
        SecurityGroupRule(protocol="tcp", from_port=22, to_port=22, cidr="10.0.0.0/8"),
        SecurityGroupRule(
            protocol="icmp", cidr="2001:db8::/32", ethertype=EtherType.IPV6, direction="egress"
        ),
    ]
    created = storage.security_group_create(ctx, make_group(rules=rules))
    assert created.id > 0 and [r.id > 0 for r in created.rules] == [True, True]
    assert created.rules[1].cidr == ipaddress.IPv6Network("2001:db8::/32")
    assert created.rules[1].direction is Direction.EGRESS
    assert storage.security_group_get(ctx, created.id) == created
    assert storage.security_group_get_by_name(ctx, "p1", "web") == created


def test_names_are_unique_per_project(storage, ctx, database):
    storage.security_group_create(ctx, make_group())
    with pytest.raises(AlreadyExists, match="security group already exists: project_id=p1"):
        storage.security_group_create(ctx, make_group())
    storage.security_group_create(ctx, make_group(project_id="p2"))
    assert database.count(SecurityGroupRow) == 2
    assert database.count(SecurityGroupRuleRow) == 2


def test_lists(storage, ctx):
    web = storage.security_group_create(ctx, make_group())
    db = storage.security_group_create(ctx, make_group(name="db"))
    other = storage.security_group_create(ctx, make_group(project_id="p2"))
    assert storage.security_group_get_all(ctx, "p1") == [web, db]
    assert storage.security_group_get_all(ctx, None) == [web, db, other]
    inst = storage.instance_create(
        ctx, make_instance(security_groups=SecurityGroupList(objects=[db, web]))
    )
    assert storage.security_group_get_by_instance(ctx, inst.uuid) == [web, db]


def test_add_and_remove_rules(storage, ctx):
    web = storage.security_group_create(ctx, make_group(rules=[]))
    db = storage.security_group_create(ctx, make_group(name="db", rules=[]))
    grown = storage.security_group_add_rules(
        ctx,
        web.id,
        [
            SecurityGroupRule(protocol="tcp", from_port=443, to_port=443),
            SecurityGroupRule(protocol="tcp", remote_group_id=db.id),
        ],
    )
    assert [r.from_port for r in grown.rules] == [443, None]
    assert grown.rules[1].remote_group_id == db.id
    shrunk = storage.security_group_remove_rules(ctx, web.id, [grown.rules[0].id, 123456])
    assert [r.id for r in shrunk.rules] == [grown.rules[1].id]


def test_errors_leave_nothing_behind(storage, ctx, database):
    with pytest.raises(SecurityGroupNotFound, match="id=77"):
        storage.security_group_get(ctx, 77)
    with pytest.raises(SecurityGroupNotFound, match="project_id=p1, name=nope"):
        storage.security_group_get_by_name(ctx, "p1", "nope")
    with pytest.raises(SecurityGroupNotFound):
        storage.security_group_add_rules(ctx, 77, [SecurityGroupRule(protocol="tcp")])
    with pytest.raises(SecurityGroupNotFound):
        storage.security_group_remove_rules(ctx, 77, [1])
    # a rule naming an unknown remote group fails the whole create
    bad = SecurityGroupRule(protocol="tcp", remote_group_id=31337)
    with pytest.raises(SecurityGroupNotFound, match="id=31337"):
        storage.security_group_create(ctx, make_group(rules=[bad]))
    assert database.count(SecurityGroupRow) == 0
    web = storage.security_group_create(ctx, make_group())
    with pytest.raises(SecurityGroupNotFound, match="id=31337"):
        storage.security_group_add_rules(ctx, web.id, [SecurityGroupRule(protocol="udp"), bad])
    assert database.count(SecurityGroupRuleRow) == 1


def test_get_by_rule_update_and_destroy(storage, ctx, database):
    web = storage.security_group_create(ctx, make_group())
    db = storage.security_group_create(
        ctx, make_group(name="db", rules=[SecurityGroupRule(protocol="any")])
    )
    web = storage.security_group_add_rules(
        ctx, web.id, [SecurityGroupRule(protocol="tcp", remote_group_id=db.id)]
    )
    assert storage.security_group_get_by_rule(ctx, web.rules[-1].id).id == web.id
    assert db.rules[0].protocol == "any"
    with pytest.raises(SecurityGroupRuleNotFound, match="id=4242"):
        storage.security_group_get_by_rule(ctx, 4242)
    renamed = storage.security_group_update(ctx, db.id, name="data", description=None)
    assert (renamed.name, renamed.description, renamed.rules) == ("data", db.description, db.rules)
    assert renamed.updated_at is not None and renamed.created_at is not None
    with pytest.raises(AlreadyExists, match="name=web"):
        storage.security_group_update(ctx, db.id, name="web", description="x")
    assert storage.security_group_get(ctx, db.id).description == db.description
    with pytest.raises(SecurityGroupNotFound):
        storage.security_group_update(ctx, 999, name="x", description=None)
    inst = storage.instance_create(
        ctx, make_instance(security_groups=SecurityGroupList(objects=[renamed]))
    )
    with pytest.raises(SecurityGroupInUse, match="in use by 1 instance"):
        storage.security_group_destroy(ctx, db.id)
    assert storage.security_group_get(ctx, db.id).rules == db.rules
    storage.instance_destroy(ctx, inst.uuid)
    # Deleting a group takes the other groups' rules naming it with it.
    storage.security_group_destroy(ctx, db.id)
    with pytest.raises(SecurityGroupNotFound):
        storage.security_group_get(ctx, db.id)
    assert [r.remote_group_id for r in storage.security_group_get(ctx, web.id).rules] == [None]
    with pytest.raises(SecurityGroupNotFound):
        storage.security_group_destroy(ctx, db.id)
