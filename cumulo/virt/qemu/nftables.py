"""Security-group rules as nftables rules on the instances' taps.

One ``bridge``-family table per compute host holds everything: a ``forward`` chain
that sends each tap's traffic to its instance's chains, and per instance an
ingress chain (traffic out of the tap, towards the guest) and an egress chain.
Every change rewrites the whole table in one ``nft -f`` transaction, so the
kernel never sees half a ruleset. The semantics are :mod:`cumulo.virt.firewall`'s.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

from cumulo.model import Direction, EtherType, Protocol, SecurityGroupRule

__all__ = [
    "InstanceFilter",
    "NftError",
    "apply_ruleset",
    "conntrack_available",
    "delete_table",
    "nft_available",
    "render_table",
    "table_name",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class NftError(RuntimeError):
    """``nft`` refused the ruleset; the message carries its output."""


@dataclasses.dataclass
class InstanceFilter:
    """What one instance's filter holds."""

    instance_uuid: UUID
    taps: list[str]
    rules: list[SecurityGroupRule]
    group_ids: list[int]
    addresses: list[IPAddress]


def table_name(host: str) -> str:
    """The host's table (``cumulo_<slug>``)."""
    slug = "".join(c if c.isalnum() else "_" for c in host)[:20]
    return f"cumulo_{slug}_{hashlib.sha1(host.encode()).hexdigest()[:6]}"


def _rule_text(
    rule: SecurityGroupRule, group_members: Mapping[int, Sequence[IPAddress]]
) -> list[str]:
    family = "ip" if rule.ethertype is EtherType.IPV4 else "ip6"
    peer = "saddr" if rule.direction is Direction.INGRESS else "daddr"
    matches = ["ether type ip" if family == "ip" else "ether type ip6"]
    if rule.cidr is not None:
        if (rule.cidr.version == 4) != (family == "ip"):
            return []
        matches.append(f"{family} {peer} {rule.cidr}")
    if rule.remote_group_id is not None:
        members = [
            a
            for a in group_members.get(rule.remote_group_id, [])
            if (a.version == 4) == (family == "ip")
        ]
        if not members:
            return []
        matches.append(f"{family} {peer} {{ {', '.join(str(a) for a in sorted(members))} }}")
    if rule.protocol is Protocol.ANY:
        pass  # every protocol: the addresses alone decide
    elif rule.protocol is Protocol.ICMP:
        icmp = "icmp" if family == "ip" else "icmpv6"
        matches.append(f"meta l4proto {icmp}")
        if rule.from_port is not None:
            matches.append(f"{icmp} type {rule.from_port}")
    else:
        proto = str(rule.protocol)
        if rule.from_port is None and rule.to_port is None:
            matches.append(f"meta l4proto {proto}")
        else:
            low = rule.from_port if rule.from_port is not None else 0
            high = rule.to_port if rule.to_port is not None else 65535
            ports = str(low) if low == high else f"{low}-{high}"
            matches.append(f"{proto} dport {ports}")
    return [" ".join(matches) + " accept"]


def _chain(uuid_: UUID, direction: str) -> str:
    return f"i{uuid_.hex[:12]}_{direction}"


def render_table(host: str, filters: Iterable[InstanceFilter], *, stateful: bool = True) -> str:
    """The ``nft -f`` script that replaces the host's table with ``filters``;
    ``stateful`` lets replies through by conntrack (when the kernel has bridge
    conntrack; without it the filter is stateless)."""
    filters = list(filters)
    members: dict[int, list[IPAddress]] = {}
    for filt in filters:
        for group_id in filt.group_ids:
            members.setdefault(group_id, []).extend(filt.addresses)
    name = table_name(host)
    lines = [f"table bridge {name}", f"delete table bridge {name}", f"table bridge {name} {{"]
    dispatch: list[str] = []
    for filt in filters:
        for direction, want in (("in", Direction.INGRESS), ("out", Direction.EGRESS)):
            rules = [r for r in filt.rules if r.direction is want]
            lines.append(f"  chain {_chain(filt.instance_uuid, direction)} {{")
            if stateful:
                lines.append("    ct state established,related accept")
            if want is Direction.EGRESS and not rules:
                lines.append("    accept")
            else:
                # ARP and DHCP keep the guest reachable and addressed whatever the rules say.
                lines.append("    ether type arp accept")
                if want is Direction.INGRESS:
                    lines.append("    udp sport 67 udp dport 68 accept")
                else:
                    lines.append("    udp sport 68 udp dport 67 accept")
                for rule in rules:
                    lines.extend(f"    {text}" for text in _rule_text(rule, members))
                lines.append("    drop")
            lines.append("  }")
        for tap in filt.taps:
            dispatch.append(f'    oifname "{tap}" jump {_chain(filt.instance_uuid, "in")}')
            dispatch.append(f'    iifname "{tap}" jump {_chain(filt.instance_uuid, "out")}')
    lines.append("  chain forward {")
    lines.append("    type filter hook forward priority 0; policy accept;")
    lines.extend(dispatch)
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def nft_available() -> str | None:
    """``None`` when ``nft`` can change this host's ruleset, else why not."""
    binary = shutil.which("nft")
    if binary is None:
        return "nft not found on PATH (install nftables: scripts/system-deps.sh)"
    probe = "table bridge cumulo_probe\ndelete table bridge cumulo_probe\n"
    result = subprocess.run(
        [binary, "-f", "-"], input=probe, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return f"nft cannot change the ruleset: {result.stderr.strip()}"
    return None


def conntrack_available() -> bool:
    """Whether bridge-family rules may match conntrack state on this kernel."""
    binary = shutil.which("nft")
    if binary is None:
        return False
    probe = (
        "table bridge cumulo_probe\ndelete table bridge cumulo_probe\n"
        "table bridge cumulo_probe { chain c { ct state established accept; } }\n"
        "delete table bridge cumulo_probe\n"
    )
    result = subprocess.run(
        [binary, "-f", "-"], input=probe, capture_output=True, text=True, check=False
    )
    return result.returncode == 0


def apply_ruleset(script: str) -> None:
    """Load ``script`` with ``nft -f -`` (one atomic transaction)."""
    binary = shutil.which("nft") or "nft"
    result = subprocess.run(
        [binary, "-f", "-"], input=script, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise NftError(f"nft -f: {result.stderr.strip()}\n--- script ---\n{script}")


def delete_table(host: str) -> None:
    """Remove the host's table if present."""
    name = table_name(host)
    apply_ruleset(f"table bridge {name}\ndelete table bridge {name}\n")
