"""Tests of cumulo/db/queries/instance_action.py: actions and events, on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cumulo.model import (
    InstanceAction,
    InstanceActionEvent,
    InstanceActionEventNotFound,
    InstanceActionNotFound,
    InstanceNotFound,
)
from cumulo.model.instance_action import ActionEventResult, InstanceActionName

from ..conftest import NOW, make_instance, new_uuid


@pytest.fixture
def instance(storage, ctx):
    return storage.instance_create(ctx, make_instance())


def action(instance_uuid, request_id="req-1", start=NOW) -> InstanceAction:
    return InstanceAction(
        request_id=request_id,
        instance_uuid=instance_uuid,
        action=InstanceActionName.REBOOT,
        user_id="alice",
        project_id="p1",
        start_time=start,
    )


def test_actions_start_finish_and_list(storage, ctx, instance):
    first = storage.action_start(ctx, action(instance.uuid, "req-1"))
    second = storage.action_start(ctx, action(instance.uuid, "req-2", NOW + timedelta(1)))
    assert first.id > 0 and first.action is InstanceActionName.REBOOT
    finished = storage.action_finish(
        ctx, instance.uuid, "req-1", NOW + timedelta(seconds=5), "failed: x"
    )
    assert finished.finish_time == NOW + timedelta(seconds=5)
    assert finished.message == "failed: x"
    assert storage.action_get_by_request_id(ctx, instance.uuid, "req-1") == finished
    assert [a.id for a in storage.action_get_by_instance(ctx, instance.uuid)] == [
        second.id,
        first.id,
    ]


def test_unknown_actions(storage, ctx, instance):
    with pytest.raises(InstanceActionNotFound, match="request_id=req-9"):
        storage.action_get_by_request_id(ctx, instance.uuid, "req-9")
    with pytest.raises(InstanceActionNotFound):
        storage.action_finish(ctx, instance.uuid, "req-9", NOW, None)
    with pytest.raises(InstanceActionNotFound):
        storage.action_event_start(
            ctx, instance.uuid, "req-9", InstanceActionEvent(event="e", start_time=NOW)
        )
    with pytest.raises(InstanceNotFound):
        storage.action_start(ctx, action(new_uuid()))


def test_events(storage, ctx, instance):
    started = storage.action_start(ctx, action(instance.uuid))
    event = storage.action_event_start(
        ctx,
        instance.uuid,
        "req-1",
        InstanceActionEvent(event="compute_reboot_instance", start_time=NOW, host="host-a"),
    )
    assert event.action_id == started.id and event.id > 0
    later = storage.action_event_start(
        ctx,
        instance.uuid,
        "req-1",
        InstanceActionEvent(event="compute_cleanup", start_time=NOW + timedelta(seconds=1)),
    )
    closed = storage.action_event_finish(
        ctx,
        instance.uuid,
        "req-1",
        "compute_reboot_instance",
        NOW + timedelta(seconds=2),
        ActionEventResult.ERROR,
        "Traceback (most recent call last): ...",
    )
    assert closed.result is ActionEventResult.ERROR and closed.traceback.startswith("Traceback")
    assert storage.action_events_get(ctx, started.id) == [closed, later]
    # an error event marks the action failed
    assert storage.action_get_by_request_id(ctx, instance.uuid, "req-1").message == "Error"
    with pytest.raises(InstanceActionEventNotFound, match="event=nope"):
        storage.action_event_finish(
            ctx, instance.uuid, "req-1", "nope", NOW, ActionEventResult.SUCCESS, None
        )
