"""IP and MAC addresses: parsing them, and the types msgspec decodes them to.

msgspec knows none of these, so their fields decode through :func:`dec_hook`; an
"IPv4 or IPv6" field decodes to a subclass of a marker type (:class:`AnyIPAddress`,
:class:`AnyIPNetwork`) so that one wire type can stand for both families.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

MAC_RE = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")

IP_CLASSES: dict[str, tuple[Any, ...]] = {
    "ipv4": (ipaddress.IPv4Address,),
    "ipv6": (ipaddress.IPv6Address,),
    "ip": (ipaddress.IPv4Address, ipaddress.IPv6Address),
    "ipv4net": (ipaddress.IPv4Network,),
    "ipv6net": (ipaddress.IPv6Network,),
    "ipnet": (ipaddress.IPv4Network, ipaddress.IPv6Network),
}


def parse_ip(kind: str, text: str) -> Any:
    """Parse ``text`` as the address or network family ``kind``; ValueError when it is not."""
    addr: Any
    if kind in ("ipv4", "ipv6", "ip"):
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            raise ValueError(f"Invalid IP address {text!r}") from None
    else:
        try:
            addr = ipaddress.ip_network(text)
        except ValueError:
            raise ValueError(f"Invalid IP network {text!r}") from None
    if not isinstance(addr, IP_CLASSES[kind]):
        raise ValueError(f"Expected {kind}, got {text!r}")
    return addr


class AnyIPAddress:
    """Marker base: msgspec decodes a field typed "IPv4 or IPv6 address" to a subclass."""

    __slots__ = ()


class AnyIPNetwork:
    """Marker base: msgspec decodes a field typed "IPv4 or IPv6 network" to a subclass."""

    __slots__ = ()


class _AnyIPv4Address(ipaddress.IPv4Address, AnyIPAddress):
    __slots__ = ()


class _AnyIPv6Address(ipaddress.IPv6Address, AnyIPAddress):
    __slots__ = ()


class _AnyIPv4Network(ipaddress.IPv4Network, AnyIPNetwork):
    pass


class _AnyIPv6Network(ipaddress.IPv6Network, AnyIPNetwork):
    pass


IP_WIRE: dict[str, type[Any]] = {
    "ipv4": ipaddress.IPv4Address,
    "ipv6": ipaddress.IPv6Address,
    "ip": AnyIPAddress,
    "ipv4net": ipaddress.IPv4Network,
    "ipv6net": ipaddress.IPv6Network,
    "ipnet": AnyIPNetwork,
}


def decode_ip(tp: type[Any], text: str) -> Any:
    """dec_hook helper: parse ``text`` into an instance of the wire type ``tp``."""
    if tp is AnyIPAddress:
        addr = parse_ip("ip", text)
        return (_AnyIPv4Address if addr.version == 4 else _AnyIPv6Address)(text)
    if tp is AnyIPNetwork:
        net = parse_ip("ipnet", text)
        return (_AnyIPv4Network if net.version == 4 else _AnyIPv6Network)(text)
    for kind, wire in IP_WIRE.items():
        if wire is tp:
            return parse_ip(kind, text)
    raise NotImplementedError(f"cannot decode a `{tp!r}`")


IP_WIRE_TYPES = tuple(IP_WIRE.values())


class MACWire(str):
    """How msgspec decodes a MAC address field: checked and lower-cased by dec_hook."""

    __slots__ = ()


def decode_mac(text: str) -> MACWire:
    if not MAC_RE.match(text):
        raise ValueError(f"Invalid MAC address {text!r}")
    return MACWire(text.lower())


def dec_hook(tp: Any, value: Any) -> Any:
    """msgspec hook for the types msgspec does not know (IP addresses, networks, MACs)."""
    if tp is MACWire:
        if not isinstance(value, str):
            raise ValueError(f"Expected `str`, got `{type(value).__name__}`")
        return decode_mac(value)
    if tp in IP_WIRE_TYPES:
        if not isinstance(value, str):
            raise ValueError(f"Expected `str` holding an address, got `{type(value).__name__}`")
        return decode_ip(tp, value)
    raise NotImplementedError(f"cannot decode a `{tp!r}`")
