"""``Placement``: which compute host a new instance (or a migrating one) goes to —
the requested host, or the enabled host with the most free memory that fits,
from the ``ComputeNode`` rows the hosts' resource trackers keep."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

from cumulo.model import ComputeNodeList, Flavor, Instance, ServiceBinary, ServiceList

from .exceptions import NoValidHost


@dataclasses.dataclass(frozen=True)
class Need:
    """What an instance takes from a host."""

    memory_mb: int
    vcpus: int
    disk_gb: int

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

    def __str__(self) -> str:
        return f"{self.memory_mb} MiB, {self.vcpus} vCPUs, {self.disk_gb} GiB"


@dataclasses.dataclass
class HostCapacity:
    """What a host has free, as its node row says (minus what this placement gave out)."""

    host: str
    node: str
    free_ram_mb: int
    free_vcpus: int
    free_disk_gb: int

    def fits(self, need: Need) -> bool:
        return (
            need.memory_mb <= self.free_ram_mb
            and need.vcpus <= self.free_vcpus
            and need.disk_gb <= self.free_disk_gb
        )

    def describe(self) -> str:
        return (
            f"{self.host} has {self.free_ram_mb} MiB, {self.free_vcpus} vCPUs, "
            f"{self.free_disk_gb} GiB free"
        )


class Placement:
    """The enabled compute hosts and their free resources, read once per request;
    :meth:`consume` keeps the view right for the next instance of the same request."""

    def __init__(self, context: Any) -> None:
        services = {
            service.host: service
            for service in ServiceList.get_all(context, ServiceBinary.COMPUTE).objects
        }
        self.hosts: dict[str, HostCapacity] = {}
        for node in ComputeNodeList.get_all(context).objects:
            service = services.get(node.host)
            if service is None or service.disabled or service.forced_down:
                continue
            self.hosts[node.host] = HostCapacity(
                host=node.host,
                node=node.hypervisor_hostname,
                free_ram_mb=node.memory_mb - node.memory_mb_used,
                free_vcpus=node.vcpus - node.vcpus_used,
                free_disk_gb=node.local_gb - node.local_gb_used,
            )

    def node_of(self, host: str) -> str:
        return self.hosts[host].node

    def select(
        self, need: Need, *, requested_host: str | None = None, exclude: Iterable[str] = ()
    ) -> str:
        """The host for an instance needing ``need``.

        Raises:
            NoValidHost: the requested host is unknown, disabled or too small, or no
                host fits; the reason lists what each host has free.
        """
        if requested_host is not None:
            capacity = self.hosts.get(requested_host)
            if capacity is None:
                known = sorted(self.hosts) or "none"
                raise NoValidHost(
                    f"requested host {requested_host!r} is not an enabled compute host "
                    f"(enabled: {known})"
                )
            if not capacity.fits(need):
                raise NoValidHost(
                    f"requested host {requested_host!r} cannot fit {need}: {capacity.describe()}"
                )
            return requested_host
        excluded = set(exclude)
        candidates = [c for c in self.hosts.values() if c.host not in excluded]
        fitting = [c for c in candidates if c.fits(need)]
        if not fitting:
            described = "; ".join(c.describe() for c in sorted(candidates, key=lambda c: c.host))
            raise NoValidHost(f"no host fits {need}: {described or 'no enabled compute host'}")
        best = min(fitting, key=lambda c: (-c.free_ram_mb, c.host))
        return best.host

    def consume(self, host: str, need: Need) -> None:
        """Count ``need`` as taken on ``host`` for the rest of this request."""
        capacity = self.hosts[host]
        capacity.free_ram_mb -= need.memory_mb
        capacity.free_vcpus -= need.vcpus
        capacity.free_disk_gb -= need.disk_gb
