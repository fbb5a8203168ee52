"""``InstanceInfoCache``: the stored copy of an instance's network info."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from cumulo.objects import field, register, remotable, remotable_classmethod

from .base import CumuloObject, as_uuid, stored
from .network import NetworkInfo
from .storage import get_storage


@register
class InstanceInfoCache(CumuloObject):
    """What network allocation last said about an instance's VIFs, kept with the
    instance so that drivers and the API need not ask the network service.

    History: 1.0 first version.
    """

    VERSION = "1.0"

    instance_uuid: uuid.UUID = field(read_only=True)
    network_info: NetworkInfo = field(default_factory=NetworkInfo)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted: bool = False

    @remotable_classmethod
    def get_by_instance_uuid(
        cls: type[InstanceInfoCache], context: Any, instance_uuid: uuid.UUID | str
    ) -> InstanceInfoCache:
        """The cache of an instance; raises ``InstanceInfoCacheNotFound``."""
        uuid_ = as_uuid(instance_uuid, "instance_uuid")
        return stored(get_storage().info_cache_get(context, uuid_))

    @remotable
    def save(self) -> None:
        """Store ``network_info`` (when changed) as the instance's network info."""
        if "network_info" not in self.obj_what_changed():
            return
        saved = get_storage().info_cache_save(
            self.obj_context, self.instance_uuid, self.network_info
        )
        self._obj_take_stored(saved)
