"""Each project's ``default`` security group, made on first use (a list, a show, a
server create) with Neutron's default rules: egress to anywhere over IPv4 and IPv6,
ingress from members of the group itself."""

from __future__ import annotations

from typing import Any

from cumulo.model import (
    AlreadyExists,
    Direction,
    EtherType,
    Protocol,
    SecurityGroup,
    SecurityGroupNotFound,
    SecurityGroupRule,
)

DEFAULT = "default"
DESCRIPTION = "Default security group"


def egress_rules() -> list[SecurityGroupRule]:
    """The rules Neutron gives every new group: egress anywhere, IPv4 and IPv6."""
    return [
        SecurityGroupRule(protocol=Protocol.ANY, direction=Direction.EGRESS, ethertype=kind)
        for kind in (EtherType.IPV4, EtherType.IPV6)
    ]


def default_group(context: Any, project_id: str) -> SecurityGroup:
    """The project's ``default`` group, created with its rules if it has none yet.

    Concurrent first uses race on the (project, name) key: the loser reads the
    winner's group. The rules naming the group itself need its id, so they are
    added right after the create.
    """
    try:
        return SecurityGroup.get_by_name(context, project_id, DEFAULT)
    except SecurityGroupNotFound:
        pass
    group = SecurityGroup(
        name=DEFAULT,
        description=DESCRIPTION,
        project_id=project_id,
        user_id=getattr(context, "user_id", None),
        rules=egress_rules(),
    )
    group.obj_set_context(context)
    try:
        group.create()
    except AlreadyExists:
        return SecurityGroup.get_by_name(context, project_id, DEFAULT)
    group.add_rules(
        [
            SecurityGroupRule(
                protocol=Protocol.ANY,
                direction=Direction.INGRESS,
                ethertype=kind,
                remote_group_id=group.id,
            )
            for kind in (EtherType.IPV4, EtherType.IPV6)
        ]
    )
    return group
