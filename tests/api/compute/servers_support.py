"""Helpers of the tests that act on servers: read an instance as the database has it
(the API's casts finish later, on the host) and wait for it to settle."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cumulo.model import (
    Instance,
    InstanceAction,
    InstanceActionEventList,
    InstanceActionList,
    InstanceActionNotFound,
)
from cumulo.rpc import RequestContext

ADMIN = RequestContext(roles=["admin"], is_admin=True)


def instance_of(server_id: str) -> Instance:
    return Instance.get_by_uuid(ADMIN, server_id)


def wait_until(server_id: str, done: Callable[[Instance], bool], timeout: float = 30.0) -> Instance:
    """Poll the instance until ``done(instance)`` holds; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        instance = instance_of(server_id)
        if done(instance):
            return instance
        assert time.monotonic() < deadline, (
            f"{server_id} never settled: {instance.vm_state}/{instance.task_state}"
        )
        time.sleep(0.01)


def wait_settled(server_id: str, vm_state: str, timeout: float = 30.0) -> Instance:
    """Poll until the instance is in ``vm_state`` with no task running."""
    return wait_until(server_id, lambda i: i.vm_state == vm_state and i.task_state is None, timeout)


def actions_of(server_id: str) -> list[str]:
    """The instance's recorded actions, oldest first."""
    listing = InstanceActionList.get_by_instance_uuid(ADMIN, server_id).objects
    return [str(a.action) for a in reversed(listing)]


def finished_action(response: Any, server_id: str, timeout: float = 30.0) -> InstanceAction:
    """Wait for the instance action of the request ``response`` answered to finish."""
    request_id = response.headers["x-openstack-request-id"]
    deadline = time.monotonic() + timeout
    while True:
        try:
            action = InstanceAction.get_by_request_id(ADMIN, server_id, request_id)
        except InstanceActionNotFound:
            action = None
        if action is not None and action.finish_time is not None:
            return action
        assert time.monotonic() < deadline, f"action {request_id} never finished"
        time.sleep(0.01)


def event_results(action: InstanceAction) -> list[tuple[str, str, str]]:
    """``(event, result, traceback)`` of each step of the action."""
    events = InstanceActionEventList.get_by_action(ADMIN, action.id).objects
    return [(e.event, str(e.result), e.traceback or "") for e in events]


def error_of(response: Any) -> tuple[str, str]:
    """The Nova error name and message of an error response."""
    ((name, body),) = response.json.items()
    assert body["code"] == response.status_code
    return name, body["message"]
