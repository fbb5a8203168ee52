"""cumulo/db/networks.py and cumulo/db/ipam.py on each backend: the default network,
subnet overlap, and addresses that stay unique under concurrent allocation (the
unique key decides, whatever the allocators read)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from cumulo.db.networks import ensure_default_network
from cumulo.model import DEFAULT_NETWORK_ID
from cumulo.model.exceptions import InvalidNetworkRequest, NetworkInUse, NoMoreIpAddresses
from cumulo.network import NetworkStore, subnet_spec


@pytest.fixture
def store(database) -> NetworkStore:
    database.clear()
    return NetworkStore(database.engine)


def test_the_default_network_is_restored_once(store, database):
    ensure_default_network(database.engine)
    ensure_default_network(database.engine)
    (network,) = store.networks()
    assert network.id == DEFAULT_NETWORK_ID and network.shared and network.name == "private"
    (subnet,) = store.subnets()
    assert str(subnet.cidr) == "10.1.0.0/16" and str(subnet.gateway_ip) == "10.1.0.1"


def test_overlapping_subnets_are_refused_and_used_ones_kept(store):
    network = store.create_network("n", "p1", shared=False, admin_state_up=True, mtu=1500)
    subnet = store.create_subnet(network.id, "p1", subnet_spec(cidr="10.8.0.0/24", ip_version=4))
    with pytest.raises(InvalidNetworkRequest, match="overlaps"):
        store.create_subnet(network.id, "p1", subnet_spec(cidr="10.8.0.128/25", ip_version=4))
    store.create_subnet(network.id, "p1", subnet_spec(cidr="fd00:8::/64", ip_version=6))
    port = store.create_port(network.id, "p1")
    assert {a.version for _, a in port.fixed_ips} == {4, 6}
    with pytest.raises(NetworkInUse):
        store.delete_subnet(subnet.id)
    with pytest.raises(NetworkInUse):
        store.delete_network(network.id)
    store.delete_port(port.id)
    store.delete_network(network.id)
    assert store.networks() == []


def test_concurrent_allocations_never_share_an_address(store):
    network = store.create_network("race", "p1", shared=False, admin_state_up=True, mtu=1500)
    # 13 addresses (.2-.14) for 20 concurrent allocators: 13 win, 7 are told the pool is full.
    store.create_subnet(network.id, "p1", subnet_spec(cidr="10.9.0.0/28", ip_version=4))
    start = threading.Barrier(20)

    def allocate(_: int) -> str | None:
        start.wait()
        try:
            port = store.create_port(network.id, "p1")
        except NoMoreIpAddresses:
            return None
        return str(port.fixed_ips[0][1])

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(allocate, range(20)))
    won = [r for r in results if r is not None]
    assert len(won) == 13 and len(set(won)) == 13
    assert sorted(won, key=lambda a: int(a.rsplit(".", 1)[1])) == [
        f"10.9.0.{n}" for n in range(2, 15)
    ]
    assert len({p.mac_address for p in store.ports(network_id=network.id)}) == 13
