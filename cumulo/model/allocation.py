"""Allocations: what each instance holds on a compute node, claimed in the database
by placement (the conductor) in the transaction that picks the node.

A host's room is its node's totals times the node's allocation ratios, minus what
it holds: the sum of its allocations, or what its resource tracker reports in use
when that is more (instances an older release placed, before the online data
migration ``fill_instance_allocations`` gave them allocations). These are plain
records, not versioned objects: they never leave the conductor.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

from .exceptions import ModelError
from .storage import get_storage


@dataclasses.dataclass(frozen=True)
class Resources:
    """An amount of the three resources placement counts."""

    memory_mb: int
    vcpus: int
    disk_gb: int

    def __str__(self) -> str:
        return f"{self.memory_mb} MiB, {self.vcpus} vCPUs, {self.disk_gb} GiB"

    def fits_in(self, room: Resources) -> bool:
        return (
            self.memory_mb <= room.memory_mb
            and self.vcpus <= room.vcpus
            and self.disk_gb <= room.disk_gb
        )

    def minus(self, other: Resources) -> Resources:
        return Resources(
            self.memory_mb - other.memory_mb, self.vcpus - other.vcpus, self.disk_gb - other.disk_gb
        )

    def most(self, other: Resources) -> Resources:
        """Each resource's larger amount."""
        return Resources(
            max(self.memory_mb, other.memory_mb),
            max(self.vcpus, other.vcpus),
            max(self.disk_gb, other.disk_gb),
        )


NOTHING = Resources(0, 0, 0)


@dataclasses.dataclass(frozen=True)
class Allocation:
    """What one instance (the consumer) holds on one node."""

    consumer_uuid: uuid.UUID
    host: str
    node: str
    resources: Resources


@dataclasses.dataclass(frozen=True)
class NodeUsage:
    """A compute node's capacity (totals times ratios), its allocations' sum and the
    use its resource tracker last reported."""

    host: str
    node: str
    capacity: Resources
    allocated: Resources
    reported: Resources

    @property
    def free(self) -> Resources:
        return self.capacity.minus(self.allocated.most(self.reported))

    def describe(self) -> str:
        return f"{self.host} has {self.free} free"


class NoRoom(ModelError):
    """A claim found the node too full (another claim may just have won it)."""

    def __init__(self, usage: NodeUsage, need: Resources) -> None:
        self.usage = usage
        self.need = need
        super().__init__(f"no room for {need} on {usage.host}: {usage.describe()}")


def node_usage(context: Any, hosts: Sequence[str] | None = None) -> list[NodeUsage]:
    """The usage of every live compute node (of ``hosts`` when given), by host."""
    return get_storage().allocation_usage(context, None if hosts is None else tuple(hosts))


def claim(context: Any, consumer_uuid: uuid.UUID, host: str, need: Resources) -> Allocation:
    """Claim ``need`` on ``host``'s node for ``consumer_uuid``, atomically re-checking
    the room; a claim the consumer already holds there is replaced, not added to.

    Raises:
        NoRoom: the node has not that much room (nothing written).
        ComputeHostNotFound: ``host`` has no live node.
    """
    return get_storage().allocation_claim(context, consumer_uuid, host, need)


def allocations_of(context: Any, consumer_uuid: uuid.UUID | None = None) -> list[Allocation]:
    """The allocations of one consumer (of every consumer when ``None``)."""
    return get_storage().allocation_get_all(context, consumer_uuid)


def release(
    context: Any, consumer_uuid: uuid.UUID, *, host: str | None = None, keep: str | None = None
) -> int:
    """Drop the consumer's allocations (only the one on ``host``, or every one but
    the one on ``keep``); returns how many were dropped."""
    return get_storage().allocation_release(context, consumer_uuid, host, keep)
