"""Tests of cumulo/model/instance_action.py and cumulo/model/instance_fault.py."""

import datetime as dt
import uuid

import pytest

from cumulo.model import (
    ActionEventResult,
    InstanceAction,
    InstanceActionEvent,
    InstanceActionEventList,
    InstanceActionList,
    InstanceActionName,
    InstanceFault,
)
from cumulo.objects import FieldValueError

INSTANCE = uuid.UUID(int=5)


def echo_action(_ctx, action):
    action.id = 1
    return action


def test_action_start_records_who_and_when(storage, ctx):
    storage.returns["action_start"] = echo_action
    before = dt.datetime.now(dt.UTC)
    action = InstanceAction.action_start(ctx, str(INSTANCE), "reboot")
    assert action.action is InstanceActionName.REBOOT
    assert (action.request_id, action.user_id, action.project_id) == ("req-1", "alice", "p1")
    assert action.instance_uuid == INSTANCE
    assert action.start_time >= before
    assert action.obj_context is ctx
    with pytest.raises(ValueError):
        InstanceAction.action_start(ctx, INSTANCE, "dance")


def test_action_finish_and_events(storage, ctx):
    now = dt.datetime.now(dt.UTC)
    storage.returns["action_finish"] = InstanceAction(
        id=1,
        request_id="req-1",
        instance_uuid=INSTANCE,
        action="reboot",
        start_time=now,
        finish_time=now,
    )
    InstanceAction.action_finish(ctx, INSTANCE, message="failed")
    (_, (_, uuid_, request_id, finish, message), _) = storage.calls[0]
    assert (uuid_, request_id, message) == (INSTANCE, "req-1", "failed")
    assert finish.tzinfo is not None

    storage.returns["action_event_start"] = lambda _c, _u, _r, event: event
    event = InstanceActionEvent.event_start(ctx, INSTANCE, "compute_reboot", host="host-a")
    assert (event.event, event.host, event.result) == ("compute_reboot", "host-a", None)

    storage.returns["action_event_finish"] = InstanceActionEvent(
        id=2, event="compute_reboot", start_time=now, result="Error"
    )
    InstanceActionEvent.event_finish(ctx, INSTANCE, "compute_reboot", error="boom", traceback="tb")
    (_, args, _) = storage.calls[-1]
    assert args[1:4] == (INSTANCE, "req-1", "compute_reboot")
    assert args[5:] == (ActionEventResult.ERROR, "tb")
    InstanceActionEvent.event_finish(ctx, INSTANCE, "compute_reboot")
    assert storage.calls[-1][1][5] is ActionEventResult.SUCCESS


def test_lists(storage, ctx):
    storage.returns["action_get_by_instance"] = []
    storage.returns["action_events_get"] = []
    assert InstanceActionList.get_by_instance_uuid(ctx, INSTANCE).objects == []
    assert InstanceActionEventList.get_by_action(ctx, 1).objects == []
    assert storage.names() == ["action_get_by_instance", "action_events_get"]


def test_fault_from_exception_and_create(storage, ctx):
    class Busy(Exception):
        code = 409

    try:
        raise Busy("x" * 300)
    except Busy as exc:
        fault = InstanceFault.from_exception(INSTANCE, exc, host="host-a")
    assert fault.code == 409
    assert len(fault.message) == 255
    assert "Busy" in fault.details
    assert InstanceFault.from_exception(INSTANCE, RuntimeError()).message == "RuntimeError"
    storage.returns["instance_fault_create"] = lambda _c, f: InstanceFault(
        id=9, instance_uuid=f.instance_uuid, message=f.message, created_at=dt.datetime.now(dt.UTC)
    )
    fault.obj_set_context(ctx).create()
    assert fault.id == 9
    assert fault.created_at is not None
    storage.returns["instance_fault_get_latest"] = None
    assert InstanceFault.get_latest_for_instance(ctx, INSTANCE) is None


def test_event_result_is_an_enum():
    with pytest.raises(FieldValueError, match=r"InstanceActionEvent\.result"):
        InstanceActionEvent(event="x", start_time=dt.datetime.now(dt.UTC), result="Maybe")
