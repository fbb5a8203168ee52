"""A server list's query (``GET /servers`` and ``/servers/detail``): Nova's filters,
sort keys and marker paging over the instances the caller may see. The database
selects by project, host, vm_state and deletion; the rest is matched here."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

import falcon

from cumulo.model import Instance, InstanceList, VmState
from cumulo.rpc.context import RequestContext

from ..errors import BadRequest
from . import server_views
from .common import microversion
from .listing import changes_since, truthy
from .microversions import INVALID_STATUS_FILTER, since

LIST_ATTRS = ("flavor", "info_cache", "security_groups", "fault", "tags")
"""What a detailed server body reads besides the instance's columns."""

_SORT_KEYS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    "display_name": "display_name",
    "uuid": "uuid",
    "launched_at": "launched_at",
    "vm_state": "vm_state",
    "task_state": "task_state",
    "host": "host",
    "node": "node",
    "availability_zone": "availability_zone",
    "key_name": "key_name",
    "project_id": "project_id",
    "user_id": "user_id",
    "hostname": "hostname",
}
"""The sort keys a list accepts (Nova's), mapped to instance fields."""
_ADMIN_SORT_KEYS = {"host", "node"}


def _truthy(value: str | None) -> bool:
    """A flag given without a value (``?all_tenants``) is set, as in Nova."""
    return value is not None and (not value.strip() or truthy(value.strip()))


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _limit(req: falcon.Request) -> int | None:
    text = req.get_param("limit")
    if text is None:
        return None
    if not text.isdigit():
        raise BadRequest(f"Invalid input for query parameters limit. Value: {text}.")
    return int(text)


class ServerQuery:
    """One list request's filters, sort and page (Nova's semantics; a non-admin's
    admin-only filters are ignored, as Nova removes them)."""

    def __init__(self, req: falcon.Request, context: RequestContext) -> None:
        self.admin = context.is_admin
        version = microversion(req)
        params = req.params
        all_tenants = (
            self.admin and "all_tenants" in params and _truthy(req.get_param("all_tenants"))
        )
        project = req.get_param("project_id") or req.get_param("tenant_id")
        if self.admin and project:
            self.project_id: str | None = project
        elif all_tenants:
            self.project_id = None
        else:
            self.project_id = context.project_id
        self.host = req.get_param("host") if self.admin else None
        self.deleted = (
            self.admin and _truthy(req.get_param("deleted")) if "deleted" in params else False
        )
        self.changes_since = changes_since(req.params)
        self.name = req.get_param("name")
        self.status = req.get_param("status")
        self.vm_states: tuple[VmState, ...] | None = None
        if self.status is not None:
            self.vm_states = server_views.vm_states_of(self.status)
            if self.vm_states is None and since(version, INVALID_STATUS_FILTER):
                raise BadRequest(f"Invalid status value: {self.status}")
        self.image = req.get_param("image")
        self.flavor = req.get_param("flavor")
        self.reservation_id = req.get_param("reservation_id")
        self.ip = req.get_param("ip")
        self.ip6 = req.get_param("ip6")
        self.zone = req.get_param("availability_zone")
        self.key_name = req.get_param("key_name")
        self.uuid = req.get_param("uuid")
        self.tags = _tag_list(req.get_param("tags"))
        self.tags_any = _tag_list(req.get_param("tags-any"))
        self.not_tags = _tag_list(req.get_param("not-tags"))
        self.not_tags_any = _tag_list(req.get_param("not-tags-any"))
        self.limit = _limit(req)
        self.marker = req.get_param("marker")
        keys = req.get_param_as_list("sort_key") or ["created_at"]
        dirs = req.get_param_as_list("sort_dir") or []
        for key in keys:
            if key not in _SORT_KEYS or (key in _ADMIN_SORT_KEYS and not self.admin):
                raise BadRequest(f"Invalid input for query parameters sort_key. Value: {key}.")
        for direction in dirs:
            if direction not in ("asc", "desc"):
                raise BadRequest(
                    f"Invalid input for query parameters sort_dir. Value: {direction}."
                )
        self.sort = [(k, dirs[i] if i < len(dirs) else "desc") for i, k in enumerate(keys)]

    def matches(self, instance: Instance) -> bool:
        if self.deleted is False and instance.deleted and self.changes_since is None:
            return False
        if self.changes_since is not None:
            updated = _aware(instance.updated_at or instance.created_at)
            if updated is None or updated < self.changes_since:
                return False
        if self.name is not None and not _name_matches(self.name, instance.display_name or ""):
            return False
        if self.status is not None:
            status = server_views.status_of(instance.vm_state, instance.task_state)
            if status != self.status.upper():
                return False
        if self.image is not None and instance.image_ref != self.image:
            return False
        if self.flavor is not None and instance.flavor.flavorid != self.flavor:
            return False
        if self.reservation_id is not None and instance.reservation_id != self.reservation_id:
            return False
        if self.zone is not None and (instance.availability_zone or "") != self.zone:
            return False
        if self.key_name is not None and instance.key_name != self.key_name:
            return False
        if self.uuid is not None and str(instance.uuid) != self.uuid:
            return False
        if (self.ip is not None or self.ip6 is not None) and not _ip_matches(
            instance, self.ip, self.ip6
        ):
            return False
        return self._tags_match(set(instance.tags))

    def _tags_match(self, tags: set[str]) -> bool:
        if self.tags and not set(self.tags) <= tags:
            return False
        if self.tags_any and not set(self.tags_any) & tags:
            return False
        if self.not_tags and set(self.not_tags) <= tags:
            return False
        return not (self.not_tags_any and set(self.not_tags_any) & tags)

    def select(self, context: RequestContext) -> list[Instance]:
        found = InstanceList.get_all(
            context,
            project_id=self.project_id,
            host=self.host,
            vm_states=None if self.status is None else (self.vm_states or ()),
            include_deleted=self.deleted or self.changes_since is not None,
            expected_attrs=list(LIST_ATTRS),
        ).objects
        chosen = [i for i in found if self.matches(i)]
        for key, direction in reversed(self.sort):
            chosen.sort(key=_sort_key(_SORT_KEYS[key]), reverse=direction == "desc")
        if self.marker is not None:
            ids = [str(i.uuid) for i in chosen]
            if self.marker not in ids:
                raise BadRequest(f"marker [{self.marker}] not found")
            chosen = chosen[ids.index(self.marker) + 1 :]
        return chosen


def _sort_key(field: str) -> Callable[[Instance], tuple[int, Any]]:
    return lambda instance: _sortable(getattr(instance, field))


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, datetime):
        return (1, _aware(value))
    return (1, str(value))


def _tag_list(text: str | None) -> list[str]:
    return [t for t in (text or "").split(",") if t]


def _name_matches(pattern: str, name: str) -> bool:
    """Nova matches ``name`` as a regular expression (a bad one as plain text)."""
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return pattern in name


def _ip_matches(instance: Instance, ip: str | None, ip6: str | None) -> bool:
    cache = instance.info_cache
    addresses = [str(a.address) for vif in cache.network_info for a in vif.fixed_ips()]
    for pattern, version in ((ip, 4), (ip6, 6)):
        if pattern is None:
            continue
        if not any(
            ip_address(a).version == version and _name_matches(pattern, a) for a in addresses
        ):
            return False
    return True
