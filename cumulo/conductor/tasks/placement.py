"""``Placement``: which compute host a new instance (or a migrating one) goes to,
claimed in the database in the transaction that picks it.

Candidates are the compute hosts whose service is enabled, not forced down and up
(a heartbeat younger than ``service_down_time``). Among them the weigher prefers the
most free memory (then the name); the claim (:func:`cumulo.model.allocation.claim`)
locks the chosen node, re-checks its room against every allocation committed so far
and records the instance's allocation. A claim that lost a race to another conductor
finds no room and the next-best host is tried, so any number of conductors placing
at once never overcommit a node, and they spread as the weigher says.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from collections.abc import Iterable
from typing import Any

from cumulo.model import Flavor, Instance, ServiceBinary, ServiceList
from cumulo.model.allocation import Allocation, NodeUsage, NoRoom, Resources, claim, node_usage
from cumulo.model.service import DEFAULT_SERVICE_DOWN_TIME, why_not_schedulable

from .exceptions import NoValidHost


@dataclasses.dataclass(frozen=True)
class Need(Resources):
    """What an instance takes from a host."""

    @classmethod
    def of_flavor(cls, flavor: Flavor, *, volume_backed: bool = False) -> Need:
        root = 0 if volume_backed else flavor.root_gb
        return cls(
            memory_mb=flavor.memory_mb,
            vcpus=flavor.vcpus,
            disk_gb=root + flavor.ephemeral_gb + math.ceil(flavor.swap / 1024),
        )

    @classmethod
    def of_instance(cls, instance: Instance) -> Need:
        return cls(instance.memory_mb, instance.vcpus, instance.root_gb + instance.ephemeral_gb)


def _weight(usage: NodeUsage) -> tuple[int, str]:
    """The weigher: most free memory first, then the host's name."""
    return (-usage.free.memory_mb, usage.host)


class Placement:
    """The schedulable compute hosts, read once per request; each :meth:`claim`
    reads their allocations afresh.

    Args:
        context: the request context.
        service_down_time: seconds after its last heartbeat a host counts as down.
    """

    def __init__(
        self, context: Any, *, service_down_time: float = DEFAULT_SERVICE_DOWN_TIME
    ) -> None:
        self.context = context
        self.service_down_time = service_down_time
        services = {
            service.host: service
            for service in ServiceList.get_all(context, ServiceBinary.COMPUTE).objects
        }
        nodes = {usage.host for usage in node_usage(context)}
        self.skipped: dict[str, str] = {}
        """Hosts placement does not use, and why."""
        self.hosts: list[str] = []
        """The hosts it may use, by name."""
        for host in sorted(nodes | set(services)):
            reason = why_not_schedulable(services.get(host), service_down_time)
            if reason is None and host not in nodes:
                reason = "no compute node recorded yet"
            if reason is None:
                self.hosts.append(host)
            else:
                self.skipped[host] = reason

    def check_host(self, host: str, what: str = "requested host") -> None:
        """Raises ``NoValidHost`` unless placement may use ``host``."""
        if host in self.hosts:
            return
        if host in self.skipped:
            raise NoValidHost(f"{what} {host!r} is {self.skipped[host]}")
        raise NoValidHost(
            f"{what} {host!r} is not an enabled compute host (enabled: {self.hosts or 'none'})"
        )

    def claim(
        self,
        consumer_uuid: uuid.UUID,
        need: Resources,
        *,
        requested_host: str | None = None,
        exclude: Iterable[str] = (),
        what: str = "requested host",
    ) -> Allocation:
        """Choose a host for ``consumer_uuid`` needing ``need`` and claim it there.

        Raises:
            NoValidHost: the requested host is unknown, down, disabled or has no
                room, or no host has room; the reason says what each host has free
                or why it was skipped.
        """
        if requested_host is not None:
            self.check_host(requested_host, what)
            try:
                return claim(self.context, consumer_uuid, requested_host, need)
            except NoRoom as full:
                raise NoValidHost(
                    f"{what} {requested_host!r} cannot fit {need}: {full.usage.describe()}"
                ) from None
        tried = set(exclude)
        lost: dict[str, NodeUsage] = {}
        while True:
            candidates = [h for h in self.hosts if h not in tried]
            usages = node_usage(self.context, candidates) if candidates else []
            fitting = sorted((u for u in usages if need.fits_in(u.free)), key=_weight)
            if not fitting:
                raise NoValidHost(self._no_room(need, usages, lost, set(exclude)))
            best = fitting[0]
            try:
                return claim(self.context, consumer_uuid, best.host, need)
            except NoRoom as full:  # another claim took the room first: next-best host
                tried.add(best.host)
                lost[best.host] = full.usage

    def _no_room(
        self,
        need: Resources,
        usages: list[NodeUsage],
        lost: dict[str, NodeUsage],
        excluded: set[str],
    ) -> str:
        described = {u.host: u.describe() for u in usages}
        described.update({host: usage.describe() for host, usage in lost.items()})
        described.update({host: f"{host} is {why}" for host, why in self.skipped.items()})
        shown = [described[host] for host in sorted(described) if host not in excluded]
        return f"no host has room for {need}: {'; '.join(shown) or 'no compute host'}"
