"""What a driver asks of network allocation: DHCP options and MAC constraints.

Nova's baremetal drivers returned these as a list of dicts and a set of strings
(``dhcp_options_for_instance``, ``macs_for_instance``); Cumulo's network
allocation takes them as objects.
"""

from __future__ import annotations

from typing import Literal

from cumulo.objects import MACAddress, field, register

from .base import CumuloObject


@register
class DhcpOption(CumuloObject):
    """An extra DHCP option the instance's ports must serve (PXE boot and such),
    for example ``bootfile-name`` = ``pxelinux.0``.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    opt_name: str
    opt_value: str
    ip_version: Literal[4, 6] = 4


@register
class DhcpOptionList(CumuloObject):
    """The extra DHCP options of an instance.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    objects: list[DhcpOption] = field(default_factory=list)


@register
class MacConstraint(CumuloObject):
    """The MAC addresses an instance's VIFs must take, one each (hosts whose NICs
    have fixed MACs); allocation fails when more VIFs are asked than ``allowed``
    holds.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    allowed: set[MACAddress] = field(default_factory=set)
