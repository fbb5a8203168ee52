"""Fleet-wide address management: choosing a free address in a subnet's pools and
a free MAC on a network, creating, binding and releasing ports, all inside the
caller's transaction.

Nothing here trusts its own reading of what is free: two transactions may pick the
same address at once, and the unique keys on (network, address) and (network, MAC)
let only one of them commit. :func:`retrying` runs the whole transaction again for
the other, which then sees the winner's row and picks anew; after the first try it
picks at random among the first free candidates, so many concurrent allocators
spread out instead of all chasing the lowest free address.
"""

from __future__ import annotations

import ipaddress
import json
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cumulo.model.exceptions import (
    InvalidNetworkRequest,
    IpAddressInUse,
    MacAddressInUse,
    NoMoreIpAddresses,
)

from .models import IPAllocationRow, NetworkRow, PortRow, SubnetRow
from .types import IPAddress, IPNetwork

T = TypeVar("T")

ATTEMPTS: Final = 25
"""Tries of an allocation whose chosen address or MAC another transaction took first."""
SPREAD: Final = 32
"""After the first try, pick among this many free candidates."""
MAC_PREFIX: Final = "fa:16:3e"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Pool:
    start: IPAddress
    end: IPAddress

    def __contains__(self, address: object) -> bool:
        return (
            isinstance(address, type(self.start)) and self.start <= address <= self.end  # type: ignore[operator]
        )

    def as_dict(self) -> dict[str, str]:
        return {"start": str(self.start), "end": str(self.end)}


def pools_of(row: SubnetRow) -> list[Pool]:
    return [
        Pool(ipaddress.ip_address(p["start"]), ipaddress.ip_address(p["end"]))
        for p in json.loads(row.allocation_pools)
    ]


def dns_of(row: SubnetRow) -> list[IPAddress]:
    return [ipaddress.ip_address(a) for a in json.loads(row.dns_nameservers)]


def default_pools(cidr: IPNetwork, gateway: IPAddress | None) -> list[Pool]:
    """The whole CIDR but the network address, the broadcast address (v4) and the
    gateway, as Neutron defaults it."""
    first = int(cidr.network_address) + 1
    last = int(cidr.broadcast_address) - (1 if cidr.version == 4 else 0)
    if last < first:
        return []
    spans = [(first, last)]
    if gateway is not None and first <= int(gateway) <= last:
        g = int(gateway)
        spans = [(a, b) for a, b in ((first, g - 1), (g + 1, last)) if a <= b]
    make = type(cidr.network_address)
    return [Pool(make(a), make(b)) for a, b in spans]


def retrying(transaction: Callable[[int], T]) -> T:
    """``transaction(attempt)`` again while it meets a unique-key violation (each call
    must run in a fresh transaction); the last violation's error is raised as is."""
    for attempt in range(ATTEMPTS - 1):
        try:
            return transaction(attempt)
        except IntegrityError as exc:
            text = str(exc.orig).lower()
            if "unique" not in text and "duplicate" not in text:
                raise
    return transaction(ATTEMPTS - 1)


def _free(pools: Sequence[Pool], used: set[IPAddress]) -> Iterator[IPAddress]:
    for pool in pools:
        address = pool.start
        while address <= pool.end:  # type: ignore[operator]
            if address not in used:
                yield address
            address += 1


def choose_address(
    pools: Sequence[Pool], used: set[IPAddress], preferred: IPAddress | None, attempt: int
) -> IPAddress | None:
    """A free address of ``pools``: ``preferred`` when free and in a pool, else the
    lowest free one (first try) or one of the :data:`SPREAD` lowest (retries)."""
    if preferred is not None and preferred not in used and any(preferred in p for p in pools):
        return preferred
    candidates = []
    for address in _free(pools, used):
        candidates.append(address)
        if attempt == 0 or len(candidates) >= SPREAD:
            break
    return random.choice(candidates) if candidates else None


def used_addresses(session: Session, subnet_id: uuid.UUID) -> set[IPAddress]:
    return set(
        session.scalars(
            select(IPAllocationRow.ip_address).where(IPAllocationRow.subnet_id == subnet_id)
        )
    )


def subnets_of(session: Session, network_id: uuid.UUID) -> list[SubnetRow]:
    return list(
        session.scalars(
            select(SubnetRow)
            .where(SubnetRow.network_id == network_id)
            .order_by(SubnetRow.created_at, SubnetRow.id)
        )
    )


def used_macs(session: Session, network_id: uuid.UUID) -> set[str]:
    return set(session.scalars(select(PortRow.mac_address).where(PortRow.network_id == network_id)))


def choose_mac(
    session: Session,
    network_id: uuid.UUID,
    *,
    allowed: set[str] | None,
    preferred: str | None,
    avoid: set[str],
    attempt: int,
) -> str:
    """A MAC free on the network: the lowest of ``allowed`` that is, when the host's
    driver constrains them; else ``preferred`` (the MAC hosts of earlier releases
    derived from the instance id) on the first try, else a random one.

    Raises:
        MacAddressInUse: every allowed MAC is taken.
    """
    taken = used_macs(session, network_id) | avoid
    if allowed is not None:
        for mac in sorted(allowed):
            if mac not in taken:
                return mac
        raise MacAddressInUse(network_id, ", ".join(sorted(allowed)))
    if preferred is not None and preferred not in taken and attempt == 0:
        return preferred
    while True:
        n = random.getrandbits(24)
        mac = f"{MAC_PREFIX}:{n >> 16 & 0xFF:02x}:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"
        if mac not in taken:
            return mac


def derived_mac(instance_id: int) -> str:
    n = instance_id & 0xFFFFFF
    return f"{MAC_PREFIX}:{n >> 16 & 0xFF:02x}:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}"


FixedIpRequest = tuple[uuid.UUID | None, IPAddress | None]
"""``(subnet id, address)`` asked for a port; either may be ``None``."""


def allocate_addresses(
    session: Session,
    network: NetworkRow,
    port_id: uuid.UUID,
    fixed_ips: Sequence[FixedIpRequest] | None,
    *,
    preferred_offset: int | None,
    attempt: int,
) -> list[IPAllocationRow]:
    """Add the port's addresses: those ``fixed_ips`` asks for, else one from the
    first subnet of each IP version that has a free address.

    Raises:
        NoMoreIpAddresses: a subnet (or every subnet of a version) is exhausted.
        IpAddressInUse: an address asked for is held.
        InvalidNetworkRequest: an address or subnet asked for is not the network's.
    """
    subnets = subnets_of(session, network.id)
    chosen: list[tuple[SubnetRow, IPAddress]] = []
    if fixed_ips is None:
        for version in (4, 6):
            of_version = [s for s in subnets if s.ip_version == version]
            if not of_version:
                continue
            for subnet in of_version:
                preferred = None
                if preferred_offset is not None and version == 4:
                    preferred = subnet.cidr.network_address + preferred_offset
                address = choose_address(
                    pools_of(subnet), used_addresses(session, subnet.id), preferred, attempt
                )
                if address is not None:
                    chosen.append((subnet, address))
                    break
            else:
                raise NoMoreIpAddresses(network.id)
    else:
        for subnet_id, address in fixed_ips:
            subnet = _subnet_for(subnets, subnet_id, address, network.id)
            if address is None:
                used = used_addresses(session, subnet.id) | {a for s, a in chosen if s is subnet}
                free = choose_address(pools_of(subnet), used, None, attempt)
                if free is None:
                    raise NoMoreIpAddresses(network.id)
                chosen.append((subnet, free))
                continue
            if address == subnet.gateway_ip or address in (
                subnet.cidr.network_address,
                subnet.cidr.broadcast_address if subnet.ip_version == 4 else None,
            ):
                raise InvalidNetworkRequest(
                    f"IP address {address} is not a valid IP for the specified subnet."
                )
            held = session.scalar(
                select(IPAllocationRow.id).where(
                    IPAllocationRow.network_id == network.id, IPAllocationRow.ip_address == address
                )
            )
            if held is not None or any(a == address for _, a in chosen):
                raise IpAddressInUse(network.id, address)
            chosen.append((subnet, address))
    rows = [
        IPAllocationRow(
            network_id=network.id, subnet_id=subnet.id, port_id=port_id, ip_address=address
        )
        for subnet, address in chosen
    ]
    session.add_all(rows)
    return rows


def _subnet_for(
    subnets: Sequence[SubnetRow],
    subnet_id: uuid.UUID | None,
    address: IPAddress | None,
    network_id: uuid.UUID,
) -> SubnetRow:
    for subnet in subnets:
        if subnet_id is not None and subnet.id != subnet_id:
            continue
        if address is not None and address not in subnet.cidr:
            if subnet_id is not None:
                raise InvalidNetworkRequest(
                    f"IP address {address} is not a valid IP for the specified subnet."
                )
            continue
        return subnet
    if subnet_id is not None:
        raise InvalidNetworkRequest(f"Subnet {subnet_id} is not on network {network_id}.")
    raise InvalidNetworkRequest(
        f"IP address {address} is not a valid IP for any subnet on network {network_id}."
    )


def release_ports(session: Session, device_id: str) -> None:
    """Delete the ports made for ``device_id`` (and their addresses); unbind the ones
    a user made beforehand, keeping their addresses."""
    ports = list(session.scalars(select(PortRow).where(PortRow.device_id == device_id)))
    made = [p.id for p in ports if not p.preserve_on_delete]
    kept = [p.id for p in ports if p.preserve_on_delete]
    if made:
        session.execute(
            delete(IPAllocationRow).where(IPAllocationRow.port_id.in_(made)),
            execution_options={"synchronize_session": False},
        )
        session.execute(
            delete(PortRow).where(PortRow.id.in_(made)),
            execution_options={"synchronize_session": False},
        )
    if kept:
        session.execute(
            update(PortRow)
            .where(PortRow.id.in_(kept))
            .values(
                device_id="",
                device_owner="",
                binding_host=None,
                status="DOWN",
                updated_at=utcnow(),
            ),
            execution_options={"synchronize_session": False},
        )


def network_row(session: Session, network_id: uuid.UUID) -> NetworkRow | None:
    return session.get(NetworkRow, network_id)
