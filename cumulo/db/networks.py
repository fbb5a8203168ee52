"""``NetworkStore``: the records of the Neutron subset (networks, subnets, ports and
their addresses) as the API reads and changes them; each method one transaction.
Addresses and MACs come from :mod:`cumulo.db.ipam`, as the hosts' allocations do.

The store does not decide who may see what: the API filters by project.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from cumulo.model.exceptions import (
    InvalidNetworkRequest,
    MacAddressInUse,
    NetworkInUse,
    NetworkNotFound,
    PortNotFound,
    SubnetNotFound,
)
from cumulo.model.port import DEFAULT_NETWORK_ID

from . import ipam
from .ipam import FixedIpRequest, Pool
from .models import IPAllocationRow, NetworkRow, PortRow, SubnetRow
from .records import RecordStore
from .types import IPAddress, IPNetwork

DEFAULT_SUBNET_ID = uuid.UUID("80c636cb-256e-51fe-b242-caea3fc8332b")
"""The default network's subnet (migration 0006 creates both)."""


@dataclass(frozen=True, slots=True)
class NetworkRecord:
    id: uuid.UUID
    name: str
    project_id: str | None
    shared: bool
    admin_state_up: bool
    mtu: int
    created_at: datetime
    updated_at: datetime | None
    subnet_ids: list[uuid.UUID] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SubnetRecord:
    id: uuid.UUID
    network_id: uuid.UUID
    name: str
    project_id: str | None
    ip_version: int
    cidr: IPNetwork
    gateway_ip: IPAddress | None
    allocation_pools: list[Pool]
    dns_nameservers: list[IPAddress]
    enable_dhcp: bool
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class PortRecord:
    id: uuid.UUID
    network_id: uuid.UUID
    name: str
    project_id: str
    mac_address: str
    device_id: str
    device_owner: str
    status: str
    binding_host: str | None
    fixed_ips: list[tuple[uuid.UUID, IPAddress]]
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class SubnetSpec:
    """A checked subnet to create (``cumulo.network.subnet_spec`` builds it)."""

    cidr: IPNetwork
    gateway_ip: IPAddress | None
    allocation_pools: list[Pool]
    dns_nameservers: list[IPAddress]
    enable_dhcp: bool
    name: str = ""


def _network(session: Session, row: NetworkRow) -> NetworkRecord:
    return NetworkRecord(
        row.id,
        row.name,
        row.project_id,
        row.shared,
        row.admin_state_up,
        row.mtu,
        row.created_at,
        row.updated_at,
        [s.id for s in ipam.subnets_of(session, row.id)],
    )


def _subnet(row: SubnetRow) -> SubnetRecord:
    return SubnetRecord(
        row.id,
        row.network_id,
        row.name,
        row.project_id,
        row.ip_version,
        row.cidr,
        row.gateway_ip,
        ipam.pools_of(row),
        ipam.dns_of(row),
        row.enable_dhcp,
        row.created_at,
        row.updated_at,
    )


def _port(session: Session, row: PortRow) -> PortRecord:
    held = session.scalars(
        select(IPAllocationRow)
        .where(IPAllocationRow.port_id == row.id)
        .order_by(IPAllocationRow.id)
    )
    return PortRecord(
        row.id,
        row.network_id,
        row.name,
        row.project_id,
        row.mac_address,
        row.device_id,
        row.device_owner,
        row.status,
        row.binding_host,
        [(a.subnet_id, a.ip_address) for a in held],
        row.created_at,
        row.updated_at,
    )


def ensure_default_network(engine: Engine) -> None:
    """Create the default shared network ``private`` (10.1.0.0/16) when it is missing,
    as migration 0006 does (for a database emptied since)."""
    store = NetworkStore(engine)
    with store.writing() as session:
        if session.get(NetworkRow, DEFAULT_NETWORK_ID) is not None:
            return
        now = ipam.utcnow()
        session.add(
            NetworkRow(
                id=DEFAULT_NETWORK_ID,
                name="private",
                project_id=None,
                shared=True,
                admin_state_up=True,
                mtu=1500,
                created_at=now,
            )
        )
        session.flush()
        cidr = ipaddress.ip_network("10.1.0.0/16")
        gateway = ipaddress.ip_address("10.1.0.1")
        session.add(
            _subnet_row(
                DEFAULT_SUBNET_ID,
                DEFAULT_NETWORK_ID,
                None,
                SubnetSpec(cidr, gateway, ipam.default_pools(cidr, gateway), [gateway], True),
                "private-subnet",
            )
        )


def _subnet_row(
    subnet_id: uuid.UUID,
    network_id: uuid.UUID,
    project_id: str | None,
    spec: SubnetSpec,
    name: str,
) -> SubnetRow:
    return SubnetRow(
        id=subnet_id,
        network_id=network_id,
        name=name,
        project_id=project_id,
        ip_version=spec.cidr.version,
        cidr=spec.cidr,
        gateway_ip=spec.gateway_ip,
        allocation_pools=json.dumps([p.as_dict() for p in spec.allocation_pools]),
        dns_nameservers=json.dumps([str(a) for a in spec.dns_nameservers]),
        enable_dhcp=spec.enable_dhcp,
        created_at=ipam.utcnow(),
    )


class NetworkStore(RecordStore):
    # --- networks -----------------------------------------------------------------------

    def networks(self) -> list[NetworkRecord]:
        with self.reading() as session:
            rows = session.scalars(select(NetworkRow).order_by(NetworkRow.created_at))
            return [_network(session, row) for row in rows]

    def network(self, network_id: uuid.UUID) -> NetworkRecord:
        """Raises ``NetworkNotFound``."""
        with self.reading() as session:
            row = session.get(NetworkRow, network_id)
            if row is None:
                raise NetworkNotFound(id=network_id)
            return _network(session, row)

    def create_network(
        self, name: str, project_id: str | None, *, shared: bool, admin_state_up: bool, mtu: int
    ) -> NetworkRecord:
        with self.writing() as session:
            row = NetworkRow(
                id=uuid.uuid4(),
                name=name,
                project_id=project_id,
                shared=shared,
                admin_state_up=admin_state_up,
                mtu=mtu,
                created_at=ipam.utcnow(),
            )
            session.add(row)
            session.flush()
            return _network(session, row)

    def delete_network(self, network_id: uuid.UUID) -> None:
        """Delete a network without ports (and its subnets).

        Raises:
            NetworkNotFound; NetworkInUse: it has ports.
        """
        with self.writing() as session:
            row = session.get(NetworkRow, network_id, with_for_update=True)
            if row is None:
                raise NetworkNotFound(id=network_id)
            ports = session.scalar(
                select(func.count()).select_from(PortRow).where(PortRow.network_id == network_id)
            )
            if ports:
                raise NetworkInUse("network", network_id)
            session.execute(
                delete(SubnetRow).where(SubnetRow.network_id == network_id),
                execution_options={"synchronize_session": False},
            )
            session.delete(row)

    # --- subnets ------------------------------------------------------------------------

    def subnets(self) -> list[SubnetRecord]:
        with self.reading() as session:
            rows = session.scalars(select(SubnetRow).order_by(SubnetRow.created_at))
            return [_subnet(row) for row in rows]

    def subnet(self, subnet_id: uuid.UUID) -> SubnetRecord:
        """Raises ``SubnetNotFound``."""
        with self.reading() as session:
            row = session.get(SubnetRow, subnet_id)
            if row is None:
                raise SubnetNotFound(id=subnet_id)
            return _subnet(row)

    def create_subnet(
        self, network_id: uuid.UUID, project_id: str | None, spec: SubnetSpec
    ) -> SubnetRecord:
        """Add a subnet to a network.

        Raises:
            NetworkNotFound; InvalidNetworkRequest: its CIDR overlaps another subnet
                of the network.
        """
        with self.writing() as session:
            # The network's row lock orders concurrent creates on one network, so
            # the overlap check below sees the other's subnet.
            network = session.get(NetworkRow, network_id, with_for_update=True)
            if network is None:
                raise NetworkNotFound(id=network_id)
            for other in ipam.subnets_of(session, network_id):
                if other.cidr.version == spec.cidr.version and other.cidr.overlaps(spec.cidr):
                    raise InvalidNetworkRequest(
                        f"Invalid input for operation: Requested subnet with cidr: {spec.cidr} "
                        f"for network: {network_id} overlaps with another subnet "
                        f"({other.id}, {other.cidr})."
                    )
            row = _subnet_row(uuid.uuid4(), network_id, project_id, spec, spec.name)
            session.add(row)
            session.flush()
            return _subnet(row)

    def delete_subnet(self, subnet_id: uuid.UUID) -> None:
        """Raises ``SubnetNotFound``; ``NetworkInUse`` while ports hold its addresses."""
        with self.writing() as session:
            row = session.get(SubnetRow, subnet_id)
            if row is None:
                raise SubnetNotFound(id=subnet_id)
            held = session.scalar(
                select(func.count())
                .select_from(IPAllocationRow)
                .where(IPAllocationRow.subnet_id == subnet_id)
            )
            if held:
                raise NetworkInUse("subnet", subnet_id)
            session.delete(row)

    # --- ports --------------------------------------------------------------------------

    def ports(
        self,
        *,
        device_ids: Sequence[str] | None = None,
        network_id: uuid.UUID | None = None,
        project_id: str | None = None,
    ) -> list[PortRecord]:
        """Ports matching every filter given, oldest first."""
        with self.reading() as session:
            query = select(PortRow).order_by(PortRow.created_at, PortRow.id)
            if device_ids is not None:
                query = query.where(PortRow.device_id.in_(list(device_ids)))
            if network_id is not None:
                query = query.where(PortRow.network_id == network_id)
            if project_id is not None:
                query = query.where(PortRow.project_id == project_id)
            return [_port(session, row) for row in session.scalars(query)]

    def port(self, port_id: uuid.UUID) -> PortRecord:
        """Raises ``PortNotFound``."""
        with self.reading() as session:
            row = session.get(PortRow, port_id)
            if row is None:
                raise PortNotFound(id=port_id)
            return _port(session, row)

    def create_port(
        self,
        network_id: uuid.UUID,
        project_id: str,
        *,
        name: str = "",
        mac_address: str | None = None,
        fixed_ips: Sequence[FixedIpRequest] | None = None,
        device_id: str = "",
        device_owner: str = "",
    ) -> PortRecord:
        """A port a user makes (kept when the server it is given to is deleted), with
        the addresses ``fixed_ips`` asks for or one of each IP version.

        Raises:
            NetworkNotFound, NoMoreIpAddresses, IpAddressInUse, MacAddressInUse,
            InvalidNetworkRequest.
        """

        def transaction(attempt: int) -> PortRecord:
            with self.writing() as session:
                network = session.get(NetworkRow, network_id)
                if network is None:
                    raise NetworkNotFound(id=network_id)
                if mac_address is not None:
                    if mac_address in ipam.used_macs(session, network_id):
                        raise MacAddressInUse(network_id, mac_address)
                    mac = mac_address
                else:
                    mac = ipam.choose_mac(
                        session, network_id, allowed=None, preferred=None, avoid=set(), attempt=1
                    )
                row = PortRow(
                    id=uuid.uuid4(),
                    network_id=network_id,
                    name=name,
                    project_id=project_id,
                    mac_address=mac,
                    device_id=device_id,
                    device_owner=device_owner,
                    status="DOWN",
                    binding_host=None,
                    preserve_on_delete=True,
                    created_at=ipam.utcnow(),
                )
                session.add(row)
                session.flush()
                ipam.allocate_addresses(
                    session, network, row.id, fixed_ips, preferred_offset=None, attempt=attempt
                )
                session.flush()
                return _port(session, row)

        return ipam.retrying(transaction)

    def delete_port(self, port_id: uuid.UUID) -> None:
        """Delete a port and free its addresses. Raises ``PortNotFound``."""
        with self.writing() as session:
            row = session.get(PortRow, port_id)
            if row is None:
                raise PortNotFound(id=port_id)
            session.execute(
                delete(IPAllocationRow).where(IPAllocationRow.port_id == port_id),
                execution_options={"synchronize_session": False},
            )
            session.delete(row)
