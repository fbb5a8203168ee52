"""Tests of cumulo/model/network.py: VIFs and the network model as objects."""

import ipaddress
import uuid

import pytest

from cumulo.model import VIF, FixedIP, Network, NetworkInfo, Route, Subnet, VIFType, VnicType
from cumulo.objects import FieldValueError, decode_json, encode_json


def network_info() -> NetworkInfo:
    subnet = Subnet(
        cidr="10.0.0.0/24",
        gateway="10.0.0.1",
        ips=[FixedIP(address="10.0.0.5", floating_ips=["203.0.113.9"])],
        dns=["10.0.0.2"],
        routes=[Route(cidr="192.168.0.0/16", gateway="10.0.0.254")],
    )
    v6 = Subnet(cidr="2001:db8::/64", ips=[FixedIP(address="2001:db8::5")])
    net = Network(id=uuid.UUID(int=9), label="private", bridge="br100", subnets=[subnet, v6])
    vif = VIF(
        id=uuid.UUID(int=1),
        address="FA:16:3E:12:34:56",
        network=net,
        type="ovs",
        devname="tap00000000-01",
        details={"port_filter": "true"},
    )
    return NetworkInfo(objects=[vif])


def test_typed_fields():
    info = network_info()
    vif = info.objects[0]
    assert vif.address == "fa:16:3e:12:34:56"
    assert vif.type is VIFType.OVS
    assert vif.vnic_type is VnicType.NORMAL
    assert (vif.active, vif.preserve_on_delete) == (False, False)
    subnet = vif.network.subnets[0]
    assert subnet.gateway == ipaddress.IPv4Address("10.0.0.1")
    assert (subnet.version, vif.network.subnets[1].version) == (4, 6)


def test_fixed_ips_and_lookup():
    info = network_info()
    assert [str(ip.address) for ip in info.fixed_ips()] == ["10.0.0.5", "2001:db8::5"]
    assert info.vif(uuid.UUID(int=1)) is info.objects[0]
    assert info.vif(uuid.UUID(int=2)) is None
    assert [v.id for v in info] == [uuid.UUID(int=1)]
    assert VIF(id=uuid.uuid4(), address="00:00:00:00:00:01").fixed_ips() == []


def test_round_trip():
    info = network_info()
    again = decode_json(encode_json(info), NetworkInfo)
    assert again == info
    assert again.objects[0].network.subnets[0].routes[0].cidr == ipaddress.ip_network(
        "192.168.0.0/16"
    )


@pytest.mark.parametrize(
    ("make", "where"),
    [
        (lambda: VIF(id=uuid.uuid4(), address="not-a-mac"), "VIF.address"),
        (lambda: Subnet(cidr="10.0.0.1/24"), "Subnet.cidr"),
        (lambda: FixedIP(address="10.0.0.300"), "FixedIP.address"),
        (lambda: VIF(id=uuid.uuid4(), address="00:00:00:00:00:01", type="wifi"), "VIF.type"),
    ],
)
def test_bad_values_are_refused_with_their_place(make, where):
    with pytest.raises(FieldValueError, match=where.replace(".", r"\.")):
        make()
