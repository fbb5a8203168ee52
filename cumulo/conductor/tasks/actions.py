"""Recording a conductor task on the instance: the request's ``InstanceAction``, the
task's ``InstanceActionEvent``, and an ``InstanceFault`` for a failure the task
itself ran into (a compute host records the faults of its own steps)."""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Iterator
from typing import Any

from cumulo.model import (
    InstanceAction,
    InstanceActionEvent,
    InstanceActionName,
    InstanceFault,
    UnexpectedStateError,
)

LOG = logging.getLogger(__name__)


def recorded_by_peer(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) came back from a compute host, which
    recorded the fault already."""
    seen: BaseException | None = error
    while seen is not None:
        if hasattr(seen, "remote_traceback"):
            return True
        seen = seen.__cause__
    return False


def record_fault(context: Any, instance_uuid: Any, error: BaseException, host: str) -> None:
    """Store an ``InstanceFault`` for ``error`` (a failure to store it is logged)."""
    try:
        fault = InstanceFault.from_exception(instance_uuid, error, host=host)
        fault.obj_set_context(context)
        fault.create()
    except Exception:
        LOG.exception("could not record a fault for instance %s", instance_uuid)


@contextlib.contextmanager
def task_event(
    context: Any,
    instance_uuid: Any,
    event: str,
    host: str,
    *,
    action: InstanceActionName | None = None,
    finish_action: bool = True,
    refusals: tuple[type[Exception], ...] = (),
) -> Iterator[None]:
    """Record the task's step ``event`` around the block: with ``action``, the
    request's action is started first; ``finish_action`` closes it afterwards
    (``False`` when a compute host closes it, as after a build). A failure finishes
    the event and the action with the error, stores a fault unless a peer did or it
    is a refusal that left the instance as it was (a lost compare-and-swap, or one of
    ``refusals``), and re-raises."""
    if action is not None:
        InstanceAction.action_start(context, instance_uuid, action)
    InstanceActionEvent.event_start(context, instance_uuid, event, host=host)
    try:
        yield
    except BaseException as error:
        message = f"{type(error).__name__}: {error}"
        with contextlib.suppress(Exception):
            InstanceActionEvent.event_finish(
                context,
                instance_uuid,
                event,
                error=message,
                traceback="".join(traceback.format_exception(error)),
            )
        if (
            isinstance(error, Exception)
            and not isinstance(error, (UnexpectedStateError, *refusals))
            and not recorded_by_peer(error)
        ):
            record_fault(context, instance_uuid, error, host)
        with contextlib.suppress(Exception):
            InstanceAction.action_finish(context, instance_uuid, message=message)
        raise
    InstanceActionEvent.event_finish(context, instance_uuid, event)
    if finish_action:
        InstanceAction.action_finish(context, instance_uuid)
