"""Host side of guest NICs: tap devices on Linux bridges, through pyroute2.

When this process may not create links (no CAP_NET_ADMIN, no /dev/net/tun), the
driver falls back to QEMU user networking and this module is not used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pyroute2 import IPRoute

__all__ = ["NetdevError", "TapManager", "tap_name"]


class NetdevError(RuntimeError):
    """A bridge or tap could not be created or removed."""


def tap_name(host: str, vif_id: str) -> str:
    """The tap of one VIF on one host (15 characters at most, unique per host so two
    hosts on one machine can both hold the VIF during a live migration)."""
    salt = hashlib.sha1(host.encode()).hexdigest()[:4]
    return f"cq{salt}{vif_id.replace('-', '')[:9]}"


class TapManager:
    """Creates and removes bridges and taps."""

    def probe(self) -> str | None:
        """``None`` when bridges and taps can be made here, else why not."""
        if not Path("/dev/net/tun").exists():
            return "/dev/net/tun is missing"
        name = "cqprobe0"
        try:
            with IPRoute() as ipr:
                ipr.link("add", ifname=name, kind="bridge")
                ipr.link("del", index=ipr.link_lookup(ifname=name)[0])
        except Exception as error:  # pyroute2 raises NetlinkError, OSError...
            return f"cannot create a bridge: {error}"
        return None

    def ensure_bridge(self, bridge: str) -> None:
        with IPRoute() as ipr:
            if not ipr.link_lookup(ifname=bridge):
                try:
                    ipr.link("add", ifname=bridge, kind="bridge")
                except Exception as error:
                    if not ipr.link_lookup(ifname=bridge):
                        raise NetdevError(f"bridge {bridge}: {error}") from error
            index = ipr.link_lookup(ifname=bridge)[0]
            ipr.link("set", index=index, state="up")

    def ensure_tap(self, tap: str, bridge: str, mtu: int | None = None) -> None:
        """The tap exists, is up, and sits on ``bridge`` (made if missing)."""
        self.ensure_bridge(bridge)
        with IPRoute() as ipr:
            try:
                if not ipr.link_lookup(ifname=tap):
                    ipr.link("add", ifname=tap, kind="tuntap", mode="tap")
                index = ipr.link_lookup(ifname=tap)[0]
                master = ipr.link_lookup(ifname=bridge)[0]
                ipr.link("set", index=index, master=master)
                if mtu:
                    ipr.link("set", index=index, mtu=mtu)
                ipr.link("set", index=index, state="up")
            except NetdevError:
                raise
            except Exception as error:
                raise NetdevError(f"tap {tap} on {bridge}: {error}") from error

    def remove_tap(self, tap: str) -> None:
        with IPRoute() as ipr:
            found = ipr.link_lookup(ifname=tap)
            if found:
                try:
                    ipr.link("del", index=found[0])
                except Exception as error:
                    if ipr.link_lookup(ifname=tap):
                        raise NetdevError(f"tap {tap}: {error}") from error

    def exists(self, tap: str) -> bool:
        with IPRoute() as ipr:
            return bool(ipr.link_lookup(ifname=tap))

    def counters(self, tap: str) -> dict[str, int]:
        """The tap's kernel counters (``/sys/class/net/<tap>/statistics``)."""
        stats = Path("/sys/class/net") / tap / "statistics"
        result: dict[str, int] = {}
        if stats.is_dir():
            for entry in stats.iterdir():
                try:
                    result[entry.name] = int(entry.read_text().strip())
                except (OSError, ValueError):
                    continue
        return result
