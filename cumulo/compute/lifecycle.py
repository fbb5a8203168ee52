"""The guest's power: reboot, stop/start, pause/unpause, suspend/resume, and the
periodic sync of recorded power states with what the driver reports.

Each operation takes the instance with a compare-and-swap on its task state
(only when no other task runs and its vm_state allows it), calls the driver,
and records the power state the driver then reports; a failed driver call clears
the task and leaves the vm_state as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

from cumulo.model import (
    Instance,
    InstanceActionName,
    InstanceList,
    PowerState,
    RebootType,
    TaskState,
    UnexpectedStateError,
    VmState,
)

from .actions import record_fault
from .base import ManagerBase

LOG = logging.getLogger(__name__)

_ANY_STABLE = (
    VmState.ACTIVE,
    VmState.STOPPED,
    VmState.PAUSED,
    VmState.SUSPENDED,
    VmState.ERROR,
)


class LifecycleFlows(ManagerBase):
    """Power operations and the power-state sync."""

    def _power_operation(
        self,
        context: Any,
        instance: Instance,
        *,
        action: InstanceActionName,
        event: str,
        task_state: TaskState,
        allowed: tuple[VmState, ...],
        result: VmState,
        run: Callable[[], None],
    ) -> None:
        with (
            self._instance_lock(instance.uuid),
            self._record(context, instance, event, action),
        ):
            self._check_on_host(instance)
            self._start_task(instance, task_state, allowed)
            try:
                run()
            except Exception:
                self._revert_task(instance, task_state)
                raise
            self._finish_task(instance, task_state, result)

    def reboot_instance(self, context: Any, instance: Instance, reboot_type: str) -> None:
        """Reboot: ``SOFT`` asks a running guest; ``HARD`` resets it from any state."""
        kind = RebootType(reboot_type)
        hard = kind is RebootType.HARD
        self._power_operation(
            context,
            instance,
            action=InstanceActionName.REBOOT,
            event="compute_reboot_instance",
            task_state=TaskState.REBOOTING_HARD if hard else TaskState.REBOOTING,
            allowed=_ANY_STABLE if hard else (VmState.ACTIVE,),
            result=VmState.ACTIVE,
            run=lambda: self.driver.reboot(
                context,
                instance,
                self._network_info(instance),
                kind,
                self._block_device_info(context, instance),
            ),
        )

    def stop_instance(self, context: Any, instance: Instance) -> None:
        """Power the guest off."""
        self._power_operation(
            context,
            instance,
            action=InstanceActionName.STOP,
            event="compute_stop_instance",
            task_state=TaskState.POWERING_OFF,
            allowed=(VmState.ACTIVE, VmState.ERROR),
            result=VmState.STOPPED,
            run=lambda: self.driver.power_off(instance),
        )

    def start_instance(self, context: Any, instance: Instance) -> None:
        """Power a stopped guest on."""
        self._power_operation(
            context,
            instance,
            action=InstanceActionName.START,
            event="compute_start_instance",
            task_state=TaskState.POWERING_ON,
            allowed=(VmState.STOPPED,),
            result=VmState.ACTIVE,
            run=lambda: self.driver.power_on(
                context,
                instance,
                self._network_info(instance),
                self._block_device_info(context, instance),
            ),
        )

    def pause_instance(self, context: Any, instance: Instance) -> None:
        """Freeze the running guest in memory."""
        self._power_operation(
            context,
            instance,
            action=InstanceActionName.PAUSE,
            event="compute_pause_instance",
            task_state=TaskState.PAUSING,
            allowed=(VmState.ACTIVE,),
            result=VmState.PAUSED,
            run=lambda: self.driver.pause(instance),
        )

    def unpause_instance(self, context: Any, instance: Instance) -> None:
        """Let the paused guest run again."""
        self._power_operation(
            context,
            instance,
            action=InstanceActionName.UNPAUSE,
            event="compute_unpause_instance",
            task_state=TaskState.UNPAUSING,
            allowed=(VmState.PAUSED,),
            result=VmState.ACTIVE,
            run=lambda: self.driver.unpause(instance),
        )

    def suspend_instance(self, context: Any, instance: Instance) -> None:
        """Save the guest's memory to disk and stop it."""
        self._power_operation(
            context,
            instance,
            action=InstanceActionName.SUSPEND,
            event="compute_suspend_instance",
            task_state=TaskState.SUSPENDING,
            allowed=(VmState.ACTIVE, VmState.PAUSED),
            result=VmState.SUSPENDED,
            run=lambda: self.driver.suspend(context, instance),
        )

    def resume_instance(self, context: Any, instance: Instance) -> None:
        """Restore the suspended guest."""
        self._power_operation(
            context,
            instance,
            action=InstanceActionName.RESUME,
            event="compute_resume_instance",
            task_state=TaskState.RESUMING,
            allowed=(VmState.SUSPENDED,),
            result=VmState.ACTIVE,
            run=lambda: self.driver.resume(
                context,
                instance,
                self._network_info(instance),
                self._block_device_info(context, instance),
            ),
        )

    # --- the periodic sync ----------------------------------------------------------------

    def sync_power_states(self, context: Any = None) -> dict[UUID, tuple[PowerState, VmState]]:
        """Bring the recorded power state of this host's instances in line with what
        the driver reports (``get_info``); returns what changed, by instance.

        Instances with a task in progress are skipped (the task records the state).
        A guest found shut down or crashed while ACTIVE is recorded STOPPED (a
        crashed one is powered off first); a guest found running while STOPPED is
        powered off again; an ACTIVE instance whose guest is gone goes to ERROR with
        a fault. Saves compare-and-swap on "no task", so a task started meanwhile wins.
        """
        ctx = context if context is not None else self._admin_context()
        changed: dict[UUID, tuple[PowerState, VmState]] = {}
        for instance in InstanceList.get_by_host(ctx, self.host):
            if instance.task_state is not None:
                continue
            with self._instance_lock(instance.uuid):
                try:
                    if self._sync_one(ctx, instance):
                        changed[instance.uuid] = (instance.power_state, instance.vm_state)
                except UnexpectedStateError:
                    continue  # a task started meanwhile
                except Exception:
                    LOG.exception("power-state sync of instance %s failed", instance.uuid)
        return changed

    def _sync_one(self, context: Any, instance: Instance) -> bool:
        power = self._power_state(instance)
        vm_state = instance.vm_state
        gone = False
        if vm_state is VmState.ACTIVE and power in (PowerState.SHUTDOWN, PowerState.CRASHED):
            if power is PowerState.CRASHED:
                self.driver.power_off(instance)
                power = self._power_state(instance)
            instance.vm_state = VmState.STOPPED
        elif vm_state is VmState.STOPPED and power is PowerState.RUNNING:
            self.driver.power_off(instance)
            power = self._power_state(instance)
        elif vm_state is VmState.ACTIVE and power is PowerState.NOSTATE:
            instance.vm_state = VmState.ERROR
            gone = True
        if power is not instance.power_state:
            instance.power_state = power
        if not instance.obj_what_changed():
            return False
        instance.save(expected_task_state=None)
        if gone:
            record_fault(
                context,
                instance.uuid,
                RuntimeError(f"the guest of instance {instance.uuid} is gone from {self.host}"),
                self.host,
            )
        return True
