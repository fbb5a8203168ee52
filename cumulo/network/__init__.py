"""Fleet-wide address management: the networks, subnets and ports the Neutron
subset serves, and the checks a new subnet passes before it is stored. The
records and the allocation itself live in the database layer
(:mod:`cumulo.db.networks`, :mod:`cumulo.db.ipam`), which the conductor also runs
for the hosts' allocations (``PortAllocation``)."""

from __future__ import annotations

from cumulo.db.networks import (
    DEFAULT_SUBNET_ID,
    NetworkRecord,
    NetworkStore,
    PortRecord,
    SubnetRecord,
    SubnetSpec,
    ensure_default_network,
)

from .subnets import subnet_spec

__all__ = [
    "DEFAULT_SUBNET_ID",
    "NetworkRecord",
    "NetworkStore",
    "PortRecord",
    "SubnetRecord",
    "SubnetSpec",
    "ensure_default_network",
    "subnet_spec",
]
