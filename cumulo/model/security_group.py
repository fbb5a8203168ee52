"""Security groups: named sets of firewall rules attached to instances."""

from __future__ import annotations

import copy
import enum
import ipaddress
import uuid
from datetime import datetime
from typing import Any

from cumulo.objects import (
    NO_DEFAULT,
    backport_hook,
    field,
    register,
    remotable,
    remotable_added,
    remotable_classmethod,
)

from .base import CumuloObject, as_uuid, stored
from .exceptions import ObjectActionError
from .storage import get_storage


class Protocol(enum.StrEnum):
    """IP protocols a security group rule can match."""

    TCP = "tcp"
    UDP = "udp"
    ICMP = "icmp"
    ANY = "any"
    """Every IP protocol (Neutron's rule without a protocol). Since SecurityGroupRule 1.1."""

    @classmethod
    def named(cls) -> tuple[Protocol, ...]:
        """The protocols a 1.0 rule could name (what ``any`` stands for to older peers)."""
        return (cls.TCP, cls.UDP, cls.ICMP)


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
    address of ``ethertype``. Protocol ``any`` matches every protocol (no ports).

    History: 1.0 first version. 1.1: ``protocol`` may be ``any``.
    """

    VERSION = "1.1"

    id: int = field(default=NO_DEFAULT, read_only=True)
    protocol: Protocol = field(values_added={"1.1": [Protocol.ANY]})
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

    History: 1.0 first version. 1.1: SecurityGroupRule 1.1; ``created_at`` and
    ``updated_at``; remotable ``get_by_rule``, ``update`` and ``destroy`` (the
    Networking API's). A 1.0 peer reads a rule of protocol ``any`` as one rule per
    protocol it knows (tcp, udp, icmp): the nearest it can enforce.
    """

    VERSION = "1.1"

    id: int = field(default=NO_DEFAULT, read_only=True)
    name: str
    description: str = ""
    project_id: str
    user_id: str | None = None
    rules: list[SecurityGroupRule] = field(default_factory=list)
    created_at: datetime | None = field(default=None, added="1.1")
    updated_at: datetime | None = field(default=None, added="1.1")

    @backport_hook("1.1")
    @classmethod
    def _before_1_1(cls, data: dict[str, Any], target: str) -> None:
        rules = data.get("rules")
        if not rules:
            return
        expanded: list[dict[str, Any]] = []
        for primitive in rules:
            data_key = next(k for k in primitive if k.endswith(".data"))
            if primitive[data_key].get("protocol") != Protocol.ANY.value:
                expanded.append(primitive)
                continue
            for protocol in Protocol.named():
                one = copy.deepcopy(primitive)
                one[data_key]["protocol"] = protocol.value
                one[data_key]["from_port"] = one[data_key]["to_port"] = None
                expanded.append(one)
        data["rules"] = expanded

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

    @remotable_added("1.1")
    @remotable_classmethod
    def get_by_rule(cls: type[SecurityGroup], context: Any, rule_id: int) -> SecurityGroup:
        """The group holding rule ``rule_id``; raises ``SecurityGroupRuleNotFound``."""
        return stored(get_storage().security_group_get_by_rule(context, rule_id))

    @remotable_added("1.1")
    @remotable
    def update(self, name: str | None = None, description: str | None = None) -> None:
        """Rename the group or change its description (``None``: unchanged); raises
        ``AlreadyExists`` for a name the project uses, ``SecurityGroupNotFound``."""
        group = get_storage().security_group_update(
            self.obj_context, self.id, name=name, description=description
        )
        self._obj_take_stored(group)

    @remotable_added("1.1")
    @remotable
    def destroy(self) -> None:
        """Delete the group, its rules and the rules of other groups naming it as
        their remote group; raises ``SecurityGroupInUse`` (nothing deleted) while an
        instance is in it, ``SecurityGroupNotFound``."""
        get_storage().security_group_destroy(self.obj_context, self.id)

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

    History: 1.0 first version. 1.1: SecurityGroup 1.1.
    """

    VERSION = "1.1"

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
