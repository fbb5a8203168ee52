"""The QEMU host itself: what ``init_host`` finds (QEMU, accelerator, taps, nftables),
its guests, capacity and address, and the views and shutdown tests and tools use."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

from cumulo.model import Architecture, AvailableResource

from .. import common
from ..config import IPAddress
from ..exceptions import HypervisorUnavailable, InstanceNotFound
from . import images, nftables, process
from .base import QemuBase
from .guest import GuestPhase, QemuGuestView
from .monitor import Monitor


def _accel_usable(kind: str, binary: str) -> bool:
    if kind == "tcg":
        return True
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        result = subprocess.run(
            [
                binary,
                "-machine",
                "none,accel=kvm",
                "-nodefaults",
                "-display",
                "none",
                "-S",
                "-qmp",
                "stdio",
            ],
            input=b'{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n',
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def kvm_usable(binary: str | None = None) -> bool:
    """Whether QEMU can open KVM here."""
    try:
        return _accel_usable("kvm", binary or process.find_qemu())
    except process.QemuNotInstalled:
        return False


class QemuHost(QemuBase):
    """Start-up, inventory and capacity of the QEMU host; views for tests and tools."""

    def init_host(self, host: str) -> None:
        """See :meth:`ComputeDriver.init_host`: finds QEMU, picks the accelerator,
        the networking and the firewall this host allows.

        Raises:
            HypervisorUnavailable: QEMU or qemu-img is not installed.
        """
        if host != self.host:
            raise ValueError(f"init_host: this driver serves {self.host!r}, not {host!r}")
        with self._lock:
            try:
                self._binary = process.find_qemu(self._qemu_name)
                images.qemu_img("--version")
            except (process.QemuNotInstalled, images.ImageError) as error:
                raise HypervisorUnavailable(self.host, str(error)) from error
            version = subprocess.run(
                [self._binary, "--version"], capture_output=True, text=True, check=False
            ).stdout.split()
            numbers = version[3].split(".") if len(version) > 3 else ["0"]
            self._qemu_version = tuple(int(n) for n in ([*numbers, "0", "0"])[:3])  # type: ignore[assignment]
            if self._accel_wanted == "auto":
                self.accel = "kvm" if _accel_usable("kvm", self._binary) else "tcg"
                if self.accel == "tcg":
                    self.unavailable["kvm"] = "/dev/kvm is missing or QEMU cannot use it"
            else:
                if not _accel_usable(self._accel_wanted, self._binary):
                    raise HypervisorUnavailable(
                        self.host, f"accelerator {self._accel_wanted} unusable"
                    )
                self.accel = self._accel_wanted
            self.network_mode = self._choose(
                self._network_wanted, "tap", "user", self._taps.probe, "tap", "tap networking"
            )
            self.firewall_mode = self._choose(
                self._firewall_wanted,
                "nft",
                "render",
                nftables.nft_available,
                "nftables",
                "nftables",
            )
            if self.firewall_mode == "nft":
                self.firewall_stateful = nftables.conntrack_available()
                if not self.firewall_stateful:
                    self.unavailable["conntrack"] = "no bridge conntrack: filters are stateless"
            if self.network_mode == "user":
                self.unavailable.setdefault(
                    "filtering",
                    "user networking bypasses the host's netfilter: rules are not enforced",
                )
            self._instances.mkdir(parents=True, exist_ok=True)
            self._run.mkdir(parents=True, exist_ok=True)
            self._ready = True

    def _choose(
        self,
        wanted: str,
        preferred: str,
        fallback: str,
        why_not: Callable[[], str | None],
        key: str,
        what: str,
    ) -> str:
        """The mode ``wanted`` (``preferred``, ``fallback`` or ``"auto"``): the
        preferred one unless ``why_not()`` says why this host cannot have it (noted in
        :attr:`unavailable` under ``key``), which is an error when it was asked for."""
        reason = None if wanted == fallback else why_not()
        if wanted == preferred and reason:
            raise HypervisorUnavailable(self.host, f"{what}: {reason}")
        if reason:
            self.unavailable[key] = reason
        return preferred if wanted != fallback and not reason else fallback

    def list_instances(self) -> list[str]:
        """See :meth:`ComputeDriver.list_instances`."""
        with self._lock:
            return [g.name for g in self._guests.values() if g.phase is GuestPhase.ACTIVE]

    def list_instance_uuids(self) -> list[UUID]:
        """See :meth:`ComputeDriver.list_instance_uuids`."""
        with self._lock:
            return [g.uuid for g in self._guests.values() if g.phase is GuestPhase.ACTIVE]

    def get_available_resource(self) -> AvailableResource:
        """See :meth:`ComputeDriver.get_available_resource`."""
        with self._lock:
            cap = self._capacity()
            used = self._used()
            major, minor, micro = self._qemu_version
            return common.available_resource(
                self.host,
                common.Resources(*cap),
                common.Resources(*used),
                hypervisor_type="QEMU" if self.accel != "kvm" else "KVM",
                hypervisor_version=major * 1_000_000 + minor * 1_000 + micro,
                cpu_info=self._cpu_info(),
                host_ip=self._host_ip,
                arch=Architecture.X86_64,
                supported_hypervisor_type="qemu",
            )

    def get_host_ip_addr(self) -> IPAddress:
        """See :meth:`ComputeDriver.get_host_ip_addr`."""
        return self._host_ip

    def describe_guest(self, instance_uuid: UUID) -> QemuGuestView:
        with self._lock:
            guest = self._guests.get(instance_uuid)
            if guest is None:
                raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
            return QemuGuestView(
                uuid=guest.uuid,
                phase=guest.phase,
                pid=guest.process.pid if guest.alive() and guest.process else None,
                qmp_path=guest.monitor.path if guest.monitor else None,
                directory=guest.directory,
                console_path=guest.console,
                config_drive_path=guest.config_drive,
                taps=tuple(guest.taps.values()),
                volume_nodes=tuple(v.ident for v in guest.volumes.values()),
            )

    def monitor(self, instance_uuid: UUID) -> Monitor:
        """The QMP monitor of a guest whose process runs here."""
        with self._lock:
            guest = self._guests.get(instance_uuid)
            if guest is None or guest.monitor is None or not guest.alive():
                raise InstanceNotFound(instance_uuid=str(instance_uuid), host=self.host)
            return guest.monitor

    @property
    def ruleset(self) -> str:
        """The nftables script last generated for this host."""
        with self._lock:
            return self._ruleset

    @property
    def instances_path(self) -> Path:
        return self._instances

    def shutdown(self) -> None:
        """Stop every QEMU process of this driver and remove its taps and its
        nftables table: the guests of a QEMU host are children of this process and
        end with it (see :meth:`HostDriver.shutdown`)."""
        with self._lock:
            for guest in list(self._guests.values()):
                self._stop_process(guest)
                self._unplug_all(guest)
            self._guests.clear()
            self._filters.clear()
            if self.firewall_mode == "nft":
                with contextlib.suppress(nftables.NftError):
                    nftables.delete_table(self.host)
