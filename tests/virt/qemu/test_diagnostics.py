"""get_diagnostics from QMP statistics, changing as the guest runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cumulo.model import ImageMeta, PowerState
from cumulo.virt.exceptions import InstanceNotFound

from ..builders import Ctx
from .conftest import volume_bdm, wait_until


def _disk(diagnostics, device):
    return next(d for d in diagnostics.disk_details if d.device == device)


def test_counters_come_from_qemu_and_grow(host_a, instance, network_info, volumes):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    info = volume_bdm(volumes, host_a, instance).connection_info
    assert info is not None
    host_a.attach_volume(Ctx(), info, instance, "/dev/sdb")
    first = host_a.get_diagnostics(instance)
    assert first.state is PowerState.RUNNING
    assert first.driver == "qemu" and first.hypervisor == host_a.accel
    assert first.num_cpus == 1 and first.num_nics == 1
    assert {d.device for d in first.disk_details} == {"vda", "config", "sdb"}
    assert first.memory_details.maximum == 64
    assert 0 < first.memory_details.used <= 64
    # The probe guest reads its boot disk five times a second.
    wait_until(
        lambda: (
            _disk(host_a.get_diagnostics(instance), "vda").read_requests
            > _disk(first, "vda").read_requests + 3
        ),
        what="root disk reads to grow",
    )
    wait_until(
        lambda: host_a.get_diagnostics(instance).cpu_details[0].time > first.cpu_details[0].time,
        what="vCPU time to grow",
    )
    # NIC counters are the tap's kernel counters, seen from the guest (tap tx = guest rx).
    tap = host_a.describe_guest(instance.uuid).taps[0]
    stats = Path("/sys/class/net") / tap / "statistics"
    after = host_a.get_diagnostics(instance).nic_details[0]
    assert after.rx_octets == int((stats / "tx_bytes").read_text())
    assert after.tx_octets == int((stats / "rx_bytes").read_text())
    assert str(after.mac_address) == str(network_info.objects[0].address)


def test_get_info_cpu_time_grows_and_unknown_guest_raises(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    start = host_a.get_info(instance).cpu_time_ns
    wait_until(lambda: host_a.get_info(instance).cpu_time_ns > start, what="cpu time")
    host_a.destroy(Ctx(), instance, network_info)
    with pytest.raises(InstanceNotFound):
        host_a.get_diagnostics(instance)
