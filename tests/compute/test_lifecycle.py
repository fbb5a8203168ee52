"""The guest's power: cumulo/compute/lifecycle.py, each operation checked in the
instance row and in what the driver reports; and the power-state sync."""

from __future__ import annotations

import pytest

from cumulo.model import PowerState, RebootType, TaskState, VmState


@pytest.fixture
def running(deployment, flavor):
    return deployment.boot(flavor, host="host-a")


def state(deployment, inst):
    inst = deployment.instance(inst.uuid)
    return inst.vm_state, inst.power_state, inst.task_state


def test_stop_and_start(deployment, running):
    driver = deployment.drivers["host-a"]
    assert deployment.cast_and_wait("stop_instance", running).message is None
    assert state(deployment, running) == (VmState.STOPPED, PowerState.SHUTDOWN, None)
    assert driver.get_info(running).state is PowerState.SHUTDOWN

    assert deployment.cast_and_wait("start_instance", running).message is None
    assert state(deployment, running) == (VmState.ACTIVE, PowerState.RUNNING, None)
    assert driver.get_info(running).state is PowerState.RUNNING
    assert driver.describe_guest(running.uuid).boot_count == 2
    assert [a[0] for a in deployment.actions(running.uuid)] == ["create", "stop", "start"]


def test_pause_and_unpause(deployment, running):
    driver = deployment.drivers["host-a"]
    deployment.cast_and_wait("pause_instance", running)
    assert state(deployment, running) == (VmState.PAUSED, PowerState.PAUSED, None)
    assert driver.get_info(running).state is PowerState.PAUSED
    deployment.cast_and_wait("unpause_instance", running)
    assert state(deployment, running) == (VmState.ACTIVE, PowerState.RUNNING, None)


def test_suspend_and_resume(deployment, running):
    driver = deployment.drivers["host-a"]
    deployment.cast_and_wait("suspend_instance", running)
    assert state(deployment, running) == (VmState.SUSPENDED, PowerState.SUSPENDED, None)
    assert driver.get_info(running).mem_kb == 0
    deployment.cast_and_wait("resume_instance", running)
    assert state(deployment, running) == (VmState.ACTIVE, PowerState.RUNNING, None)
    assert driver.get_info(running).mem_kb > 0


@pytest.mark.parametrize("kind", [RebootType.SOFT, RebootType.HARD])
def test_reboot(deployment, running, kind):
    driver = deployment.drivers["host-a"]
    action = deployment.cast_and_wait("reboot_instance", running, kind)
    assert action.message is None
    assert state(deployment, running) == (VmState.ACTIVE, PowerState.RUNNING, None)
    assert driver.describe_guest(running.uuid).boot_count == 2


def test_hard_reboot_brings_a_stopped_guest_back_a_soft_one_is_refused(deployment, running):
    deployment.cast_and_wait("stop_instance", running)
    soft = deployment.cast_and_wait("reboot_instance", running, RebootType.SOFT)
    assert "UnexpectedVmStateError" in soft.message
    assert state(deployment, running) == (VmState.STOPPED, PowerState.SHUTDOWN, None)

    hard = deployment.cast_and_wait("reboot_instance", running, RebootType.HARD)
    assert hard.message is None
    assert state(deployment, running) == (VmState.ACTIVE, PowerState.RUNNING, None)


def test_a_driver_failure_clears_the_task_and_records_a_fault(deployment, running):
    deployment.drivers["host-a"].inject_failure("pause")
    action = deployment.cast_and_wait("pause_instance", running)
    assert "injected failure of pause" in action.message
    assert state(deployment, running) == (VmState.ACTIVE, PowerState.RUNNING, None)
    assert deployment.fault(running.uuid).message.startswith("injected failure of pause")
    assert deployment.actions(running.uuid)[-1][2] == [
        ("compute_pause_instance", "Error", "host-a")
    ]


def test_an_operation_waits_for_no_other_task(deployment, running):
    inst = deployment.instance(running.uuid)
    inst.task_state = TaskState.REBOOTING
    inst.save()
    action = deployment.cast_and_wait("stop_instance", running)
    assert "UnexpectedTaskStateError" in action.message
    assert deployment.drivers["host-a"].get_info(running).state is PowerState.RUNNING


def test_power_state_sync_follows_the_hypervisor(deployment, flavor):
    driver = deployment.drivers["host-a"]
    manager = deployment.managers["host-a"]
    crashed = deployment.boot(flavor, name="crashed", host="host-a")
    halted = deployment.boot(flavor, name="halted", host="host-a")
    vanished = deployment.boot(flavor, name="vanished", host="host-a")
    revived = deployment.boot(flavor, name="revived", host="host-a")
    busy = deployment.boot(flavor, name="busy", host="host-a")
    quiet = deployment.boot(flavor, name="quiet", host="host-a")
    deployment.cast_and_wait("stop_instance", revived)

    driver.crash_guest(crashed.uuid)
    driver.shutdown_from_guest(halted.uuid)
    driver.destroy(deployment.ctx(), vanished, vanished.info_cache.network_info)
    driver.power_on(deployment.ctx(), revived, revived.info_cache.network_info)
    driver.shutdown_from_guest(busy.uuid)
    row = deployment.instance(busy.uuid)
    row.task_state = TaskState.POWERING_ON
    row.save()

    changed = manager.sync_power_states()

    assert changed == {
        crashed.uuid: (PowerState.SHUTDOWN, VmState.STOPPED),
        halted.uuid: (PowerState.SHUTDOWN, VmState.STOPPED),
        vanished.uuid: (PowerState.NOSTATE, VmState.ERROR),
    }
    assert driver.get_info(crashed).state is PowerState.SHUTDOWN  # powered off, not crashed
    # Stopped means stopped: the guest is powered off again (its row was right).
    assert driver.get_info(revived).state is PowerState.SHUTDOWN
    assert state(deployment, revived) == (VmState.STOPPED, PowerState.SHUTDOWN, None)
    assert "is gone from host-a" in deployment.fault(vanished.uuid).message
    assert state(deployment, busy) == (VmState.ACTIVE, PowerState.RUNNING, TaskState.POWERING_ON)
    assert state(deployment, quiet) == (VmState.ACTIVE, PowerState.RUNNING, None)
    assert manager.sync_power_states() == {}
