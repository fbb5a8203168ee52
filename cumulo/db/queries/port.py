"""Ports of instances: the fleet-wide allocation a compute host asks for through
``PortAllocation`` (``Storage.ports_*``), on :mod:`cumulo.db.ipam`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cumulo.model.exceptions import (
    InstanceNotFound,
    MacAddressInUse,
    NetworkNotFound,
    PortInUse,
    PortNotFound,
)
from cumulo.model.hardware import VIFType
from cumulo.model.network import VIF, FixedIP, Network, NetworkInfo, Subnet
from cumulo.model.network_hints import MacConstraint
from cumulo.model.port import COMPUTE_DEVICE_OWNER, NetworkRequest
from cumulo.model.storage import Context
from cumulo.objects import MACAddress

from .. import ipam
from ..models import InstanceRow, IPAllocationRow, NetworkRow, PortRow
from .base import Queries


def visible_network(session: Session, network_id: uuid.UUID, project_id: str) -> NetworkRow:
    """The network if the project may use it (its own, or shared)."""
    row = session.get(NetworkRow, network_id)
    if row is None or not (row.shared or row.project_id == project_id):
        raise NetworkNotFound(id=network_id)
    return row


def vif_of(session: Session, port: PortRow) -> VIF:
    """The port as a VIF, with its network, subnets and addresses (no host details)."""
    network = session.get(NetworkRow, port.network_id)
    assert network is not None  # a foreign key
    held = list(
        session.scalars(
            select(IPAllocationRow)
            .where(IPAllocationRow.port_id == port.id)
            .order_by(IPAllocationRow.id)
        )
    )
    subnets = []
    for subnet in ipam.subnets_of(session, network.id):
        ips = [FixedIP(address=a.ip_address) for a in held if a.subnet_id == subnet.id]
        if not ips:
            continue
        subnets.append(
            Subnet(
                cidr=subnet.cidr,
                gateway=subnet.gateway_ip,
                dhcp_server=subnet.gateway_ip if subnet.enable_dhcp else None,
                dns=ipam.dns_of(subnet),
                ips=ips,
            )
        )
    return VIF(
        id=port.id,
        address=MACAddress(port.mac_address),
        network=Network(
            id=network.id,
            label=network.name,
            mtu=network.mtu,
            project_id=port.project_id,
            subnets=subnets,
        ),
        type=VIFType.BRIDGE,
        devname=f"tap{port.id.hex[:11]}",
        active=True,
        preserve_on_delete=port.preserve_on_delete,
    )


class PortQueries(Queries):
    """``Storage``'s ``ports_*`` methods."""

    def ports_allocate_for_instance(
        self,
        context: Context,
        instance_uuid: uuid.UUID,
        host: str,
        requested: Sequence[NetworkRequest],
        macs: MacConstraint | None,
    ) -> NetworkInfo:
        def transaction(attempt: int) -> NetworkInfo:
            with self._writing() as session:
                return self._allocate(session, instance_uuid, host, requested, macs, attempt)

        return ipam.retrying(transaction)

    def _allocate(
        self,
        session: Session,
        instance_uuid: uuid.UUID,
        host: str,
        requested: Sequence[NetworkRequest],
        macs: MacConstraint | None,
        attempt: int,
    ) -> NetworkInfo:
        instance = session.scalar(
            select(InstanceRow).where(InstanceRow.uuid == instance_uuid, InstanceRow.deleted == 0)
        )
        if instance is None:
            raise InstanceNotFound(uuid=instance_uuid)
        device_id = str(instance_uuid)
        now = ipam.utcnow()
        held = list(
            session.scalars(
                select(PortRow).where(PortRow.device_id == device_id).order_by(PortRow.created_at)
            )
        )
        if held:  # asked again (a retried build): the same ports, bound here
            for port in held:
                port.binding_host, port.status, port.updated_at = host, "ACTIVE", now
            return NetworkInfo(objects=[vif_of(session, port) for port in held])
        allowed = {str(m) for m in macs.allowed} if macs is not None else None
        ports: list[PortRow] = []
        for index, request in enumerate(requested):
            if request.port_id is not None:
                given = session.get(PortRow, request.port_id)
                if given is None or given.project_id != instance.project_id:
                    raise PortNotFound(id=request.port_id)
                if given.device_id not in ("", device_id):
                    raise PortInUse(given.id, given.device_id)
                if allowed is not None and given.mac_address not in allowed:
                    raise MacAddressInUse(given.network_id, given.mac_address)
                port = given
                port.device_id, port.device_owner = device_id, COMPUTE_DEVICE_OWNER
                port.binding_host, port.status, port.updated_at = host, "ACTIVE", now
                ports.append(port)
                continue
            assert request.network_id is not None
            network = visible_network(session, request.network_id, instance.project_id)
            mac = ipam.choose_mac(
                session,
                network.id,
                allowed=allowed,
                preferred=ipam.derived_mac(instance.id) if index == 0 else None,
                avoid={p.mac_address for p in ports},
                attempt=attempt,
            )
            port = PortRow(
                id=uuid.uuid4(),
                network_id=network.id,
                name="",
                project_id=instance.project_id,
                mac_address=mac,
                device_id=device_id,
                device_owner=COMPUTE_DEVICE_OWNER,
                status="ACTIVE",
                binding_host=host,
                preserve_on_delete=False,
                created_at=now,
            )
            session.add(port)
            session.flush()
            # Earlier releases gave instance n the address n + 1: preferring it keeps a
            # fleet with such hosts (and their instances' addresses) apart.
            offset = instance.id + 1 if index == 0 else None
            ipam.allocate_addresses(
                session, network, port.id, None, preferred_offset=offset, attempt=attempt
            )
            ports.append(port)
        session.flush()
        return NetworkInfo(objects=[vif_of(session, port) for port in ports])

    def ports_release_for_instance(self, context: Context, instance_uuid: uuid.UUID) -> None:
        with self._writing() as session:
            ipam.release_ports(session, str(instance_uuid))
