"""Instance actions: what was done to an instance, when, by whom, with what result.

An ``InstanceAction`` is one user request (``reboot``...), keyed by its request
id; its ``InstanceActionEvent`` records are the steps services ran for it
(``compute_reboot_instance``...), each with a result and, on failure, the
traceback.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cumulo.objects import NO_DEFAULT, field, register, remotable_classmethod

from .base import CumuloObject, as_uuid, stored
from .storage import Context, get_storage


class InstanceActionName(enum.StrEnum):
    """The requests recorded as actions."""

    CREATE = "create"
    DELETE = "delete"
    REBOOT = "reboot"
    STOP = "stop"
    START = "start"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    SUSPEND = "suspend"
    RESUME = "resume"
    ATTACH_VOLUME = "attach_volume"
    DETACH_VOLUME = "detach_volume"
    LIVE_MIGRATION = "live-migration"
    INJECT_FILE = "inject_file"
    INJECT_NETWORK_INFO = "inject_network_info"
    RESET_NETWORK = "reset_network"
    LOCK = "lock"
    """Since InstanceAction 1.1 (the API locks and unlocks a server itself)."""
    UNLOCK = "unlock"


class ActionEventResult(enum.StrEnum):
    SUCCESS = "Success"
    ERROR = "Error"


def _now() -> datetime:
    return datetime.now(UTC)


@register
class InstanceAction(CumuloObject):
    """One request made on an instance: who asked, when it started and finished,
    and why it failed (``message``) if it did.

    History: 1.0 first version. 1.1: ``action`` may be ``lock`` or ``unlock``.
    """

    VERSION = "1.1"

    id: int = field(default=NO_DEFAULT, read_only=True)
    request_id: str
    instance_uuid: UUID
    action: InstanceActionName = field(
        values_added={"1.1": [InstanceActionName.LOCK, InstanceActionName.UNLOCK]}
    )
    user_id: str | None = None
    project_id: str | None = None
    start_time: datetime
    finish_time: datetime | None = None
    message: str | None = None

    @remotable_classmethod
    def action_start(
        cls: type[InstanceAction],
        context: Context,
        instance_uuid: UUID | str,
        action: InstanceActionName | str,
    ) -> InstanceAction:
        """Record that the context's request started ``action`` on an instance."""
        record = cls(
            request_id=context.request_id,
            instance_uuid=as_uuid(instance_uuid, "instance_uuid"),
            action=InstanceActionName(action),
            user_id=context.user_id,
            project_id=context.project_id,
            start_time=_now(),
        )
        return stored(get_storage().action_start(context, record))

    @remotable_classmethod
    def action_finish(
        cls: type[InstanceAction],
        context: Context,
        instance_uuid: UUID | str,
        message: str | None = None,
    ) -> InstanceAction:
        """Record that the context's request on an instance finished (``message``:
        why it failed)."""
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        storage = get_storage()
        return stored(storage.action_finish(context, uuid_, context.request_id, _now(), message))

    @remotable_classmethod
    def get_by_request_id(
        cls: type[InstanceAction], context: Any, instance_uuid: UUID | str, request_id: str
    ) -> InstanceAction:
        """Raises ``InstanceActionNotFound``."""
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        return stored(get_storage().action_get_by_request_id(context, uuid_, request_id))


@register
class InstanceActionList(CumuloObject):
    """An instance's actions, newest first.

    History: 1.0 first version. 1.1: InstanceAction 1.1.
    """

    VERSION = "1.1"

    objects: list[InstanceAction] = field(default_factory=list)

    @remotable_classmethod
    def get_by_instance_uuid(
        cls: type[InstanceActionList], context: Any, instance_uuid: UUID | str
    ) -> InstanceActionList:
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        rows = get_storage().action_get_by_instance(context, uuid_)
        return stored(cls(objects=rows))


@register
class InstanceActionEvent(CumuloObject):
    """One step of an action, run by one service: when, where, and its result.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int = field(default=NO_DEFAULT, read_only=True)
    action_id: int | None = None
    event: str
    start_time: datetime
    finish_time: datetime | None = None
    result: ActionEventResult | None = None
    traceback: str | None = None
    host: str | None = None
    details: str | None = None

    @remotable_classmethod
    def event_start(
        cls: type[InstanceActionEvent],
        context: Context,
        instance_uuid: UUID | str,
        event: str,
        host: str | None = None,
    ) -> InstanceActionEvent:
        """Record that step ``event`` of the context's request started on ``host``."""
        record = cls(event=event, start_time=_now(), host=host)
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        return stored(get_storage().action_event_start(context, uuid_, context.request_id, record))

    @remotable_classmethod
    def event_finish(
        cls: type[InstanceActionEvent],
        context: Context,
        instance_uuid: UUID | str,
        event: str,
        error: str | None = None,
        traceback: str | None = None,
    ) -> InstanceActionEvent:
        """Record that step ``event`` finished: successfully, or with ``error``."""
        result = ActionEventResult.SUCCESS if error is None else ActionEventResult.ERROR
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        storage = get_storage()
        return stored(
            storage.action_event_finish(
                context, uuid_, context.request_id, event, _now(), result, traceback
            )
        )


@register
class InstanceActionEventList(CumuloObject):
    """An action's events, oldest first.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    objects: list[InstanceActionEvent] = field(default_factory=list)

    @remotable_classmethod
    def get_by_action(
        cls: type[InstanceActionEventList], context: Any, action_id: int
    ) -> InstanceActionEventList:
        rows = get_storage().action_events_get(context, action_id)
        return stored(cls(objects=rows))
