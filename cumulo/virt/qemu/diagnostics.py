"""What QEMU reports about a guest: its run state and vCPU time, block and NIC
counters, memory, and the serial console log."""

from __future__ import annotations

import time

from cumulo.model import Instance, InstanceInfo
from cumulo.model.diagnostics import (
    CpuDiagnostics,
    Diagnostics,
    DiskDiagnostics,
    MemoryDiagnostics,
    NicDiagnostics,
)

from . import console
from .base import QemuBase
from .guest import MIB, rss_kb


class QemuDiagnostics(QemuBase):
    """Report a guest's info, diagnostics and console output."""

    def get_info(self, instance: Instance) -> InstanceInfo:
        """See :meth:`ComputeDriver.get_info`: the QMP run state, and CPU time of
        the vCPU threads."""
        with self._lock:
            guest = self._active(instance.uuid, "get info of")
            state = self._power_state(guest)
            cpu_ns = 0
            mem_kb = 0
            if guest.alive():
                cpu_ns = sum(self._vcpu_times(guest).values())
                mem_kb = min(guest.memory_mb * 1024, rss_kb(guest))
            return InstanceInfo(
                state=state,
                internal_id=str(guest.process.pid) if guest.alive() and guest.process else None,
                max_mem_kb=guest.memory_mb * 1024,
                mem_kb=mem_kb,
                num_cpu=guest.vcpus,
                cpu_time_ns=cpu_ns,
            )

    def get_diagnostics(self, instance: Instance) -> Diagnostics:
        """See :meth:`ComputeDriver.get_diagnostics`: vCPU thread times
        (``query-cpus-fast`` + ``/proc``), ``query-blockstats`` per disk, tap counters
        per NIC, ``query-balloon`` and the process RSS for memory."""
        with self._lock:
            guest = self._active(instance.uuid, "get diagnostics of")
            state = self._power_state(guest)
            cpus: list[CpuDiagnostics] = []
            disks: list[DiskDiagnostics] = []
            memory = MemoryDiagnostics(maximum=guest.memory_mb, used=0)
            if guest.alive():
                assert guest.monitor is not None
                times = self._vcpu_times(guest)
                cpus = [CpuDiagnostics(id=i, time=t) for i, t in sorted(times.items())]
                with guest.monitor.session() as qmp:
                    stats = qmp.cmd("query-blockstats")
                    balloon = qmp.cmd("query-balloon")
                names = {"root-disk": "vda", "config-cd": "config"}
                names.update(
                    {v.ident: v.mountpoint.removeprefix("/dev/") for v in guest.volumes.values()}
                )
                for entry in stats:
                    qdev = str(entry.get("qdev", ""))
                    ident = qdev.rsplit("/", 2)[-2] if qdev.endswith("/virtio-backend") else qdev
                    if ident not in names:
                        continue
                    s = entry["stats"]
                    disks.append(
                        DiskDiagnostics(
                            device=names[ident],
                            read_bytes=s["rd_bytes"],
                            read_requests=s["rd_operations"],
                            write_bytes=s["wr_bytes"],
                            write_requests=s["wr_operations"],
                            errors_count=s.get("failed_rd_operations", 0)
                            + s.get("failed_wr_operations", 0),
                        )
                    )
                used_mb = min(guest.memory_mb, rss_kb(guest) // 1024)
                memory = MemoryDiagnostics(maximum=int(balloon["actual"]) // MIB, used=used_mb)
            nics = []
            for vif in guest.network_info:
                tap = guest.taps.get(vif.id)
                c = self._taps.counters(tap) if tap else {}
                # The tap's transmit is the guest's receive.
                nics.append(
                    NicDiagnostics(
                        mac_address=vif.address,
                        rx_octets=c.get("tx_bytes", 0),
                        rx_packets=c.get("tx_packets", 0),
                        rx_errors=c.get("tx_errors", 0),
                        rx_drop=c.get("tx_dropped", 0),
                        tx_octets=c.get("rx_bytes", 0),
                        tx_packets=c.get("rx_packets", 0),
                        tx_errors=c.get("rx_errors", 0),
                        tx_drop=c.get("rx_dropped", 0),
                    )
                )
            return Diagnostics(
                state=state,
                driver=self.driver_name,
                hypervisor=self.accel,
                hypervisor_os="linux",
                uptime=int(time.monotonic() - guest.started_at)
                if guest.started_at and guest.alive()
                else None,
                config_drive=True,
                memory_details=memory,
                cpu_details=cpus,
                nic_details=nics,
                disk_details=disks,
            )

    def get_console_output(self, instance: Instance, tail_lines: int | None = None) -> str:
        """See :meth:`ComputeDriver.get_console_output`: the end of the guest's serial
        console log (``console.log`` in its instance directory, appended to by every
        QEMU process the guest had here), at most
        :data:`~cumulo.virt.qemu.console.CONSOLE_MAX_BYTES` of it; ``\r\n`` become
        ``\n``, and the last line may be one the guest is still writing.

        Raises:
            InstanceNotFound: no such guest on this host (or not arrived yet).
            ValueError: ``tail_lines`` is negative.
        """
        with self._lock:
            guest = self._active(instance.uuid, "read the console of")
            path = guest.console
        return console.read_console(path, tail_lines)
