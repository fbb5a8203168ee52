"""``InstanceFault``: the record of an error that happened to an instance."""

from __future__ import annotations

import traceback
import uuid
from datetime import datetime
from typing import Any

from cumulo.objects import NO_DEFAULT, field, register, remotable, remotable_classmethod

from .base import CumuloObject, as_uuid, stored
from .exceptions import ObjectActionError
from .storage import get_storage

MAX_MESSAGE = 255
"""Fault messages are cut to this many characters (the full text goes to ``details``)."""


@register
class InstanceFault(CumuloObject):
    """An error an operation on an instance ran into: what failed, where and when.

    ``code`` follows HTTP (500 for an unexpected error); ``details`` holds the
    traceback, shown to administrators only.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    id: int = field(default=NO_DEFAULT, read_only=True)
    instance_uuid: uuid.UUID
    code: int = 500
    message: str
    details: str = ""
    host: str | None = None
    created_at: datetime | None = None

    @classmethod
    def from_exception(
        cls, instance_uuid: uuid.UUID, error: BaseException, host: str | None = None
    ) -> InstanceFault:
        """A fault describing ``error`` (not yet stored; call ``create()``)."""
        code = getattr(error, "code", 500)
        message = str(error) or type(error).__name__
        details = "".join(traceback.format_exception(error))
        fault = cls(
            instance_uuid=instance_uuid,
            code=code if isinstance(code, int) and not isinstance(code, bool) else 500,
            message=message[:MAX_MESSAGE],
            details=details,
            host=host,
        )
        return fault

    @remotable_classmethod
    def get_latest_for_instance(
        cls: type[InstanceFault], context: Any, instance_uuid: uuid.UUID | str
    ) -> InstanceFault | None:
        """The newest fault of an instance, or ``None``."""
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        return stored(get_storage().instance_fault_get_latest(context, uuid_))

    @remotable
    def create(self) -> None:
        """Store the fault; ``id`` and ``created_at`` are set from the database."""
        if self.obj_attr_is_set("id"):
            raise ObjectActionError("create instance fault", f"already created (id {self.id})")
        self._obj_take_stored(get_storage().instance_fault_create(self.obj_context, self))
