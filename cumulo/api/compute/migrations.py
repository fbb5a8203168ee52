"""Migrations, for admins: ``/compute/v2.1/os-migrations`` (every migration, with
Nova's filters) and ``/servers/{server_id}/migrations`` (a server's live
migrations in progress, with their memory and disk progress; from 2.23).

Aborting (``DELETE``, 2.24) and forcing completion (``force_complete``, 2.22) are
checked as Nova checks them, but Cumulo's compute hosts have no flow for either
yet: a request that Nova would carry out is refused with a 409 that says so.

``os-migrations`` reads each server's migrations (``MigrationList`` has no query
over all of them) and filters here, so the object stays at its version.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, NoReturn

import falcon

from cumulo.identity import Token
from cumulo.model import (
    Instance,
    InstanceList,
    Migration,
    MigrationList,
    MigrationNotFound,
    MigrationStatus,
    MigrationType,
    TaskState,
    VmState,
)
from cumulo.rpc.context import RequestContext

from ..errors import BadRequest, Conflict, NotFound
from ..media import read_json
from ..state import ApiState
from ..validation import Schema
from .common import bookmark_url, context_of, microversion, project_token, v21_url
from .instances import authorized_instance, check_state, check_unlocked
from .listing import (
    MULTI_TEXT,
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
    truthy,
    values_of,
)
from .microversions import (
    ABORT_MIGRATION,
    FORCE_COMPLETE_MIGRATION,
    MIGRATION_TYPE_AND_LINKS,
    MIGRATIONS_PAGING,
    Change,
    Microversion,
    since,
)

IN_PROGRESS = frozenset(
    {
        MigrationStatus.QUEUED,
        MigrationStatus.PREPARING,
        MigrationStatus.RUNNING,
        MigrationStatus.POST_MIGRATING,
    }
)
"""The statuses of a live migration that Nova calls in progress."""

_FILTERS: dict[str, Any] = {
    "hidden": MULTI_TEXT,
    "host": MULTI_TEXT,
    "instance_uuid": MULTI_TEXT,
    "source_compute": MULTI_TEXT,
    "status": MULTI_TEXT,
    "migration_type": MULTI_TEXT,
}
LIST_QUERY = query_schema(_FILTERS, strict=False)
"""Nova's ``list_query_schema_v20``: its filters, anything else ignored."""
LIST_QUERY_2_59 = query_schema(
    {
        **_FILTERS,
        "limit": NON_NEGATIVE_INTEGER,
        "marker": TEXT,
        "changes-since": TEXT,
    },
    strict=True,
)
"""Nova's ``list_query_params_v259``: paging and ``changes-since``, nothing unknown."""

_EPOCH = datetime.min.replace(tzinfo=UTC)

FORCE_COMPLETE = Schema(
    {
        "type": "object",
        "properties": {"force_complete": {"type": "null"}},
        "required": ["force_complete"],
        "additionalProperties": False,
    }
)


def in_progress_live(migration: Migration) -> bool:
    return (
        migration.migration_type == MigrationType.LIVE_MIGRATION and migration.status in IN_PROGRESS
    )


def migration_links(req: falcon.Request, state: ApiState, migration: Migration) -> list[Any]:
    path = f"/servers/{migration.instance_uuid}/migrations/{migration.id}"
    return [
        {"rel": "self", "href": f"{v21_url(req, state)}{path}"},
        {"rel": "bookmark", "href": f"{bookmark_url(req, state)}{path}"},
    ]


def _common(migration: Migration) -> dict[str, Any]:
    """The fields both listings show under the same names."""
    return {
        "created_at": nova_time(migration.created_at),
        "dest_compute": migration.dest_compute,
        "dest_host": None if migration.dest_host is None else str(migration.dest_host),
        "dest_node": migration.dest_node,
        "id": migration.id,
        "source_compute": migration.source_compute,
        "source_node": migration.source_node,
        "status": str(migration.status),
        "updated_at": nova_time(migration.updated_at),
    }


def render_migration(
    req: falcon.Request, state: ApiState, version: Microversion, migration: Migration
) -> dict[str, Any]:
    """An item of ``GET /os-migrations``."""
    body = _common(migration)
    body["instance_uuid"] = str(migration.instance_uuid)
    body["new_instance_type_id"] = migration.new_flavor_id
    body["old_instance_type_id"] = migration.old_flavor_id
    if since(version, MIGRATION_TYPE_AND_LINKS):
        body["migration_type"] = str(migration.migration_type)
        if in_progress_live(migration):
            body["links"] = migration_links(req, state, migration)
    if since(version, MIGRATIONS_PAGING):
        body["uuid"] = str(migration.uuid)
    return body


def render_server_migration(version: Microversion, migration: Migration) -> dict[str, Any]:
    """A live migration of ``GET /servers/{server_id}/migrations[/{migration_id}]``."""
    body = _common(migration)
    body |= {
        "disk_processed_bytes": migration.disk_processed,
        "disk_remaining_bytes": migration.disk_remaining,
        "disk_total_bytes": migration.disk_total,
        "memory_processed_bytes": migration.memory_processed,
        "memory_remaining_bytes": migration.memory_remaining,
        "memory_total_bytes": migration.memory_total,
        "server_uuid": str(migration.instance_uuid),
    }
    if since(version, MIGRATIONS_PAGING):
        body["uuid"] = str(migration.uuid)
    return body


def all_migrations(context: RequestContext, instance_uuids: list[str] | None) -> list[Migration]:
    """Every migration (of the servers named, when ``instance_uuids`` is given), by id."""
    uuids: list[uuid.UUID | str]
    if instance_uuids is None:
        uuids = [i.uuid for i in InstanceList.get_all(context, include_deleted=True)]
    else:
        uuids = [u for u in instance_uuids if _is_uuid(u)]
    found = [m for u in uuids for m in MigrationList.get_by_instance(context, u).objects]
    return sorted(found, key=lambda m: m.id)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def matches(query: dict[str, Any], migration: Migration) -> bool:
    """Nova's ``migration_get_all_by_filters``: ``host`` is the source or the
    destination, the other filters are exact (a repeated one: any of its values)."""
    hosts = values_of(query, "host")
    if hosts is not None and not {migration.source_compute, migration.dest_compute} & set(hosts):
        return False
    for name, value in (
        ("source_compute", migration.source_compute),
        ("status", str(migration.status)),
        ("migration_type", str(migration.migration_type)),
    ):
        wanted = values_of(query, name)
        if wanted is not None and value not in wanted:
            return False
    hidden = values_of(query, "hidden")
    return hidden is None or migration.hidden == truthy(hidden[-1])


class Migrations:
    """``GET /os-migrations``."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        version = microversion(req)
        paging = since(version, MIGRATIONS_PAGING)
        query = read_query(req, LIST_QUERY_2_59 if paging else LIST_QUERY)
        token = project_token(req, self.state)
        self.state.policy.authorize("os_compute_api:os-migrations:index", token)
        context = context_of(req, token)
        found = all_migrations(context, values_of(query, "instance_uuid"))
        if not paging:
            chosen = [m for m in found if matches(query, m)]
            resp.media = {
                "migrations": [render_migration(req, self.state, version, m) for m in chosen]
            }
            return
        moment = changes_since(query)
        newest_first = sorted(found, key=lambda m: (m.created_at or _EPOCH, m.id), reverse=True)
        marker = query.get("marker")
        chosen, more = page(
            newest_first,
            lambda m: str(m.uuid),
            limit_of(query),
            marker,
            f"Marker {marker} could not be found.",
            keep=lambda m: matches(query, m) and later(m.updated_at, moment),
        )
        body: dict[str, Any] = {
            "migrations": [render_migration(req, self.state, version, m) for m in chosen]
        }
        if more and chosen:
            url = f"{v21_url(req, self.state)}/os-migrations"
            body["migrations_links"] = next_links(req, url, str(chosen[-1].uuid))
        resp.media = body


def _route_since(req: falcon.Request, change: Change) -> Microversion:
    """The request's version; a 404, as Nova answers, before the route existed."""
    version = microversion(req)
    if not since(version, change):
        raise falcon.HTTPNotFound()
    return version


def migration_of(
    context: RequestContext, instance: Instance, migration_id: str
) -> Migration | None:
    """The migration ``migration_id`` of the server, if it is one of its own."""
    try:
        migration = Migration.get_by_id(context, int(migration_id))
    except (ValueError, MigrationNotFound):
        return None
    return migration if migration.instance_uuid == instance.uuid else None


class _ServerMigrations:
    def __init__(self, state: ApiState) -> None:
        self.state = state

    def _refuse_running(
        self,
        req: falcon.Request,
        server_id: str,
        migration_id: str,
        rule: str,
        method: str,
        why: str,
    ) -> NoReturn:
        """Check an abort or a force-complete as Nova does (see :func:`check_running`),
        then refuse the one Nova would carry out: 409, saying ``why``."""
        token, context, instance = authorized_instance(req, self.state, server_id, rule)
        check_running(token, context, instance, migration_id, method)
        raise Conflict(f"Live migration {migration_id} of server {server_id} {why}")


class ServerMigrations(_ServerMigrations):
    """``GET /servers/{server_id}/migrations`` (2.23)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, server_id: str) -> None:
        version = _route_since(req, MIGRATION_TYPE_AND_LINKS)
        _, context, instance = authorized_instance(
            req, self.state, server_id, "os_compute_api:servers:migrations:index"
        )
        running = [
            m
            for m in MigrationList.get_by_instance(context, instance.uuid).objects
            if in_progress_live(m)
        ]
        resp.media = {"migrations": [render_server_migration(version, m) for m in running]}


class ServerMigration(_ServerMigrations):
    """``GET`` (2.23) and ``DELETE`` (2.24) ``/servers/{server_id}/migrations/{migration_id}``."""

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, server_id: str, migration_id: str
    ) -> None:
        version = _route_since(req, MIGRATION_TYPE_AND_LINKS)
        _, context, instance = authorized_instance(
            req, self.state, server_id, "os_compute_api:servers:migrations:show"
        )
        migration = migration_of(context, instance, migration_id)
        if migration is None:
            raise NotFound(
                f"In-progress live migration {migration_id} is not found for server {server_id}."
            )
        if migration.migration_type != MigrationType.LIVE_MIGRATION:
            raise NotFound(
                f"Migration {migration_id} for server {server_id} is not live-migration."
            )
        if migration.status not in IN_PROGRESS:
            raise NotFound(
                f"Live migration {migration_id} for server {server_id} is not in progress."
            )
        resp.media = {"migration": render_server_migration(version, migration)}

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, server_id: str, migration_id: str
    ) -> None:
        _route_since(req, ABORT_MIGRATION)
        self._refuse_running(
            req,
            server_id,
            migration_id,
            "os_compute_api:servers:migrations:delete",
            "abort live migration",
            "cannot be aborted: this cloud's compute hosts cannot abort a live migration "
            "yet; it goes on.",
        )


class ServerMigrationAction(_ServerMigrations):
    """``POST /servers/{server_id}/migrations/{migration_id}/action`` (2.22)."""

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, server_id: str, migration_id: str
    ) -> None:
        _route_since(req, FORCE_COMPLETE_MIGRATION)
        read_json(req, FORCE_COMPLETE)
        self._refuse_running(
            req,
            server_id,
            migration_id,
            "os_compute_api:servers:migrations:force_complete",
            "force complete",
            "cannot be forced to complete: this cloud's compute hosts cannot force a live "
            "migration to complete yet; it goes on at its own pace.",
        )


def check_running(
    token: Token,
    context: RequestContext,
    instance: Instance,
    migration_id: str,
    method: str,
) -> Migration:
    """Nova's checks before an abort or a force-complete: the server unlocked (409),
    live-migrating (409), the migration its own (404 for an abort, 400 for a
    force-complete, as in Nova) and running (400)."""
    check_unlocked(instance, token)
    check_state(instance, method, [VmState.ACTIVE], [TaskState.MIGRATING])
    migration = migration_of(context, instance, migration_id)
    if migration is None:
        message = f"Migration {migration_id} not found for instance {instance.uuid}"
        raise NotFound(message) if method.startswith("abort") else BadRequest(message)
    if (
        migration.migration_type != MigrationType.LIVE_MIGRATION
        or migration.status != MigrationStatus.RUNNING
    ):
        raise BadRequest(
            f"Migration {migration_id} state of instance {instance.uuid} is "
            f"{migration.status}. Cannot {method} while the migration is in this state."
        )
    return migration
