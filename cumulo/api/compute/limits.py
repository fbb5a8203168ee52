"""``GET /compute/v2.1/limits``: the caller's project's absolute limits and what it
uses, named as Nova names them (``maxTotalCores``, ``totalCoresUsed``...); an admin
may ask for another project's (``tenant_id``). Keys leave with the quotas they show:
the network proxies' at 2.36, ``maxImageMeta`` at 2.39, the injected files' at 2.57.
Rate limits are long gone from Nova: ``rate`` is always empty."""

from __future__ import annotations

from typing import Any

import falcon

from ..state import ApiState
from .common import context_of, microversion, project_token
from .microversions import (
    IMAGE_META_LIMIT_GONE,
    NETWORK_PROXY_REMOVED,
    PERSONALITY_REMOVED,
    Change,
    since,
)
from .quotas import limits_of, usage_of

MAXIMUMS: tuple[tuple[str, str, Change | None], ...] = (
    ("maxImageMeta", "metadata_items", IMAGE_META_LIMIT_GONE),
    ("maxPersonality", "injected_files", PERSONALITY_REMOVED),
    ("maxPersonalitySize", "injected_file_content_bytes", PERSONALITY_REMOVED),
    ("maxSecurityGroupRules", "security_group_rules", NETWORK_PROXY_REMOVED),
    ("maxSecurityGroups", "security_groups", NETWORK_PROXY_REMOVED),
    ("maxServerMeta", "metadata_items", None),
    ("maxTotalCores", "cores", None),
    ("maxTotalFloatingIps", "floating_ips", NETWORK_PROXY_REMOVED),
    ("maxTotalInstances", "instances", None),
    ("maxTotalKeypairs", "key_pairs", None),
    ("maxTotalRAMSize", "ram", None),
    ("maxServerGroups", "server_groups", None),
    ("maxServerGroupMembers", "server_group_members", None),
)
"""Nova's absolute limit names, the quota each shows, and the change that drops it."""
USED: tuple[tuple[str, str, Change | None], ...] = (
    ("totalCoresUsed", "cores", None),
    ("totalInstancesUsed", "instances", None),
    ("totalRAMUsed", "ram", None),
    ("totalSecurityGroupsUsed", "security_groups", NETWORK_PROXY_REMOVED),
    ("totalFloatingIpsUsed", "floating_ips", NETWORK_PROXY_REMOVED),
    ("totalServerGroupsUsed", "server_groups", None),
)


class Limits:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:limits", token)
        assert token.project is not None  # project_token
        project_id = req.get_param("tenant_id") or token.project.id
        if project_id != token.project.id:
            self.state.policy.authorize(
                "os_compute_api:limits:other_project", token, {"project_id": project_id}
            )
        version = microversion(req)
        limits = limits_of(self.state, project_id)
        used = usage_of(context_of(req, token), project_id)
        absolute: dict[str, Any] = {}
        for table, values in ((MAXIMUMS, limits), (USED, used)):
            for key, resource, gone in table:
                if gone is None or not since(version, gone):
                    absolute[key] = values[resource]
        resp.media = {"limits": {"rate": [], "absolute": absolute}}
