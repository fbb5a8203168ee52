"""``subnet_spec``: a subnet request checked as Neutron checks it: the CIDR of the
IP version asked, a gateway inside it, allocation pools inside it that overlap
neither each other nor the gateway, name servers that are addresses."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from cumulo.db.ipam import Pool, default_pools
from cumulo.db.networks import SubnetSpec
from cumulo.db.types import IPAddress, IPNetwork
from cumulo.model.exceptions import InvalidNetworkRequest

NO_GATEWAY = object()
"""``gateway_ip: null``: the subnet has no gateway."""


def _address(value: Any, what: str) -> IPAddress:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        raise InvalidNetworkRequest(
            f"Invalid input for {what}: '{value}' is not a valid IP address."
        ) from None


def _cidr(value: Any, ip_version: int) -> IPNetwork:
    try:
        cidr = ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise InvalidNetworkRequest(
            f"Invalid input for cidr: '{value}' is not a valid IP subnet."
        ) from None
    if cidr.version != ip_version:
        raise InvalidNetworkRequest(
            f"Invalid input for operation: cidr {value} is not an IPv{ip_version} network "
            f"(ip_version is {ip_version})."
        )
    if str(cidr) != str(value).strip():
        raise InvalidNetworkRequest(
            f"Invalid input for cidr: '{value}' isn't a recommended CIDR, use {cidr} instead."
        )
    if cidr.num_addresses < (4 if ip_version == 4 else 2):
        raise InvalidNetworkRequest(f"Invalid input for cidr: {cidr} leaves no address for ports.")
    return cidr


def subnet_spec(
    *,
    cidr: Any,
    ip_version: int,
    gateway_ip: Any = None,
    allocation_pools: Sequence[dict[str, Any]] | None = None,
    dns_nameservers: Sequence[Any] = (),
    enable_dhcp: bool = True,
    name: str = "",
) -> SubnetSpec:
    """The checked subnet; ``gateway_ip`` ``None`` means the first address, and
    :data:`NO_GATEWAY` none at all.

    Raises:
        InvalidNetworkRequest: naming the bad value.
    """
    network = _cidr(cidr, ip_version)
    gateway: IPAddress | None
    if gateway_ip is NO_GATEWAY:
        gateway = None
    elif gateway_ip is None:
        gateway = network.network_address + 1
    else:
        gateway = _address(gateway_ip, "gateway_ip")
        if gateway not in network or gateway == network.network_address:
            raise InvalidNetworkRequest(
                f"Invalid input for operation: Gateway IP {gateway} is not inside subnet {network}."
            )
    if allocation_pools is None:
        pools = default_pools(network, gateway)
    else:
        pools = []
        for index, entry in enumerate(allocation_pools):
            start = _address(entry.get("start"), f"allocation_pools[{index}].start")
            end = _address(entry.get("end"), f"allocation_pools[{index}].end")
            if start > end:  # type: ignore[operator]
                raise InvalidNetworkRequest(
                    f"Invalid input for allocation_pools[{index}]: start {start} is after "
                    f"end {end}."
                )
            if start not in network or end not in network:
                raise InvalidNetworkRequest(
                    f"The allocation pool {start}-{end} spans beyond the subnet cidr {network}."
                )
            if start == network.network_address or (
                network.version == 4 and end == network.broadcast_address
            ):
                raise InvalidNetworkRequest(
                    f"The allocation pool {start}-{end} holds the network or broadcast address "
                    f"of {network}."
                )
            pool = Pool(start, end)
            for other in pools:
                if pool.start <= other.end and other.start <= pool.end:  # type: ignore[operator]
                    raise InvalidNetworkRequest(
                        f"Found overlapping allocation pools: {other.start}-{other.end} and "
                        f"{start}-{end} for subnet {network}."
                    )
            if gateway is not None and gateway in pool:
                raise InvalidNetworkRequest(
                    f"Gateway ip {gateway} conflicts with allocation pool {start}-{end}."
                )
            pools.append(pool)
    dns = [_address(a, f"dns_nameservers[{i}]") for i, a in enumerate(dns_nameservers)]
    if len(set(dns)) != len(dns):
        raise InvalidNetworkRequest("Duplicate nameserver in dns_nameservers.")
    return SubnetSpec(network, gateway, pools, dns, bool(enable_dhcp), name)
