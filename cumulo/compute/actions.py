"""Recording what the compute host does to an instance: an ``InstanceAction`` per
request, an ``InstanceActionEvent`` per step with its result, and an
``InstanceFault`` when a step fails."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from cumulo.model import InstanceActionName, UnexpectedStateError
from cumulo.model.action_recording import record_fault, recorded_step
from cumulo.virt.exceptions import MigrationPreCheckError

from .exceptions import InstanceInvalidState

REFUSALS: tuple[type[Exception], ...] = (
    UnexpectedStateError,
    MigrationPreCheckError,
    InstanceInvalidState,
)
"""Errors that refuse a request without anything happening to the instance: a lost
compare-and-swap (another request moved first), a live-migration check saying no,
a request the instance's state does not allow. Recorded on the event, not as faults."""


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

    See :func:`cumulo.model.action_recording.recorded_step`; no fault is stored for a
    refusal (:data:`REFUSALS`) nor for an error a peer sent back.
    """
    with recorded_step(
        context,
        instance_uuid,
        event,
        host,
        action=action,
        start_action=start_action,
        finish_action=start_action if finish_action is None else finish_action,
        join_or_start=not start_action,
        refusals=REFUSALS,
    ):
        yield


__all__ = ["REFUSALS", "record_fault", "recorded"]
