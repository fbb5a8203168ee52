"""Fanning out a security group's rule change: every host running an instance of
the group refreshes those instances' filters (one cast per host)."""

from __future__ import annotations

import logging
from typing import Any

from cumulo.compute.rpcapi import ComputeAPI
from cumulo.model import InstanceList, SecurityGroup

LOG = logging.getLogger(__name__)


def hosts_with_group(context: Any, security_group_id: int) -> list[str]:
    """The hosts running (or building) an instance of the group, sorted."""
    instances = InstanceList.get_all(context, expected_attrs=["security_groups"])
    return sorted(
        {
            instance.host
            for instance in instances
            if instance.host
            and any(group.id == security_group_id for group in instance.security_groups.objects)
        }
    )


def refresh_security_group(
    context: Any, compute_rpc: ComputeAPI, security_group_id: int
) -> list[str]:
    """Cast ``refresh_security_group_rules`` to each host with an instance of the
    group; returns those hosts. Raises ``SecurityGroupNotFound`` for an unknown group."""
    SecurityGroup.get(context, security_group_id)
    hosts = hosts_with_group(context, security_group_id)
    for host in hosts:
        compute_rpc.refresh_security_group_rules(context, host, security_group_id)
    LOG.info("security group %s: refresh cast to %s", security_group_id, hosts)
    return hosts
