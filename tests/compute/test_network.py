"""cumulo/compute/network.py: deterministic allocation within the driver's constraints."""

from __future__ import annotations

import ipaddress
import uuid

import pytest

from cumulo.compute.exceptions import NetworkAllocationFailed
from cumulo.compute.network import NETWORK_ID, NetworkAllocator, dhcp_options_of
from cumulo.model import DhcpOption, DhcpOptionList, Instance, MacConstraint


def stored_instance(instance_id: int) -> Instance:
    return Instance(id=instance_id, uuid=uuid.uuid4(), user_id="u", project_id="p1")


def test_the_address_and_mac_follow_the_instance_id():
    allocator = NetworkAllocator("host-a", subnet="10.20.0.0/24")
    (vif,) = allocator.allocate_for_instance(stored_instance(7), None, DhcpOptionList()).objects
    assert vif.address == "fa:16:3e:00:00:07"
    assert vif.network is not None and vif.network.id == NETWORK_ID
    assert vif.network.bridge == "br-host-a" and vif.network.project_id == "p1"
    (subnet,) = vif.network.subnets
    assert subnet.gateway == subnet.dhcp_server == ipaddress.ip_address("10.20.0.1")
    assert [str(ip.address) for ip in subnet.ips] == ["10.20.0.8"]
    # Allocating again (a retried build) gives the same VIF.
    again = allocator.allocate_for_instance(stored_instance(7), None, DhcpOptionList())
    assert again.objects[0].address == vif.address


def test_two_hosts_never_give_out_the_same_address():
    a, b = NetworkAllocator("host-a"), NetworkAllocator("host-b")
    ips = {
        str(
            alloc.allocate_for_instance(stored_instance(i), None, DhcpOptionList())
            .fixed_ips()[0]
            .address
        )
        for i, alloc in ((1, a), (2, b), (3, a), (4, b))
    }
    assert len(ips) == 4


def test_mac_constraint_and_dhcp_options():
    allocator = NetworkAllocator("host-a")
    options = DhcpOptionList(
        objects=[
            DhcpOption(opt_name="bootfile-name", opt_value="pxelinux.0"),
            DhcpOption(opt_name="tftp-server", opt_value="fd00::1", ip_version=6),
        ]
    )
    macs = MacConstraint(allowed={"52:54:00:00:00:0c", "52:54:00:00:00:0b"})
    (vif,) = allocator.allocate_for_instance(stored_instance(1), macs, options).objects
    assert vif.address == "52:54:00:00:00:0b"
    assert sorted(dhcp_options_of(vif), key=lambda o: o.opt_name) == options.objects

    with pytest.raises(NetworkAllocationFailed, match="allows no MAC"):
        allocator.allocate_for_instance(stored_instance(2), MacConstraint(), options)


def test_an_exhausted_subnet_is_an_error():
    allocator = NetworkAllocator("host-a", subnet="10.30.0.0/29")  # .1 gateway, .2-.6 guests
    allocator.allocate_for_instance(stored_instance(5), None, DhcpOptionList())
    with pytest.raises(NetworkAllocationFailed, match="no address for instance 6"):
        allocator.allocate_for_instance(stored_instance(6), None, DhcpOptionList())


def test_bind_to_another_host():
    allocator = NetworkAllocator("host-a")
    info = allocator.allocate_for_instance(stored_instance(3), None, DhcpOptionList())
    bound = allocator.bind_to_host(info, "host-b")
    (vif,) = bound.objects
    assert vif.details["bound_host"] == "host-b" and vif.network.bridge == "br-host-b"
    assert info.objects[0].details["bound_host"] == "host-a"  # the original is unchanged
    assert vif.id == info.objects[0].id and vif.address == info.objects[0].address
