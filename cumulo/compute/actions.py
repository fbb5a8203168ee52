"""Recording what the compute host does to an instance: an ``InstanceAction`` per
request, an ``InstanceActionEvent`` per step with its result, and an
``InstanceFault`` when a step fails."""

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
    InstanceActionNotFound,
    InstanceFault,
    UnexpectedStateError,
)
from cumulo.virt.exceptions import MigrationPreCheckError

from .exceptions import InstanceInvalidState

LOG = logging.getLogger(__name__)

REFUSALS: tuple[type[Exception], ...] = (
    UnexpectedStateError,
    MigrationPreCheckError,
    InstanceInvalidState,
)
"""Errors that refuse a request without anything happening to the instance: a lost
compare-and-swap (another request moved first), a live-migration check saying no,
a request the instance's state does not allow. Recorded on the event, not as faults."""


def record_fault(context: Any, instance_uuid: Any, error: BaseException, host: str) -> None:
    """Store an ``InstanceFault`` for ``error``; a failure to store it is only logged
    (the error being reported matters more)."""
    try:
        fault = InstanceFault.from_exception(instance_uuid, error, host=host)
        fault.obj_set_context(context)
        fault.create()
    except Exception:
        LOG.exception("could not record a fault for instance %s", instance_uuid)


@contextlib.contextmanager
def recorded(
    context: Any,
    instance_uuid: Any,
    event: str,
    host: str,
    *,
    action: InstanceActionName,
    start_action: bool = True,
    finish_action: bool | None = None,
) -> Iterator[None]:
    """Record the step ``event`` of the context's request around the block.

    Args:
        context: the request context (its request id keys the action).
        instance_uuid: the instance acted on.
        event: the step's name (``compute_reboot_instance``...).
        host: where the step runs.
        action: the request's action (``reboot``...).
        start_action: start the action here and finish it after the block; with
            ``False`` the step joins the action whoever made the request started (a
            conductor task), which finishes it — unless there is none, and then
            the step starts and finishes its own.
        finish_action: close the action after the block (default: when this step
            started it); ``True`` for the last step of a request another service
            started (the build a conductor task placed).

    A failing block finishes the event with the error and its traceback, stores an
    ``InstanceFault`` and re-raises. No fault is stored for a refusal (:data:`REFUSALS`)
    nor for an error a peer sent back (the peer stored it).
    """
    own_action = start_action if finish_action is None else finish_action
    if start_action:
        InstanceAction.action_start(context, instance_uuid, action)
    try:
        InstanceActionEvent.event_start(context, instance_uuid, event, host=host)
    except InstanceActionNotFound:
        if start_action:
            raise
        own_action = True
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
            and not isinstance(error, REFUSALS)
            and not hasattr(error, "remote_traceback")
        ):
            record_fault(context, instance_uuid, error, host)
        if own_action:
            with contextlib.suppress(Exception):
                InstanceAction.action_finish(context, instance_uuid, message=message)
        raise
    InstanceActionEvent.event_finish(context, instance_uuid, event)
    if own_action:
        InstanceAction.action_finish(context, instance_uuid)
