"""Starting and stopping one QEMU process: the command line of a guest, the launch,
and the hard stop. What runs inside is driven over QMP (:mod:`.monitor`)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Final

__all__ = [
    "BIN",
    "GuestSpec",
    "NicSpec",
    "QemuNotInstalled",
    "VolumeSpec",
    "command_line",
    "find_qemu",
    "launch",
    "pid_alive",
    "terminate",
]

BIN: Final = "qemu-system-x86_64"
MACHINE: Final = "q35"
NIC_PORTS: Final = 4
"""PCIe root ports for NICs: the most VIFs a guest can have."""


class QemuNotInstalled(RuntimeError):
    """``qemu-system-x86_64`` is not on PATH."""


def find_qemu(binary: str = BIN) -> str:
    found = shutil.which(binary)
    if found is None:
        raise QemuNotInstalled(
            f"{binary} not found on PATH: install qemu-system-x86 and qemu-utils "
            "(scripts/system-deps.sh does it)"
        )
    return found


@dataclasses.dataclass(frozen=True)
class NicSpec:
    """One guest NIC: ``tap`` set means a host tap, else QEMU user networking."""

    ident: str
    mac: str
    tap: str | None = None


@dataclasses.dataclass(frozen=True)
class VolumeSpec:
    """One volume on the guest's virtio-scsi controller."""

    ident: str
    path: str
    serial: str
    lun: int
    read_only: bool = False
    boot: bool = False


@dataclasses.dataclass(frozen=True)
class GuestSpec:
    """Everything the QEMU command line of a guest depends on. Two processes made
    from equal specs (but for ``incoming``) can live-migrate into each other."""

    name: str
    uuid: str
    accel: str
    cpu_model: str
    vcpus: int
    memory_mb: int
    qmp_path: Path
    console_path: Path
    log_path: Path
    root_disk: Path | None
    config_drive: Path | None
    nics: tuple[NicSpec, ...] = ()
    volumes: tuple[VolumeSpec, ...] = ()
    kernel: Path | None = None
    initrd: Path | None = None
    kernel_cmdline: str = "console=ttyS0"
    incoming: bool = False
    """Start with ``-incoming defer -S``: wait for a migration (or a saved state)."""


def command_line(binary: str, spec: GuestSpec) -> list[str]:
    """The argv of the guest's QEMU process."""
    argv = [
        binary,
        "-name",
        f"guest={spec.name},debug-threads=on",
        "-uuid",
        spec.uuid,
        "-machine",
        f"{MACHINE},accel={spec.accel}",
        "-cpu",
        spec.cpu_model,
        "-smp",
        str(spec.vcpus),
        "-m",
        str(spec.memory_mb),
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-chardev",
        f"socket,id=qmp,path={spec.qmp_path},server=on,wait=off",
        "-mon",
        "chardev=qmp,mode=control",
        "-chardev",
        f"file,id=console,path={spec.console_path},append=on",
        "-serial",
        "chardev:console",
        "-device",
        "virtio-scsi-pci,id=scsi0",
        "-device",
        "virtio-balloon-pci,id=balloon0",
    ]
    if spec.root_disk is not None:
        argv += [
            "-blockdev",
            f"driver=file,filename={spec.root_disk},node-name=root-file",
            "-blockdev",
            "driver=qcow2,file=root-file,node-name=root",
            "-device",
            "virtio-blk-pci,drive=root,id=root-disk,bootindex=1",
        ]
    if spec.config_drive is not None:
        argv += [
            "-blockdev",
            f"driver=file,filename={spec.config_drive},node-name=config-file",
            "-blockdev",
            "driver=raw,file=config-file,node-name=config",
            "-device",
            "scsi-cd,bus=scsi0.0,channel=0,scsi-id=0,lun=0,drive=config,id=config-cd",
        ]
    for vol in spec.volumes:
        ro = "on" if vol.read_only else "off"
        argv += [
            "-blockdev",
            f"driver=file,filename={vol.path},node-name={vol.ident}-file,read-only={ro}",
            "-blockdev",
            f"driver=raw,file={vol.ident}-file,node-name={vol.ident},read-only={ro}",
            "-device",
            f"scsi-hd,bus=scsi0.0,channel=0,scsi-id=0,lun={vol.lun},drive={vol.ident},"
            f"id={vol.ident},serial={vol.serial[:36]}" + (",bootindex=1" if vol.boot else ""),
        ]
    # Each NIC sits on a PCIe root port of its own (port i for NIC i), so NICs can
    # be hot-added and a migration's destination lays them out the same way.
    for port in range(NIC_PORTS):
        argv += ["-device", f"pcie-root-port,id=nicport{port},chassis={port + 1},slot={port + 1}"]
    for index, nic in enumerate(spec.nics):
        if nic.tap is not None:
            argv += ["-netdev", f"tap,id=net-{nic.ident},ifname={nic.tap},script=no,downscript=no"]
        else:
            argv += ["-netdev", f"user,id=net-{nic.ident}"]
        argv += [
            "-device",
            f"virtio-net-pci,netdev=net-{nic.ident},mac={nic.mac},id=nic-{nic.ident},"
            f"bus=nicport{index}",
        ]
    if spec.kernel is not None:
        argv += ["-kernel", str(spec.kernel), "-append", spec.kernel_cmdline]
        if spec.initrd is not None:
            argv += ["-initrd", str(spec.initrd)]
    if spec.incoming:
        argv += ["-incoming", "defer", "-S"]
    return argv


def launch(binary: str, spec: GuestSpec) -> subprocess.Popen[bytes]:
    """Start the guest's QEMU process (in its own session, output to ``log_path``)."""
    for stale in (spec.qmp_path,):
        stale.unlink(missing_ok=True)
    spec.qmp_path.parent.mkdir(parents=True, exist_ok=True)
    with spec.log_path.open("ab") as log:
        process = subprocess.Popen(
            command_line(binary, spec),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    return process


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def terminate(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Stop the process: SIGTERM, then SIGKILL after ``timeout``; reaps it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if process.poll() is None:
            process.kill()
    process.wait()
