"""Tests of cumulo/model/diagnostics.py and cumulo/model/instance_info.py."""

import pytest

from cumulo.model import (
    CpuDiagnostics,
    Diagnostics,
    DiskDiagnostics,
    InstanceInfo,
    MemoryDiagnostics,
    NicDiagnostics,
    PowerState,
)
from cumulo.objects import FieldValueError


def fake_diagnostics() -> Diagnostics:
    return Diagnostics(
        state=PowerState.RUNNING,
        driver="fake",
        hypervisor="fake",
        hypervisor_os="linux",
        uptime=46664,
        memory_details=MemoryDiagnostics(maximum=512, used=0),
        cpu_details=[CpuDiagnostics(id=0, time=17300000000, utilisation=15)],
        nic_details=[NicDiagnostics(mac_address="01:23:45:67:89:AB", rx_octets=2070139)],
        disk_details=[DiskDiagnostics(device="vda", read_bytes=262144, read_requests=112)],
    )


def test_counts_are_derived():
    diag = fake_diagnostics()
    assert (diag.num_cpus, diag.num_nics, diag.num_disks) == (1, 1, 1)
    for name in ("num_cpus", "num_nics", "num_disks"):
        assert name not in Diagnostics.obj_fields()
    assert diag.nic_details[0].mac_address == "01:23:45:67:89:ab"


def test_round_trip_and_defaults():
    diag = fake_diagnostics()
    assert Diagnostics.obj_from_json(diag.obj_to_json()) == diag
    empty = Diagnostics(state=0, driver="qemu")
    assert empty.state is PowerState.NOSTATE
    assert (empty.memory_details.maximum, empty.num_cpus, empty.config_drive) == (0, 0, False)


def test_instance_info():
    info = InstanceInfo(state=1, internal_id="42", max_mem_kb=524288, num_cpu=2)
    assert info.state is PowerState.RUNNING
    assert (info.mem_kb, info.cpu_time_ns) == (0, 0)
    with pytest.raises(FieldValueError, match=r"InstanceInfo\.state"):
        InstanceInfo(state="running")
