"""cumulo/compute/network.py: the host's side of fleet-wide allocation (through
``PortAllocation`` on a real SQLite storage), within the driver's constraints."""

from __future__ import annotations

import dataclasses
import ipaddress
import uuid
from collections.abc import Iterator

import pytest

from cumulo.compute.exceptions import NetworkAllocationFailed
from cumulo.compute.network import NETWORK_ID, NetworkAllocator, dhcp_options_of
from cumulo.db.api import SqlStorage
from cumulo.db.engine import create_engine, sync
from cumulo.model import (
    REQUESTED_NETWORKS_KEY,
    DhcpOption,
    DhcpOptionList,
    Instance,
    MacConstraint,
    set_storage,
)
from cumulo.network import NetworkStore, subnet_spec


@dataclasses.dataclass
class Ctx:
    user_id: str | None = "u"
    project_id: str | None = "p1"
    request_id: str = "req-net"


@pytest.fixture
def store(tmp_path) -> Iterator[NetworkStore]:
    engine = create_engine(f"sqlite:///{tmp_path / 'cumulo.db'}")
    sync(engine)
    previous = set_storage(SqlStorage(engine))
    try:
        yield NetworkStore(engine)
    finally:
        set_storage(previous)
        engine.dispose()


def stored_instance(**system_metadata: str) -> Instance:
    instance = Instance(
        uuid=uuid.uuid4(), user_id="u", project_id="p1", system_metadata=system_metadata
    )
    instance.obj_set_context(Ctx())
    instance.create()
    return instance


def test_the_default_network_gives_the_address_and_mac_earlier_releases_chose(store):
    allocator = NetworkAllocator("host-a")
    instance = stored_instance()
    (vif,) = allocator.allocate_for_instance(instance, None, DhcpOptionList()).objects
    n = instance.id
    assert vif.address == f"fa:16:3e:00:00:{n:02x}"
    assert vif.network is not None and vif.network.id == NETWORK_ID
    assert vif.network.label == "private" and vif.network.mtu == 1500
    assert vif.network.bridge == "br-host-a" and vif.network.project_id == "p1"
    (subnet,) = vif.network.subnets
    assert subnet.gateway == subnet.dhcp_server == ipaddress.ip_address("10.1.0.1")
    assert [str(ip.address) for ip in subnet.ips] == [f"10.1.0.{n + 1}"]
    # Allocating again (a retried build) gives the same VIF, and one port.
    again = allocator.allocate_for_instance(instance, None, DhcpOptionList())
    assert again.objects[0].address == vif.address and again.objects[0].id == vif.id
    assert len(store.ports(device_ids=[str(instance.uuid)])) == 1


def test_two_hosts_never_give_out_the_same_address(store):
    a, b = NetworkAllocator("host-a"), NetworkAllocator("host-b")
    ips = {
        str(
            alloc.allocate_for_instance(stored_instance(), None, DhcpOptionList())
            .fixed_ips()[0]
            .address
        )
        for alloc in (a, b, a, b)
    }
    assert len(ips) == 4


def test_mac_constraint_and_dhcp_options(store):
    allocator = NetworkAllocator("host-a")
    options = DhcpOptionList(
        objects=[
            DhcpOption(opt_name="bootfile-name", opt_value="pxelinux.0"),
            DhcpOption(opt_name="tftp-server", opt_value="fd00::1", ip_version=6),
        ]
    )
    macs = MacConstraint(allowed={"52:54:00:00:00:0c", "52:54:00:00:00:0b"})
    (vif,) = allocator.allocate_for_instance(stored_instance(), macs, options).objects
    assert vif.address == "52:54:00:00:00:0b"
    assert sorted(dhcp_options_of(vif), key=lambda o: o.opt_name) == options.objects
    # The lowest allowed MAC is taken on the network now: the next one gets the other.
    (other,) = allocator.allocate_for_instance(stored_instance(), macs, options).objects
    assert other.address == "52:54:00:00:00:0c"

    with pytest.raises(NetworkAllocationFailed, match="allows no MAC"):
        allocator.allocate_for_instance(stored_instance(), MacConstraint(), options)


def test_an_exhausted_subnet_is_an_error_and_release_frees_it(store):
    network = store.create_network("tiny", "p1", shared=False, admin_state_up=True, mtu=1400)
    store.create_subnet(
        network.id, "p1", subnet_spec(cidr="10.30.0.0/30", ip_version=4)
    )  # .1 gateway, .2 the one guest
    allocator = NetworkAllocator("host-a")
    wanted = {REQUESTED_NETWORKS_KEY: f"network:{network.id}"}
    first = stored_instance(**wanted)
    (vif,) = allocator.allocate_for_instance(first, None, DhcpOptionList()).objects
    assert [str(ip.address) for ip in vif.fixed_ips()] == ["10.30.0.2"]
    assert vif.network is not None and vif.network.mtu == 1400
    second = stored_instance(**wanted)
    with pytest.raises(NetworkAllocationFailed, match="No more IP addresses available"):
        allocator.allocate_for_instance(second, None, DhcpOptionList())
    allocator.deallocate_for_instance(first)
    assert store.ports(network_id=network.id) == []
    (vif,) = allocator.allocate_for_instance(second, None, DhcpOptionList()).objects
    assert [str(ip.address) for ip in vif.fixed_ips()] == ["10.30.0.2"]


def test_a_port_made_beforehand_is_bound_then_kept(store):
    port = store.create_port(NETWORK_ID, "p1", name="mine")
    allocator = NetworkAllocator("host-a")
    instance = stored_instance(**{REQUESTED_NETWORKS_KEY: f"port:{port.id}"})
    (vif,) = allocator.allocate_for_instance(instance, None, DhcpOptionList()).objects
    assert vif.id == port.id and vif.address == port.mac_address
    bound = store.port(port.id)
    assert bound.device_id == str(instance.uuid) and bound.binding_host == "host-a"
    # Another instance cannot take it while it is bound.
    other = stored_instance(**{REQUESTED_NETWORKS_KEY: f"port:{port.id}"})
    with pytest.raises(NetworkAllocationFailed, match="still in use"):
        allocator.allocate_for_instance(other, None, DhcpOptionList())
    instance.destroy()  # the delete unbinds it; its address stays
    kept = store.port(port.id)
    assert kept.device_id == "" and kept.binding_host is None
    assert kept.fixed_ips == bound.fixed_ips


def test_a_deleted_instance_gives_its_port_back(store):
    instance = stored_instance()
    NetworkAllocator("host-a").allocate_for_instance(instance, None, DhcpOptionList())
    assert len(store.ports(device_ids=[str(instance.uuid)])) == 1
    instance.destroy()
    assert store.ports(device_ids=[str(instance.uuid)]) == []


def test_bind_to_another_host(store):
    allocator = NetworkAllocator("host-a")
    info = allocator.allocate_for_instance(stored_instance(), None, DhcpOptionList())
    bound = allocator.bind_to_host(info, "host-b")
    (vif,) = bound.objects
    assert vif.details["bound_host"] == "host-b" and vif.network.bridge == "br-host-b"
    assert info.objects[0].details["bound_host"] == "host-a"  # the original is unchanged
    assert vif.id == info.objects[0].id and vif.address == info.objects[0].address
