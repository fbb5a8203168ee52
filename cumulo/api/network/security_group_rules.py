"""``/network/v2.0/security-group-rules``: list (``security_group_id``,
``direction``, ``protocol``, ``ethertype``... filters), show, create, delete.

A rule is checked as Neutron checks it (its protocol, ports or ICMP type and code,
the CIDR against the ethertype, one of CIDR and remote group, no duplicate) before
anything is stored; once stored, every host running an instance of its group
reloads that instance's filter through the conductor's fan-out.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import falcon

from cumulo.model import (
    Direction,
    EtherType,
    Protocol,
    SecurityGroup,
    SecurityGroupNotFound,
    SecurityGroupRule,
    SecurityGroupRuleNotFound,
)
from cumulo.rpc.context import RequestContext

from ..compute.common import context_of
from ..errors import BadRequest, Conflict, NotFound
from ..media import read_json
from ..state import ApiState
from . import ids, security_group_schemas
from .common import scoped_token
from .security_groups import (
    find_group,
    groups_of,
    query_values,
    refresh_hosts,
    render_rule,
    target,
    visible,
)

PROTOCOLS: dict[str, Protocol] = {
    "tcp": Protocol.TCP,
    "6": Protocol.TCP,
    "udp": Protocol.UDP,
    "17": Protocol.UDP,
    "icmp": Protocol.ICMP,
    "1": Protocol.ICMP,
    "any": Protocol.ANY,
    "": Protocol.ANY,
}
"""What ``protocol`` may say (by name or number), besides ``null``."""
ICMP_V6 = frozenset({"icmpv6", "ipv6-icmp", "58"})
"""ICMPv6's names: an ICMP rule of an IPv6 group."""


def invalid(message: str, kind: str) -> BadRequest:
    return BadRequest(message, kind=kind)


def rule_not_found(ident: str) -> NotFound:
    return NotFound(
        f"Security group rule {ident} could not be found.", kind="SecurityGroupRuleNotFound"
    )


# --- checking a new rule -----------------------------------------------------------------


def protocol_of(value: Any, ethertype: EtherType) -> Protocol:
    if value is None:
        return Protocol.ANY
    text = str(value).strip().lower()
    if text in ICMP_V6:
        if ethertype is not EtherType.IPV6:
            raise invalid(
                f"Protocol {value} is ICMPv6: it needs ethertype IPv6, not {ethertype}.",
                "SecurityGroupRuleParameterConflict",
            )
        return Protocol.ICMP
    protocol = PROTOCOLS.get(text)
    if protocol is None:
        raise invalid(
            f"Security group rule protocol {value} not supported. Only protocol values "
            "tcp, udp, icmp, icmpv6 (or their numbers 6, 17, 1, 58) and null (any) "
            "are supported.",
            "SecurityGroupRuleInvalidProtocol",
        )
    return protocol


def port_of(values: dict[str, Any], name: str) -> int | None:
    value = values.get(name)
    if value is None:
        return None
    return int(value)  # the schema allows digits only


def ports_of(values: dict[str, Any], protocol: Protocol) -> tuple[int | None, int | None]:
    """``port_range_min``/``max`` as the rule holds them: a port range for TCP and
    UDP, the ICMP type and code for ICMP, nothing for any protocol."""
    low, high = port_of(values, "port_range_min"), port_of(values, "port_range_max")
    if low is None and high is None:
        return None, None
    if protocol is Protocol.ANY:
        raise invalid(
            "Must also specify protocol if port range is given.",
            "SecurityGroupProtocolRequiredWithPorts",
        )
    if protocol is Protocol.ICMP:
        for value, what in ((low, "type (port-range-min)"), (high, "code (port-range-max)")):
            if value is not None and not 0 <= value <= 255:
                raise invalid(
                    f"Invalid value for ICMP {what}: {value}. It must be 0 to 255.",
                    "SecurityGroupInvalidIcmpValue",
                )
        if low is None:
            raise invalid(
                f"ICMP code (port-range-max) {high} is provided but ICMP type "
                "(port-range-min) is missing.",
                "SecurityGroupMissingIcmpType",
            )
        return low, high
    low = high if low is None else low
    high = low if high is None else high
    assert low is not None and high is not None
    for value in (low, high):
        if not 1 <= value <= 65535:
            raise invalid(
                f"Invalid value for port {value}: a port is 1 to 65535.",
                "SecurityGroupInvalidPortValue",
            )
    if low > high:
        raise invalid(
            f"For TCP/UDP protocols, port_range_min ({low}) must be <= port_range_max ({high}).",
            "SecurityGroupInvalidPortRange",
        )
    return low, high


def cidr_of(value: Any, ethertype: EtherType) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        cidr = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise invalid(
            f"Invalid input for remote_ip_prefix: '{value}' is not a valid IP subnet.",
            "HTTPBadRequest",
        ) from None
    if (cidr.version == 4) != (ethertype is EtherType.IPV4):
        raise invalid(
            f"Conflicting value ethertype {ethertype} for CIDR {value}.",
            "SecurityGroupRuleParameterConflict",
        )
    return cidr


def new_rule(
    context: RequestContext, values: dict[str, Any], group: SecurityGroup
) -> SecurityGroupRule:
    """The rule a create body asks for (400 for anything Neutron would refuse)."""
    if values.get("description"):
        raise invalid(
            "Security group rules have no description here: leave it out.", "HTTPBadRequest"
        )
    ethertype = EtherType(values.get("ethertype", "IPv4"))
    protocol = protocol_of(values.get("protocol"), ethertype)
    low, high = ports_of(values, protocol)
    prefix, remote = values.get("remote_ip_prefix"), values.get("remote_group_id")
    if prefix is not None and remote is not None:
        raise invalid(
            "Only remote_ip_prefix or remote_group_id may be provided.",
            "SecurityGroupRemoteGroupAndRemoteIpPrefix",
        )
    cidr = cidr_of(prefix, ethertype) if prefix is not None else None
    remote_id: int | None = None
    if remote is not None:
        remote_group = find_group(context, remote)
        if remote_group.project_id != group.project_id:
            raise NotFound(f"Security group {remote} does not exist", kind="SecurityGroupNotFound")
        remote_id = remote_group.id
    return SecurityGroupRule(
        protocol=protocol,
        from_port=low,
        to_port=high,
        cidr=cidr,
        remote_group_id=remote_id,
        direction=Direction(values["direction"]),
        ethertype=ethertype,
    )


def _same_peer(a: SecurityGroupRule, b: SecurityGroupRule) -> bool:
    # "Anywhere" is said with no prefix or with the /0 one (OSC sends 0.0.0.0/0).
    def anywhere(rule: SecurityGroupRule) -> Any:
        return None if rule.cidr is not None and rule.cidr.prefixlen == 0 else rule.cidr

    return anywhere(a) == anywhere(b) and a.remote_group_id == b.remote_group_id


def duplicate_of(rule: SecurityGroupRule, group: SecurityGroup) -> SecurityGroupRule | None:
    """The group's rule that already allows exactly what ``rule`` would."""
    for existing in group.rules:
        if (
            existing.direction is rule.direction
            and existing.ethertype is rule.ethertype
            and existing.protocol is rule.protocol
            and (existing.from_port, existing.to_port) == (rule.from_port, rule.to_port)
            and _same_peer(existing, rule)
        ):
            return existing
    return None


# --- listing ----------------------------------------------------------------------------


def _matches(req: falcon.Request, rendered: dict[str, Any]) -> bool:
    for name in (
        "id",
        "security_group_id",
        "direction",
        "ethertype",
        "protocol",
        "remote_group_id",
        "remote_ip_prefix",
        "port_range_min",
        "port_range_max",
    ):
        wanted = query_values(req, name)
        if wanted is None:
            continue
        value = rendered[name]
        if name == "protocol" and value is None:
            value = "any"
        if str(value) not in wanted and not (value is None and wanted & {"", "None", "null"}):
            return False
    return True


# --- routes -----------------------------------------------------------------------------


class SecurityGroupRules:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = scoped_token(req, self.state)
        context = context_of(req, token)
        assert context.project_id is not None
        self.state.policy.authorize("get_security_group_rule", token, target(context.project_id))
        projects = query_values(req, "project_id", "tenant_id")
        if not context.is_admin:
            projects = {context.project_id} & (projects or {context.project_id})
        rules = [
            render_rule(group, rule)
            for group in groups_of(context, projects)
            for rule in group.rules
        ]
        resp.media = {"security_group_rules": [r for r in rules if _matches(req, r)]}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = scoped_token(req, self.state)
        values = read_json(req, security_group_schemas.RULE_CREATE)["security_group_rule"]
        context = context_of(req, token)
        group = find_group(context, values["security_group_id"])
        self.state.policy.authorize("create_security_group_rule", token, target(group.project_id))
        for key in ("project_id", "tenant_id"):
            if values.get(key) not in (None, group.project_id):
                raise BadRequest(
                    f"A rule belongs to its group's project ({group.project_id}), "
                    f"not {values[key]}."
                )
        rule = new_rule(context, values, group)
        existing = duplicate_of(rule, group)
        if existing is not None:
            raise Conflict(
                f"Security group rule already exists. Rule id is {ids.rule_uuid(existing.id)}.",
                kind="SecurityGroupRuleExists",
            )
        before = {r.id for r in group.rules}
        try:
            group.add_rules([rule])
        except SecurityGroupNotFound:
            raise NotFound(
                f"Security group {values['security_group_id']} does not exist",
                kind="SecurityGroupNotFound",
            ) from None
        (added,) = [r for r in group.rules if r.id not in before]
        refresh_hosts(self.state, context, [group.id])
        resp.status = falcon.HTTP_201
        resp.media = {"security_group_rule": render_rule(group, added)}


class SecurityGroupRuleResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def _find(self, context: RequestContext, ident: str) -> tuple[SecurityGroup, int]:
        rule_id = ids.rule_id_of(ident)
        if rule_id is None:
            raise rule_not_found(ident)
        try:
            group = SecurityGroup.get_by_rule(context, rule_id)
        except SecurityGroupRuleNotFound:
            raise rule_not_found(ident) from None
        if not visible(context, group.project_id):
            raise rule_not_found(ident)
        group.obj_set_context(context)
        return group, rule_id

    def on_get(self, req: falcon.Request, resp: falcon.Response, rule_id: str) -> None:
        token = scoped_token(req, self.state)
        context = context_of(req, token)
        group, key = self._find(context, rule_id)
        self.state.policy.authorize("get_security_group_rule", token, target(group.project_id))
        (rule,) = [r for r in group.rules if r.id == key]
        resp.media = {"security_group_rule": render_rule(group, rule)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, rule_id: str) -> None:
        token = scoped_token(req, self.state)
        context = context_of(req, token)
        group, key = self._find(context, rule_id)
        self.state.policy.authorize("delete_security_group_rule", token, target(group.project_id))
        try:
            group.remove_rules([key])
        except SecurityGroupNotFound:
            raise rule_not_found(rule_id) from None
        refresh_hosts(self.state, context, [group.id])
        resp.status = falcon.HTTP_204
