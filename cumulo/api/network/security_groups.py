"""``/network/v2.0/security-groups``: list (``name``, ``project_id`` filters), show,
create, rename, delete; and :func:`add_security_group_routes`, which mounts these
routes and the rules' (:mod:`.security_group_rules`).

A project's ``default`` group appears on first use (:mod:`.default_group`) and is
never deleted; a group an instance is in is not deleted either (409). Deleting a
group also deletes the other groups' rules naming it as their remote group, and
the hosts of those groups refresh their filters, as after any rule change
(:func:`refresh_hosts`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import falcon

from cumulo.identity import Token
from cumulo.model import (
    AlreadyExists,
    Protocol,
    SecurityGroup,
    SecurityGroupInUse,
    SecurityGroupList,
    SecurityGroupNotFound,
    SecurityGroupRule,
)
from cumulo.rpc import MessagingTimeout
from cumulo.rpc.context import RequestContext

from ..compute.common import context_of
from ..errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from ..media import read_json
from ..registry import App
from ..state import ApiState
from . import ids, security_group_schemas
from .common import V20, scoped_token
from .default_group import DEFAULT, default_group, egress_rules

LOG = logging.getLogger(__name__)

GROUPS = f"{V20}/security-groups"


# --- rendering -----------------------------------------------------------------------


def timestamp(value: datetime | None) -> str | None:
    """Neutron's timestamps: UTC, to the second, with a ``Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def render_rule(group: SecurityGroup, rule: SecurityGroupRule) -> dict[str, Any]:
    """A rule as Neutron shows it (protocol ``any`` is Neutron's ``null``)."""
    return {
        "id": ids.rule_uuid(rule.id),
        "security_group_id": ids.group_uuid(group.id),
        "project_id": group.project_id,
        "tenant_id": group.project_id,
        "direction": str(rule.direction),
        "ethertype": str(rule.ethertype),
        "protocol": None if rule.protocol is Protocol.ANY else str(rule.protocol),
        "port_range_min": rule.from_port,
        "port_range_max": rule.to_port,
        "remote_ip_prefix": str(rule.cidr) if rule.cidr is not None else None,
        "remote_group_id": (
            ids.group_uuid(rule.remote_group_id) if rule.remote_group_id is not None else None
        ),
        "remote_address_group_id": None,
        "normalized_cidr": str(rule.cidr) if rule.cidr is not None else None,
        "description": "",
        "created_at": timestamp(group.created_at),
        "updated_at": timestamp(group.created_at),
        "revision_number": 0,
    }


def render_group(group: SecurityGroup) -> dict[str, Any]:
    return {
        "id": ids.group_uuid(group.id),
        "name": group.name,
        "description": group.description,
        "project_id": group.project_id,
        "tenant_id": group.project_id,
        "security_group_rules": [render_rule(group, rule) for rule in group.rules],
        "stateful": True,
        "shared": False,
        "tags": [],
        "created_at": timestamp(group.created_at),
        "updated_at": timestamp(group.updated_at or group.created_at),
        "revision_number": 0,
    }


# --- lookups -------------------------------------------------------------------------


def group_not_found(ident: str) -> NotFound:
    return NotFound(f"Security group {ident} does not exist", kind="SecurityGroupNotFound")


def visible(context: RequestContext, project_id: str) -> bool:
    """Whether the request may know that a resource of ``project_id`` exists."""
    return context.is_admin or project_id == context.project_id


def find_group(context: RequestContext, ident: str) -> SecurityGroup:
    """The group a Neutron id names, if the caller's project may see it (404 else:
    another project's group is as absent as one that never was)."""
    group_id = ids.group_id_of(ident)
    if group_id is None:
        raise group_not_found(ident)
    try:
        group = SecurityGroup.get(context, group_id)
    except SecurityGroupNotFound:
        raise group_not_found(ident) from None
    if not visible(context, group.project_id):
        raise group_not_found(ident)
    group.obj_set_context(context)
    return group


def target(project_id: str) -> dict[str, object]:
    return {"project_id": project_id, "tenant_id": project_id}


def groups_of(context: RequestContext, project_ids: Iterable[str] | None) -> list[SecurityGroup]:
    """The groups of the projects named (every project's when ``None``)."""
    if project_ids is None:
        return list(SecurityGroupList.get_all(context, None).objects)
    found: list[SecurityGroup] = []
    for project_id in sorted(set(project_ids)):
        found.extend(SecurityGroupList.get_all(context, project_id).objects)
    return found


def query_values(req: falcon.Request, *names: str) -> set[str] | None:
    """The values a filter names (Neutron repeats a parameter for several), or
    ``None`` when the request has none of ``names``."""
    values: set[str] = set()
    seen = False
    for name in names:
        given = req.get_param_as_list(name)
        if given is not None:
            seen = True
            values.update(given)
    return values if seen else None


# --- the hosts -------------------------------------------------------------------------


def refresh_hosts(state: ApiState, context: RequestContext, group_ids: Iterable[int]) -> None:
    """Have every host running an instance of each group reload its filters (the
    conductor's fan-out). The change is stored already: a conductor that does not
    answer delays the hosts, who load every rule again when they next set a filter
    up, and is logged, not reported as a failed request."""
    wanted = sorted(set(group_ids))
    if not wanted:
        return
    try:
        tasks = state.backend.tasks
    except ServiceUnavailable:
        LOG.info("no conductor configured: security groups %s refreshed on no host", wanted)
        return
    for group_id in wanted:
        try:
            hosts = tasks.refresh_security_group(context, group_id)
        except SecurityGroupNotFound:
            continue  # deleted meanwhile: nothing left to enforce
        except MessagingTimeout:
            LOG.warning(
                "the conductor did not answer: hosts of security group %s not refreshed",
                group_id,
                extra={"request_id": context.request_id},
            )
            continue
        LOG.info("security group %s refreshed on %s", group_id, hosts)


# --- routes ----------------------------------------------------------------------------


class SecurityGroups:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = scoped_token(req, self.state)
        context = context_of(req, token)
        assert context.project_id is not None  # project_token
        self.state.policy.authorize("get_security_group", token, target(context.project_id))
        default_group(context, context.project_id)
        projects = query_values(req, "project_id", "tenant_id")
        if not context.is_admin:
            projects = {context.project_id} & (projects or {context.project_id})
        groups = groups_of(context, projects)
        names = query_values(req, "name")
        wanted_ids = query_values(req, "id")
        resp.media = {
            "security_groups": [
                render_group(group)
                for group in groups
                if (names is None or group.name in names)
                and (wanted_ids is None or ids.group_uuid(group.id) in wanted_ids)
            ]
        }

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = scoped_token(req, self.state)
        values = read_json(req, security_group_schemas.GROUP_CREATE)["security_group"]
        context = context_of(req, token)
        project_id = project_of(values, token)
        self.state.policy.authorize("create_security_group", token, target(project_id))
        check_stateful(values)
        name = values["name"]
        if name == DEFAULT:
            default_group(context, project_id)
            raise Conflict(
                f"Default security group already exists for project {project_id}.",
                kind="SecurityGroupDefaultAlreadyExists",
            )
        group = SecurityGroup(
            name=name,
            description=values.get("description", ""),
            project_id=project_id,
            user_id=token.user.id,
            rules=egress_rules(),
        )
        group.obj_set_context(context)
        try:
            group.create()
        except AlreadyExists:
            raise name_taken(name, project_id) from None
        resp.status = falcon.HTTP_201
        resp.media = {"security_group": render_group(group)}


class SecurityGroupResource:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        token = scoped_token(req, self.state)
        context = context_of(req, token)
        assert context.project_id is not None
        default_group(context, context.project_id)
        group = find_group(context, group_id)
        self.state.policy.authorize("get_security_group", token, target(group.project_id))
        resp.media = {"security_group": render_group(group)}

    def on_put(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        token = scoped_token(req, self.state)
        values = read_json(req, security_group_schemas.GROUP_UPDATE)["security_group"]
        context = context_of(req, token)
        group = find_group(context, group_id)
        self.state.policy.authorize("update_security_group", token, target(group.project_id))
        check_stateful(values)
        name = values.get("name")
        if name is not None and name != group.name and DEFAULT in (name, group.name):
            raise Conflict(
                "The default security group keeps its name, and no other group takes it.",
                kind="SecurityGroupCannotUpdateDefault",
            )
        try:
            group.update(name=name, description=values.get("description"))
        except AlreadyExists:
            raise name_taken(str(name), group.project_id) from None
        resp.media = {"security_group": render_group(group)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, group_id: str) -> None:
        token = scoped_token(req, self.state)
        context = context_of(req, token)
        group = find_group(context, group_id)
        self.state.policy.authorize("delete_security_group", token, target(group.project_id))
        if group.name == DEFAULT:
            raise Conflict(
                "Removing the default security group is not allowed.",
                kind="SecurityGroupCannotRemoveDefault",
            )
        # Rules of other groups naming this one go with it: their hosts refresh.
        naming = [
            other.id
            for other in groups_of(context, [group.project_id])
            if other.id != group.id and any(r.remote_group_id == group.id for r in other.rules)
        ]
        try:
            group.destroy()
        except SecurityGroupInUse as exc:
            raise Conflict(
                f"Security group {group_id} is in use by {exc.instances} instance(s).",
                kind="SecurityGroupInUse",
            ) from None
        except SecurityGroupNotFound:
            raise group_not_found(group_id) from None
        refresh_hosts(self.state, context, naming)
        resp.status = falcon.HTTP_204


# --- helpers shared with the rules -------------------------------------------------------


def project_of(values: dict[str, Any], token: Token) -> str:
    """The project a create is for: the body's (``project_id``, or its older name
    ``tenant_id``; the policy decides who may name another), else the token's."""
    given = values.get("project_id"), values.get("tenant_id")
    if given[0] and given[1] and given[0] != given[1]:
        raise BadRequest("project_id and tenant_id name different projects.")
    chosen = given[0] or given[1] or (token.project.id if token.project else None)
    assert chosen is not None  # project_token
    return str(chosen)


def check_stateful(values: dict[str, Any]) -> None:
    if values.get("stateful") is False:
        raise BadRequest(
            "Stateless security groups are not supported: every filter lets replies through.",
            kind="HTTPBadRequest",
        )


def name_taken(name: str, project_id: str) -> Conflict:
    # Neutron allows several groups of one name; Cumulo's names are unique in a
    # project (server create names its groups).
    return Conflict(
        f"Security group {name} already exists in project {project_id}.",
        kind="SecurityGroupExists",
    )


def add_security_group_routes(app: App, state: ApiState) -> None:
    """Mount the security groups and their rules under ``/network/v2.0``."""
    from .security_group_rules import SecurityGroupRuleResource, SecurityGroupRules

    app.add_route(GROUPS, SecurityGroups(state))
    app.add_route(f"{GROUPS}/{{group_id}}", SecurityGroupResource(state))
    app.add_route(f"{V20}/security-group-rules", SecurityGroupRules(state))
    app.add_route(f"{V20}/security-group-rules/{{rule_id}}", SecurityGroupRuleResource(state))
