"""QemuDriver lifecycle against real QEMU: spawn, power operations, destroy, cleanup."""

from __future__ import annotations

import pytest

from cumulo.model import ImageMeta, PowerState, RebootType
from cumulo.virt.exceptions import (
    HypervisorUnavailable,
    InstanceExists,
    InstanceNotFound,
    InvalidPowerState,
)
from cumulo.virt.qemu import QemuConfig, QemuDriver
from cumulo.virt.qemu.images import GUEST_BOOT_MARKER, GUEST_TICK

from ..builders import Ctx
from .conftest import pid_alive, wait_until


def _status(driver, instance) -> str:
    return driver.monitor(instance.uuid).cmd("query-status")["status"]


def test_spawn_runs_a_qemu_process_that_executes_the_guest(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    view = host_a.describe_guest(instance.uuid)
    assert view.pid is not None and pid_alive(view.pid)
    assert _status(host_a, instance) == "running"
    assert (view.directory / "disk.qcow2").is_file()
    console = view.console_path
    wait_until(lambda: GUEST_BOOT_MARKER in console.read_text(), what="the boot marker")
    info = host_a.get_info(instance)
    assert info.state is PowerState.RUNNING
    assert info.num_cpu == 1 and info.max_mem_kb == 64 * 1024
    assert info.internal_id == str(view.pid)
    assert host_a.list_instances() == [instance.name]
    assert host_a.list_instance_uuids() == [instance.uuid]
    resources = host_a.get_available_resource()
    assert (resources.vcpus_used, resources.memory_mb_used, resources.local_gb_used) == (1, 64, 1)


def test_spawn_twice_is_refused(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    with pytest.raises(InstanceExists):
        host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)


def test_spawn_without_power_on_leaves_no_process(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info, power_on=False)
    assert host_a.describe_guest(instance.uuid).pid is None
    assert host_a.get_info(instance).state is PowerState.SHUTDOWN
    host_a.power_on(Ctx(), instance, network_info)
    assert _status(host_a, instance) == "running"


def test_destroy_stops_the_process_and_removes_the_directory(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    view = host_a.describe_guest(instance.uuid)
    assert view.pid is not None
    host_a.destroy(Ctx(), instance, network_info)
    assert not pid_alive(view.pid)
    assert not view.directory.exists()
    with pytest.raises(InstanceNotFound):
        host_a.get_info(instance)
    assert host_a.get_available_resource().memory_mb_used == 0
    host_a.destroy(Ctx(), instance, network_info)  # again: nothing left, still fine


def test_pause_and_unpause_stop_and_continue_the_vcpus(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    host_a.pause(instance)
    assert _status(host_a, instance) == "paused"
    assert host_a.get_info(instance).state is PowerState.PAUSED
    with pytest.raises(InvalidPowerState):
        host_a.pause(instance)
    host_a.unpause(instance)
    assert _status(host_a, instance) == "running"


def test_suspend_saves_memory_to_disk_and_resume_restores_it(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    view = host_a.describe_guest(instance.uuid)
    wait_until(lambda: GUEST_TICK in view.console_path.read_text(), what="the guest to tick")
    host_a.suspend(Ctx(), instance)
    assert view.pid is not None and not pid_alive(view.pid)
    assert (view.directory / "suspended.state").stat().st_size > 0
    assert host_a.get_info(instance).state is PowerState.SUSPENDED
    host_a.resume(Ctx(), instance, network_info)
    assert _status(host_a, instance) == "running"
    assert not (view.directory / "suspended.state").exists()
    # The restored guest carries on ticking; it does not boot again.
    boots = view.console_path.read_text().count(GUEST_BOOT_MARKER)
    before = view.console_path.read_text().count(GUEST_TICK)
    wait_until(
        lambda: view.console_path.read_text().count(GUEST_TICK) > before, what="ticks after resume"
    )
    assert view.console_path.read_text().count(GUEST_BOOT_MARKER) == boots


def test_hard_reboot_resets_the_machine(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    console = host_a.describe_guest(instance.uuid).console_path
    wait_until(lambda: GUEST_BOOT_MARKER in console.read_text(), what="first boot")
    host_a.reboot(Ctx(), instance, network_info, RebootType.HARD)
    wait_until(lambda: console.read_text().count(GUEST_BOOT_MARKER) == 2, what="second boot")


def test_soft_reboot_without_an_acpi_guest_falls_back_to_a_reset(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    console = host_a.describe_guest(instance.uuid).console_path
    wait_until(lambda: GUEST_BOOT_MARKER in console.read_text(), what="first boot")
    host_a.reboot(Ctx(), instance, network_info, RebootType.SOFT)
    wait_until(lambda: console.read_text().count(GUEST_BOOT_MARKER) == 2, what="second boot")
    host_a.pause(instance)
    with pytest.raises(InvalidPowerState):
        host_a.reboot(Ctx(), instance, network_info, RebootType.SOFT)


def test_power_off_ends_the_process_and_power_on_boots_again(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    pid = host_a.describe_guest(instance.uuid).pid
    assert pid is not None
    host_a.power_off(instance, timeout=1, retry_interval=1)  # no ACPI guest: hard stop after 1 s
    assert not pid_alive(pid)
    assert host_a.get_info(instance).state is PowerState.SHUTDOWN
    host_a.power_off(instance)  # already off: nothing happens
    host_a.power_on(Ctx(), instance, network_info)
    assert _status(host_a, instance) == "running"
    assert host_a.describe_guest(instance.uuid).pid != pid


def test_cleanup_refuses_a_running_guest_and_removes_leftovers(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    with pytest.raises(InstanceExists):
        host_a.cleanup(Ctx(), instance, network_info)
    host_a.power_off(instance)
    directory = host_a.describe_guest(instance.uuid).directory
    host_a.cleanup(Ctx(), instance, network_info)
    assert not directory.exists()
    host_a.cleanup(Ctx(), instance, network_info)


def test_init_host_without_qemu_is_a_clear_error(tmp_path):
    driver = QemuDriver(
        "h", QemuConfig(instances_path=tmp_path, qemu_binary="qemu-system-nonexistent")
    )
    with pytest.raises(HypervisorUnavailable, match="qemu-system-nonexistent not found"):
        driver.init_host("h")


def test_kvm_is_used_when_usable(make_host, instance, network_info):
    from cumulo.virt.qemu import kvm_usable

    driver = make_host("qk-auto", accel="auto")
    expected = "kvm" if kvm_usable() else "tcg"
    assert driver.accel == expected
    driver.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    kvm = driver.monitor(instance.uuid).cmd("query-kvm")
    assert kvm["enabled"] is (expected == "kvm")


def test_load_driver_knows_qemu(tmp_path):
    from cumulo.virt import load_driver

    driver = load_driver(
        "qemu", "qh", {"instances_path": str(tmp_path), "accel": "tcg", "vcpus": 2}
    )
    assert isinstance(driver, QemuDriver)
    driver.init_host("qh")
    assert driver.get_available_resource().vcpus == 2
