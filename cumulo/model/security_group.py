"""Security groups: named sets of firewall rules attached to instances."""

from __future__ import annotations

import enum
import ipaddress
import uuid
from typing import Any

from cumulo.objects import NO_DEFAULT, field, register, remotable, remotable_classmethod

from .base import CumuloObject, as_uuid, stored
from .exceptions import ObjectActionError
from .storage import get_storage


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
    """The IP version a rule applies to."""

    IPV4 = "IPv4"
    IPV6 = "IPv6"


@register
class SecurityGroupRule(CumuloObject):
    """One firewall rule: traffic of ``protocol`` on ports ``from_port``-``to_port``
    from (ingress) or to (egress) ``cidr``, or from/to members of group
    ``remote_group_id``.

    For ICMP, ``from_port`` and ``to_port`` hold the ICMP type and code. ``None``
    ports mean every port; a ``None`` ``cidr`` (and no remote group) means any
    address of ``ethertype``.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int = field(default=NO_DEFAULT, read_only=True)
    protocol: Protocol
    from_port: int | None = None
    to_port: int | None = None
    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    remote_group_id: int | None = None
    direction: Direction = Direction.INGRESS
    ethertype: EtherType = EtherType.IPV4


@register
class SecurityGroup(CumuloObject):
    """A project's named set of rules; an instance's traffic passes when any
    rule of any of its groups allows it.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int = field(default=NO_DEFAULT, read_only=True)
    name: str
    description: str = ""
    project_id: str
    user_id: str | None = None
    rules: list[SecurityGroupRule] = field(default_factory=list)

    @remotable_classmethod
    def get(cls: type[SecurityGroup], context: Any, group_id: int) -> SecurityGroup:
        """The group with its rules; raises ``SecurityGroupNotFound``."""
        return stored(get_storage().security_group_get(context, group_id))

    @remotable_classmethod
    def get_by_name(
        cls: type[SecurityGroup], context: Any, project_id: str, name: str
    ) -> SecurityGroup:
        """A project's group by name; raises ``SecurityGroupNotFound``."""
        return stored(get_storage().security_group_get_by_name(context, project_id, name))

    @remotable
    def create(self) -> None:
        """Store a new group with its rules; ids are set from the database."""
        if self.obj_attr_is_set("id"):
            raise ObjectActionError("create security group", f"already created (id {self.id})")
        self._obj_take_stored(get_storage().security_group_create(self.obj_context, self))

    @remotable
    def add_rules(self, rules: list[SecurityGroupRule]) -> None:
        """Add rules to the stored group; ``rules`` then holds every rule, with ids."""
        group = get_storage().security_group_add_rules(self.obj_context, self.id, list(rules))
        self._obj_take_stored(group)

    @remotable
    def remove_rules(self, rule_ids: list[int]) -> None:
        """Delete rules by id; ``rules`` then holds the rules left."""
        group = get_storage().security_group_remove_rules(self.obj_context, self.id, rule_ids)
        self._obj_take_stored(group)


@register
class SecurityGroupList(CumuloObject):
    """A list of security groups, as one object (what a query returns over RPC).

    History: 1.0 first version.
    """

    VERSION = "1.0"

    objects: list[SecurityGroup] = field(default_factory=list)

    @remotable_classmethod
    def get_all(
        cls: type[SecurityGroupList], context: Any, project_id: str | None = None
    ) -> SecurityGroupList:
        """The groups of ``project_id`` (of every project when ``None``)."""
        rows = get_storage().security_group_get_all(context, project_id)
        return stored(cls(objects=rows))

    @remotable_classmethod
    def get_by_instance(
        cls: type[SecurityGroupList], context: Any, instance_uuid: uuid.UUID | str
    ) -> SecurityGroupList:
        """The groups an instance belongs to."""
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        rows = get_storage().security_group_get_by_instance(context, uuid_)
        return stored(cls(objects=rows))
