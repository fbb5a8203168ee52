"""Recording a conductor task on the instance: the request's ``InstanceAction``, the
task's ``InstanceActionEvent``, and an ``InstanceFault`` for a failure the task
itself ran into (a compute host records the faults of its own steps)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from cumulo.model import InstanceActionName
from cumulo.model.action_recording import record_fault, recorded_by_peer, recorded_step


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
    with recorded_step(
        context,
        instance_uuid,
        event,
        host,
        action=action,
        start_action=action is not None,
        finish_action=finish_action,
        finish_on_failure=True,
        refusals=refusals,
    ):
        yield


__all__ = ["record_fault", "recorded_by_peer", "task_event"]
