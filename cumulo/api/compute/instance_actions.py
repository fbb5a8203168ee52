"""``/compute/v2.1/servers/{server_id}/os-instance-actions``: what was done to a
server (newest first) and, for one request, the steps services ran for it.

As in Nova: readers of the server's project and admins anywhere; from 2.21 a
deleted server's actions stay readable; from 2.51 everyone who may show an action
sees its events, the traceback staying an admin's (the ``events`` rule); from 2.58
``updated_at``, ``limit``, ``marker`` (a request id) and ``changes-since``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import falcon

from cumulo.identity import Token
from cumulo.model import (
    Instance,
    InstanceAction,
    InstanceActionEvent,
    InstanceActionEventList,
    InstanceActionList,
    InstanceActionNotFound,
)
from cumulo.rpc.context import RequestContext

from ..errors import NotFound
from ..state import ApiState
from .common import microversion, v21_url
from .instances import authorized_instance, target_of
from .listing import (
    NON_NEGATIVE_INTEGER,
    TEXT,
    changes_since,
    later,
    limit_of,
    next_links,
    nova_time,
    page,
    query_schema,
    read_query,
)
from .microversions import (
    ACTIONS_OF_DELETED_SERVERS,
    ACTIONS_PAGING,
    EVENTS_FOR_READERS,
    Microversion,
    since,
)

LIST_QUERY_2_58 = query_schema(
    {"limit": NON_NEGATIVE_INTEGER, "marker": TEXT, "changes-since": TEXT}, strict=True
)
"""Nova's ``list_query_params_v258`` (no other parameter is accepted)."""


def updated_at(action: InstanceAction, events: list[InstanceActionEvent]) -> datetime:
    """When the action last changed: Nova moves ``updated_at`` as the action and each
    of its events start and finish; Cumulo keeps those times, so it is their latest."""
    times = [action.start_time, action.finish_time]
    for event in events:
        times += [event.start_time, event.finish_time]
    return max(t for t in times if t is not None)


def render_action(
    version: Microversion, action: InstanceAction, events: list[InstanceActionEvent]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": str(action.action),
        "instance_uuid": str(action.instance_uuid),
        "message": action.message,
        "project_id": action.project_id,
        "request_id": action.request_id,
        "start_time": nova_time(action.start_time),
        "user_id": action.user_id,
    }
    if since(version, ACTIONS_PAGING):
        body["updated_at"] = nova_time(updated_at(action, events))
    return body


def render_event(event: InstanceActionEvent, traceback: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": event.event,
        "start_time": nova_time(event.start_time),
        "finish_time": nova_time(event.finish_time),
        "result": None if event.result is None else str(event.result),
    }
    if traceback:
        body["traceback"] = event.traceback
    return body


def events_of(context: RequestContext, action: InstanceAction) -> list[InstanceActionEvent]:
    """The action's events, newest first as Nova lists them."""
    return list(reversed(InstanceActionEventList.get_by_action(context, action.id).objects))


class _ServerActions:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def _server(
        self, req: falcon.Request, server_id: str, rule: str
    ) -> tuple[Token, RequestContext, Instance]:
        deleted_too = since(microversion(req), ACTIONS_OF_DELETED_SERVERS)
        return authorized_instance(req, self.state, server_id, rule, include_deleted=deleted_too)


class InstanceActions(_ServerActions):
    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        version = microversion(req)
        paging = since(version, ACTIONS_PAGING)
        query = read_query(req, LIST_QUERY_2_58) if paging else {}
        _, context, instance = self._server(
            req, server_id, "os_compute_api:os-instance-actions:list"
        )
        actions = InstanceActionList.get_by_instance_uuid(context, instance.uuid).objects
        listed = [(a, events_of(context, a) if paging else []) for a in actions]
        if not paging:
            resp.media = {"instanceActions": [render_action(version, a, e) for a, e in listed]}
            return
        moment = changes_since(query)
        marker = query.get("marker")
        chosen, more = page(
            listed,
            lambda item: item[0].request_id,
            limit_of(query),
            marker,
            f"Marker {marker} could not be found.",
            keep=lambda item: later(updated_at(*item), moment),
        )
        body: dict[str, Any] = {
            "instanceActions": [render_action(version, a, e) for a, e in chosen]
        }
        if more and chosen:
            url = f"{v21_url(req, self.state)}/servers/{server_id}/os-instance-actions"
            body["links"] = next_links(req, url, chosen[-1][0].request_id)
        resp.media = body


class InstanceActionResource(_ServerActions):
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, server_id: str, request_id: str
    ) -> None:
        version = microversion(req)
        token, context, instance = self._server(
            req, server_id, "os_compute_api:os-instance-actions:show"
        )
        try:
            action = InstanceAction.get_by_request_id(context, instance.uuid, request_id)
        except InstanceActionNotFound:
            raise NotFound(f"Action {request_id} not found") from None
        full = self.state.policy.allows(
            "os_compute_api:os-instance-actions:events", token, target_of(instance)
        )
        events = events_of(context, action)
        body = render_action(version, action, events)
        if full or since(version, EVENTS_FOR_READERS):
            body["events"] = [render_event(e, traceback=full) for e in events]
        resp.media = {"instanceAction": body}
