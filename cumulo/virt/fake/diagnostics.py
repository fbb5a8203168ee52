"""What the fake hypervisor reports about a guest: its info, its diagnostics counters
(running time times the rates of :mod:`.guest`, plus what operations added), its console."""

from __future__ import annotations

from cumulo.model import (
    CpuDiagnostics,
    Diagnostics,
    DiskDiagnostics,
    Instance,
    InstanceInfo,
    MemoryDiagnostics,
    NicDiagnostics,
    PowerState,
)

from .. import common
from .base import FakeBase, failure_point
from .guest import (
    CPU_UTILISATION,
    DISK_READ_BYTES_PER_S,
    DISK_WRITE_BYTES_PER_S,
    IO_REQUEST_BYTES,
    MEMORY_USED_FRACTION,
    NIC_RX_BYTES_PER_S,
    NIC_TX_BYTES_PER_S,
    PACKET_BYTES,
    Guest,
)


class FakeDiagnostics(FakeBase):
    """Report a guest's info, diagnostics and console output."""

    @failure_point
    def get_info(self, instance: Instance) -> InstanceInfo:
        """See :meth:`ComputeDriver.get_info`."""
        guest = self._runs_here(instance.uuid, "get info of", reading=True)
        run_s = self._run_seconds(guest)
        per_cpu = _cpu_ns(run_s)
        return InstanceInfo(
            state=guest.power_state,
            internal_id=guest.internal_id,
            max_mem_kb=guest.claim.memory_mb * 1024,
            mem_kb=_memory_used_mb(guest) * 1024,
            num_cpu=guest.claim.vcpus,
            cpu_time_ns=per_cpu * guest.claim.vcpus,
        )

    @failure_point
    def get_diagnostics(self, instance: Instance) -> Diagnostics:
        """See :meth:`ComputeDriver.get_diagnostics`."""
        guest = self._runs_here(instance.uuid, "get diagnostics of", reading=True)
        return self._diagnostics(guest)

    @failure_point
    def get_console_output(self, instance: Instance, tail_lines: int | None = None) -> str:
        """See :meth:`ComputeDriver.get_console_output`: the lines the fake guest
        printed (the last :data:`CONSOLE_LINES` are kept).

        Raises:
            ValueError: ``tail_lines`` is negative.
        """
        common.check_tail_lines(tail_lines)
        guest = self._runs_here(instance.uuid, "read the console of", reading=True)
        lines = list(guest.console)
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines else []
        return "".join(f"{line}\n" for line in lines)

    def _diagnostics(self, guest: Guest) -> Diagnostics:
        run_s = self._run_seconds(guest)
        running = guest.power_state is PowerState.RUNNING
        per_cpu = _cpu_ns(run_s)
        cpus = [
            CpuDiagnostics(
                id=i, time=per_cpu, utilisation=int(CPU_UTILISATION * 100) if running else 0
            )
            for i in range(guest.claim.vcpus)
        ]
        nics = []
        for vif in guest.network_info:
            rx_b, rx_p, tx_b, tx_p = guest.nic_extra.get(vif.id, [0, 0, 0, 0])
            rx = int(run_s * NIC_RX_BYTES_PER_S)
            tx = int(run_s * NIC_TX_BYTES_PER_S)
            nics.append(
                NicDiagnostics(
                    mac_address=vif.address,
                    rx_octets=rx + rx_b,
                    rx_packets=rx // PACKET_BYTES + rx_p,
                    rx_rate=NIC_RX_BYTES_PER_S if running else 0,
                    tx_octets=tx + tx_b,
                    tx_packets=tx // PACKET_BYTES + tx_p,
                    tx_rate=NIC_TX_BYTES_PER_S if running else 0,
                )
            )
        disks = []
        if not guest.volume_backed:
            disks.append(_disk("vda", run_s, guest.boot_read_bytes))
        for (inst, _), conn in sorted(self._connections.items()):
            if inst == guest.uuid:
                since = max(0.0, run_s - conn.attached_at_run_s)
                device = conn.mountpoint.removeprefix("/dev/")
                disks.append(_disk(device, since, 0, read_only=conn.read_only))
        if guest.files or guest.config_drive or guest.config_write_bytes:
            disks.append(
                DiskDiagnostics(
                    device="config",
                    read_bytes=guest.boot_count * guest.config_write_bytes,
                    read_requests=guest.boot_count,
                    write_bytes=guest.config_write_bytes,
                    write_requests=guest.config_write_requests,
                )
            )
        uptime = self._uptime(guest)
        return Diagnostics(
            state=guest.power_state,
            driver=self.driver_name,
            hypervisor="fake",
            hypervisor_os="linux",
            uptime=None if uptime is None else int(uptime),
            config_drive=guest.config_drive or bool(guest.files),
            memory_details=MemoryDiagnostics(
                maximum=guest.claim.memory_mb, used=_memory_used_mb(guest)
            ),
            cpu_details=cpus,
            nic_details=nics,
            disk_details=disks,
        )


def _disk(
    device: str, run_s: float, extra_read: int, *, read_only: bool = False
) -> DiskDiagnostics:
    read = int(run_s * DISK_READ_BYTES_PER_S) + extra_read
    # A read-only disk refuses the guest's writes: nothing is ever written.
    write = 0 if read_only else int(run_s * DISK_WRITE_BYTES_PER_S)
    return DiskDiagnostics(
        device=device,
        read_bytes=read,
        read_requests=read // IO_REQUEST_BYTES,
        write_bytes=write,
        write_requests=write // IO_REQUEST_BYTES,
    )


def _cpu_ns(run_s: float) -> int:
    return int(run_s * CPU_UTILISATION * 1_000_000_000)


def _memory_used_mb(guest: Guest) -> int:
    if guest.power_state in (PowerState.RUNNING, PowerState.PAUSED):
        return int(guest.claim.memory_mb * MEMORY_USED_FRACTION)
    return 0
