"""A guest as the QEMU driver holds it (phase, record, read-only view), and the small
facts and waits about it: QMP run states, polling a monitor, LUNs, ports, ``/proc``."""

from __future__ import annotations

import dataclasses
import enum
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from cumulo.model import (
    DeviceType,
    DiskBus,
    InjectedFile,
    Instance,
    NetworkInfo,
    PowerState,
    VolumeConnectionInfo,
)

from ..exceptions import DeviceInUse, VirtDriverError
from .monitor import Monitor, MonitorError, MonitorSession

MIB: Final = 1024**2
GIB: Final = 1024**3
CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


class GuestPhase(enum.StrEnum):
    ACTIVE = "active"
    """Defined on this host (running, paused, shut down or suspended)."""
    INCOMING = "incoming"
    """``pre_live_migration`` started a QEMU waiting for the guest."""
    DEPARTED = "departed"
    """Live-migrated away; leftovers await the post steps and cleanup."""


@dataclasses.dataclass
class Volume:
    volume_id: UUID
    mountpoint: str
    connection_info: VolumeConnectionInfo
    ident: str
    lun: int
    disk_bus: DiskBus | None
    device_type: DeviceType | None
    boot: bool = False


@dataclasses.dataclass
class Filter:
    rules: list[Any]
    group_ids: list[int]
    network_info: NetworkInfo


@dataclasses.dataclass
class Guest:
    uuid: UUID
    name: str
    directory: Path
    phase: GuestPhase
    vcpus: int
    memory_mb: int
    disk_gb: int
    volume_backed: bool
    instance: Instance
    network_info: NetworkInfo
    files: dict[str, InjectedFile] = dataclasses.field(default_factory=dict)
    admin_pass_hash: str | None = None
    volumes: dict[UUID, Volume] = dataclasses.field(default_factory=dict)
    taps: dict[UUID, str] = dataclasses.field(default_factory=dict)
    """VIF id → tap plugged on this host (VIFs on user networking have none)."""
    process: subprocess.Popen[bytes] | None = None
    monitor: Monitor | None = None
    started_at: float | None = None
    suspended: bool = False
    incoming_port: int | None = None
    config_writes: int = 0

    @property
    def root_disk(self) -> Path:
        return self.directory / "disk.qcow2"

    @property
    def config_drive(self) -> Path:
        return self.directory / "config.iso"

    @property
    def console(self) -> Path:
        return self.directory / "console.log"

    @property
    def saved_state(self) -> Path:
        return self.directory / "suspended.state"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclasses.dataclass(frozen=True)
class QemuGuestView:
    """A read-only view of one guest (for tests, benchmarks and the demo)."""

    uuid: UUID
    phase: GuestPhase
    pid: int | None
    qmp_path: Path | None
    directory: Path
    console_path: Path
    config_drive_path: Path
    taps: tuple[str, ...]
    volume_nodes: tuple[str, ...]


STATUS: Final = {
    "running": PowerState.RUNNING,
    "paused": PowerState.PAUSED,
    "prelaunch": PowerState.PAUSED,
    "inmigrate": PowerState.PAUSED,
    "postmigrate": PowerState.PAUSED,
    "finish-migrate": PowerState.PAUSED,
    "save-vm": PowerState.PAUSED,
    "restore-vm": PowerState.PAUSED,
    "debug": PowerState.PAUSED,
    "suspended": PowerState.SUSPENDED,
    "shutdown": PowerState.SHUTDOWN,
    "internal-error": PowerState.CRASHED,
    "io-error": PowerState.CRASHED,
    "guest-panicked": PowerState.CRASHED,
    "watchdog": PowerState.CRASHED,
}


def poll(
    qmp: MonitorSession,
    probe: Any,
    timeout: float,
    what: str,
    interval: float = 0.05,
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = probe(qmp)
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise MonitorError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def wait_migration(qmp: MonitorSession, timeout: float) -> dict[str, Any]:
    def done(s: MonitorSession) -> dict[str, Any] | None:
        info: dict[str, Any] = s.cmd("query-migrate")
        return info if info.get("status") in ("completed", "failed", "cancelled") else None

    result: dict[str, Any] = poll(qmp, done, timeout, "the migration to finish")
    return result


def vif_ident(vif_id: UUID) -> str:
    return vif_id.hex[:16]


def lun_of(mount: str) -> int:
    """``/dev/sdb`` → 1 (LUN 0 is the config drive)."""
    name = mount.removeprefix("/dev/")
    letters = name[2:] if name[:2] in ("sd", "vd", "hd", "xv") else name[-1:]
    index = 0
    for char in letters:
        if not char.isalpha():
            raise ValueError(f"mountpoint {mount!r}: expected a name such as /dev/sdb")
        index = index * 26 + (ord(char.lower()) - ord("a") + 1)
    lun = index - 1
    if lun < 1:
        raise DeviceInUse("-", mount, "the root disk or config drive")
    return lun


def free_port_pair(address: str) -> int:
    """A port ``p`` such that ``p`` and ``p + 1`` are free on ``address``."""
    for _ in range(200):
        with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as first:
            first.bind((address, 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket(first.family) as second:
                try:
                    second.bind((address, port + 1))
                except OSError:
                    continue
            return port
    raise VirtDriverError(f"no free pair of ports on {address}")


def shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def safe_child(root: Path, relative: str) -> Path:
    path = (root / relative).resolve()
    if root != path and root not in path.parents:
        raise ValueError(f"path {relative!r} leaves {root}")
    return path


def meminfo_mb(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    return 0


def rss_kb(guest: Guest) -> int:
    if guest.process is None:
        return 0
    try:
        for line in Path(f"/proc/{guest.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def instance_root_bytes(instance: Instance) -> int | None:
    """The root disk size the instance asks for (``None``: the image's own)."""
    root_gb = instance.size().root_gb
    return root_gb * GIB if root_gb else None
