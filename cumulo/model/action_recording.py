"""Recording what happens to an instance around a block of work: the request's
``InstanceAction``, the step's ``InstanceActionEvent`` with its result, and an
``InstanceFault`` when the step fails.

Compute hosts and conductor tasks both record their steps this way; they differ
only in which errors are refusals (nothing happened to the instance, so no fault)
and in whether they start or join the request's action.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Iterator
from typing import Any

from .exceptions import InstanceActionNotFound, UnexpectedStateError
from .instance_action import InstanceAction, InstanceActionEvent, InstanceActionName
from .instance_fault import InstanceFault

LOG = logging.getLogger(__name__)


def recorded_by_peer(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) came back from another service over RPC;
    that service recorded the fault already."""
    seen: BaseException | None = error
    while seen is not None:
        if hasattr(seen, "remote_traceback"):
            return True
        seen = seen.__cause__
    return False


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
def recorded_step(
    context: Any,
    instance_uuid: Any,
    event: str,
    host: str,
    *,
    action: InstanceActionName | None,
    start_action: bool,
    finish_action: bool,
    join_or_start: bool = False,
    finish_on_failure: bool | None = None,
    refusals: tuple[type[Exception], ...] = (),
) -> Iterator[None]:
    """Record the step ``event`` of the context's request around the block.

    Args:
        context: the request context (its request id keys the action).
        instance_uuid: the instance acted on.
        event: the step's name.
        host: where the step runs.
        action: the request's action (needed when the step may start it).
        start_action: start the action before the step.
        finish_action: finish the action after the step (also after a failure).
        join_or_start: the step joins an action someone else started; when there is
            none, it starts and finishes its own.
        finish_on_failure: finish the action when the step fails (default: as
            ``finish_action``); a task that hands the request on closes it on failure.
        refusals: errors that refuse the request without touching the instance
            (besides a lost compare-and-swap); recorded on the event, not as faults.

    A failing block finishes the event with the error and its traceback, stores an
    ``InstanceFault`` (unless a refusal, or a peer already did) and re-raises.
    """
    if (start_action or join_or_start) and action is None:
        raise ValueError(f"recording {event!r}: an action is needed to start one")
    if start_action:
        assert action is not None
        InstanceAction.action_start(context, instance_uuid, action)
    try:
        InstanceActionEvent.event_start(context, instance_uuid, event, host=host)
    except InstanceActionNotFound:
        if not join_or_start:
            raise
        assert action is not None
        finish_action = True
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
        if finish_action if finish_on_failure is None else finish_on_failure:
            with contextlib.suppress(Exception):
                InstanceAction.action_finish(context, instance_uuid, message=message)
        raise
    InstanceActionEvent.event_finish(context, instance_uuid, event)
    if finish_action:
        InstanceAction.action_finish(context, instance_uuid)
