"""``/compute/v2.1/os-quota-sets``: a project's limits (its own where set, else the
defaults), the defaults, the limits with usage (``detail``), setting them (admins;
``force`` skips the check against usage) and resetting them to the defaults.

Usage is counted, not tracked: a project uses what its non-deleted servers hold
(count, vCPUs, RAM), and :func:`check_server_quota` is server create's check
against that count. Keys follow the microversion: the network proxies' go at
2.36, the injected files' at 2.57."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import falcon

from cumulo.identity import Token
from cumulo.identity.exceptions import ProjectNotFound
from cumulo.model import Flavor, InstanceList
from cumulo.rpc.context import RequestContext

from ..errors import BadRequest, OverLimit
from ..media import read_json
from ..state import ApiState
from ..validation import Schema
from .common import context_of, microversion, project_token
from .microversions import (
    MIN_VERSION,
    NETWORK_PROXY_REMOVED,
    PERSONALITY_REMOVED,
    Change,
    Microversion,
    since,
)
from .schemas import for_version

UNLIMITED = -1


@dataclass(frozen=True)
class Resource:
    name: str
    default: int
    gone: Change | None = None
    """The microversion from which the resource is no longer shown nor settable."""


RESOURCES: tuple[Resource, ...] = (
    Resource("instances", 10),
    Resource("cores", 20),
    Resource("ram", 51200),
    Resource("floating_ips", 10, NETWORK_PROXY_REMOVED),
    Resource("fixed_ips", UNLIMITED, NETWORK_PROXY_REMOVED),
    Resource("metadata_items", 128),
    Resource("injected_files", 5, PERSONALITY_REMOVED),
    Resource("injected_file_content_bytes", 10240, PERSONALITY_REMOVED),
    Resource("injected_file_path_bytes", 255, PERSONALITY_REMOVED),
    Resource("key_pairs", 100),
    Resource("security_groups", 10, NETWORK_PROXY_REMOVED),
    Resource("security_group_rules", 20, NETWORK_PROXY_REMOVED),
    Resource("server_groups", 10),
    Resource("server_group_members", 10),
)
"""Nova's quota resources and its defaults (``[quota]`` options)."""
DEFAULTS = {r.name: r.default for r in RESOURCES}


def shown(version: Microversion) -> tuple[str, ...]:
    """The resources a request at ``version`` sees."""
    return tuple(r.name for r in RESOURCES if r.gone is None or not since(version, r.gone))


def limits_of(state: ApiState, project_id: str) -> dict[str, int]:
    """Every resource's limit for the project: its own, else the default."""
    return {**DEFAULTS, **state.quotas.limits(project_id)}


def usage_of(context: RequestContext, project_id: str) -> dict[str, int]:
    """What the project's non-deleted servers hold (the rest is not counted: 0)."""
    servers = InstanceList.get_all(context, project_id=project_id).objects
    counted = {
        "instances": len(servers),
        "cores": sum(s.vcpus for s in servers),
        "ram": sum(s.memory_mb for s in servers),
    }
    return {name: counted.get(name, 0) for name in DEFAULTS}


def _per_server(flavor: Flavor) -> dict[str, int]:
    return {"instances": 1, "cores": flavor.vcpus, "ram": flavor.memory_mb}


def _refuse(count: int, flavor: Flavor, limits: Mapping[str, int], used: Mapping[str, int]) -> None:
    """Raise Nova's ``OverLimit`` naming every resource ``count`` servers would exceed."""
    requested = {name: count * each for name, each in _per_server(flavor).items()}
    overs = sorted(
        name
        for name, amount in requested.items()
        if limits[name] != UNLIMITED and used[name] + amount > limits[name]
    )
    if overs:

        def joined(values: Mapping[str, int]) -> str:
            return ", ".join(str(values[name]) for name in overs)

        names = ", ".join(overs)
        raise OverLimit(
            f"Quota exceeded for {names}: Requested {joined(requested)}, but already used "
            f"{joined(used)} of {joined(limits)} {names}"
        )


def check_server_quota(
    state: ApiState, context: RequestContext, project_id: str, count: int, flavor: Flavor
) -> None:
    """Raise ``OverLimit`` (403, Nova's message) unless ``count`` more servers of
    ``flavor`` fit in the project's instances, cores and RAM."""
    _refuse(count, flavor, limits_of(state, project_id), usage_of(context, project_id))


def allowed_server_count(
    state: ApiState,
    context: RequestContext,
    project_id: str,
    min_count: int,
    max_count: int,
    flavor: Flavor,
) -> int:
    """How many of ``min_count``..``max_count`` servers of ``flavor`` to build (Nova
    builds as many as fit); raises ``OverLimit`` when not even ``min_count`` fit."""
    limits, used = limits_of(state, project_id), usage_of(context, project_id)
    fits = max_count
    for name, each in _per_server(flavor).items():
        if limits[name] != UNLIMITED and each > 0:
            fits = min(fits, max(0, (limits[name] - used[name]) // each))
    if fits < min_count:
        _refuse(min_count, flavor, limits, used)
    return fits


_LIMIT: dict[str, Any] = {
    "type": ["integer", "string"],
    "pattern": r"^-?[0-9]+$",
    "minimum": UNLIMITED,
    "maximum": 2147483647,
}
_FORCE: dict[str, Any] = {
    "type": ["boolean", "string"],
    "enum": [True, False, "True", "False", "true", "false", "1", "0", "yes", "no"],
}


def _update_schema(version: Microversion) -> Schema:
    properties = {**{name: _LIMIT for name in shown(version)}, "force": _FORCE}
    return Schema(
        {
            "type": "object",
            "properties": {
                "quota_set": {
                    "type": "object",
                    "properties": properties,
                    "additionalProperties": False,
                }
            },
            "required": ["quota_set"],
            "additionalProperties": False,
        }
    )


UPDATE: tuple[tuple[Change | None, Schema], ...] = (
    (PERSONALITY_REMOVED, _update_schema(PERSONALITY_REMOVED.version)),
    (NETWORK_PROXY_REMOVED, _update_schema(NETWORK_PROXY_REMOVED.version)),
    (None, _update_schema(MIN_VERSION)),
)
"""``PUT /os-quota-sets/{project_id}``, newest first."""


def _authorized(req: falcon.Request, state: ApiState, action: str, project_id: str) -> Token:
    token = project_token(req, state)
    rule = f"os_compute_api:os-quota-sets:{action}"
    state.policy.authorize(rule, token, {"project_id": project_id})
    return token


def _quota_set(version: Microversion, values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in shown(version)}


class QuotaSet:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        _authorized(req, self.state, "show", project_id)
        limits = limits_of(self.state, project_id)
        resp.media = {"quota_set": {"id": project_id, **_quota_set(microversion(req), limits)}}

    def on_put(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        token = project_token(req, self.state)
        version = microversion(req)
        values = dict(read_json(req, for_version(UPDATE, version))["quota_set"])
        _authorized(req, self.state, "update", project_id)
        try:
            self.state.identity.store.get_project(project_id)
        except ProjectNotFound:
            raise BadRequest(f"Project ID {project_id} is not a valid project.") from None
        force = str(values.pop("force", False)).lower() in ("true", "1", "yes")
        wanted = {name: int(value) for name, value in values.items()}
        if not force:
            used = usage_of(context_of(req, token), project_id)
            for name, limit in wanted.items():
                if limit != UNLIMITED and limit < used[name]:
                    raise BadRequest(
                        f"Quota limit {limit} for {name} must be greater than or equal to "
                        f"already used and reserved {used[name]}."
                    )
        self.state.quotas.set_limits(project_id, wanted)
        resp.media = {"quota_set": _quota_set(version, limits_of(self.state, project_id))}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        _authorized(req, self.state, "delete", project_id)
        self.state.quotas.clear(project_id, resources=tuple(DEFAULTS))
        resp.status = falcon.HTTP_202


class QuotaSetDefaults:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        _authorized(req, self.state, "defaults", project_id)
        resp.media = {"quota_set": {"id": project_id, **_quota_set(microversion(req), DEFAULTS)}}


class QuotaSetDetail:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        token = _authorized(req, self.state, "detail", project_id)
        limits = limits_of(self.state, project_id)
        used = usage_of(context_of(req, token), project_id)
        if token.project is not None and token.project.id == project_id:
            used["key_pairs"] = self.state.keypairs.count(token.user.id)
        detail = {
            name: {"in_use": used[name], "limit": limits[name], "reserved": 0}
            for name in shown(microversion(req))
        }
        resp.media = {"quota_set": {"id": project_id, **detail}}
