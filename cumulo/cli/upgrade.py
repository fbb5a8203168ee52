"""``cumulo upgrade check``: is the fleet ready for (or in the middle of) a rolling
upgrade? It prints each service's level, the minimum compute level and the compute
RPC pin it implies, what blocks and why, and the pending online data migrations.
Each service reads ``up`` or ``down`` by the rule placement and the API use (a
heartbeat younger than ``--service-down-time``, not forced down).

It reads the services through the conductor (``--transport-url``, as a compute does)
or straight from the database (``--database-url``); online data migrations can only
be counted from the database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .common import DATABASE_URL_DEFAULT_HELP, UsageError, database_url
from .servers import conductor_objects
from .services import DEFAULT_TRANSPORT_URL


@dataclass
class Assessment:
    """What ``cumulo upgrade check`` found."""

    lines: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def assess(
    services: Sequence[Any],
    pending: Mapping[str, int] | None,
    service_down_time: float = 60.0,
) -> Assessment:
    """Judge ``services`` (``Service`` objects) and ``pending`` online migrations
    (``None``: not counted) against this code's service levels and skew policy; a
    service is up while its heartbeat is younger than ``service_down_time`` s."""
    from cumulo.compute.version import (
        OLDEST_SUPPORTED_SERVICE_VERSION,
        SERVICE_VERSION,
        SERVICE_VERSION_HISTORY,
        SKEW_POLICY,
        missing_capabilities,
        release_of,
        support_status,
    )
    from cumulo.model import ServiceBinary
    from cumulo.model.service import heartbeat_age, service_is_up

    found = Assessment()
    current = SERVICE_VERSION_HISTORY[SERVICE_VERSION]
    found.lines.append(
        f"this code: service level {SERVICE_VERSION} (compute RPC {current.compute_rpc}), "
        f"oldest supported compute level {OLDEST_SUPPORTED_SERVICE_VERSION}"
    )
    found.lines.append(
        f"skew policy: N-{SKEW_POLICY.releases_behind}, computes on release "
        f"{release_of(OLDEST_SUPPORTED_SERVICE_VERSION)} (level "
        f"{OLDEST_SUPPORTED_SERVICE_VERSION}) to {release_of(SERVICE_VERSION)} (level "
        f"{SERVICE_VERSION}) are served; a compute may be upgraded in place from any of "
        "them straight to this release"
    )
    found.lines.append("services:")
    if not services:
        found.lines.append("  (none)")
    width = max((len(s.host) for s in services), default=4)
    for service in sorted(services, key=lambda s: (str(s.binary), s.host)):
        flags = " disabled" if service.disabled else ""
        if service.binary == ServiceBinary.API:
            state = ""  # API workers do not heartbeat
        elif service_is_up(service, service_down_time):
            state = "  up"
        else:
            age = heartbeat_age(service)
            seen = "never seen" if age is None else f"last heartbeat {age:.0f} s ago"
            forced = "forced down, " if service.forced_down else ""
            state = f"  down ({forced}{seen})"
        found.lines.append(
            f"  {service.host:<{width}}  {service.binary!s:<16}  level {service.version}  "
            f"rpc {service.rpc_api_version}{flags}{state}"
        )
    computes = [s for s in services if s.binary == ServiceBinary.COMPUTE]
    if not computes:
        found.lines.append("minimum compute level: none (no computes; no pin)")
    else:
        minimum = min(s.version for s in computes)
        if 0 <= minimum < len(SERVICE_VERSION_HISTORY):
            pin = SERVICE_VERSION_HISTORY[minimum].compute_rpc
            lifted = (
                " (no pin: every compute runs this level)" if minimum == SERVICE_VERSION else ""
            )
            found.lines.append(f"minimum compute level: {minimum} -> compute RPC pin {pin}{lifted}")
        else:
            found.lines.append(f"minimum compute level: {minimum} -> no pin known to this code")
        older = sorted(
            (s for s in computes if s.version < SERVICE_VERSION), key=lambda s: (s.version, s.host)
        )
        if older:
            found.lines.append("computes behind this code:")
        for service in older:
            found.lines.append(f"  {service.host}: {support_status(service.version)}")
            if service.version >= OLDEST_SUPPORTED_SERVICE_VERSION:
                cannot = [c.what for c in missing_capabilities(service.version)]
                found.lines.append(f"    cannot: {'; '.join(cannot)}")
    for service in sorted(computes, key=lambda s: s.host):
        if service.version < OLDEST_SUPPORTED_SERVICE_VERSION:
            found.blocked.append(
                f"compute {service.host} is at level {service.version}, below the oldest "
                f"supported level {OLDEST_SUPPORTED_SERVICE_VERSION}: upgrade it (the "
                "conductor refuses to start while it is registered)"
            )
        elif service.version > SERVICE_VERSION:
            found.blocked.append(
                f"compute {service.host} is at level {service.version}, newer than this "
                f"code ({SERVICE_VERSION}): upgrade the conductor (and this cumulo) first"
            )
        elif service.version == OLDEST_SUPPORTED_SERVICE_VERSION < SERVICE_VERSION:
            found.warnings.append(
                f"compute {service.host} runs release {release_of(service.version)}, the "
                f"oldest this release serves: upgrade it before release "
                f"{release_of(SKEW_POLICY.first_level_without(service.version))}, which "
                "refuses it"
            )
    conductors = [s for s in services if s.binary == ServiceBinary.CONDUCTOR]
    newest_compute = max((s.version for s in computes), default=0)
    for service in sorted(conductors, key=lambda s: s.host):
        if service.version < newest_compute:
            found.blocked.append(
                f"conductor {service.host} is at level {service.version}, older than a "
                f"compute at level {newest_compute}: upgrade the conductors first "
                "(order: conductor -> api -> computes)"
            )
    if pending is None:
        found.lines.append("online data migrations: not counted (needs --database-url)")
    else:
        remaining = {name: n for name, n in pending.items() if n}
        if not remaining:
            found.lines.append("online data migrations: none pending")
        else:
            found.lines.append("online data migrations pending:")
            found.lines.extend(f"  {name}: {n} rows" for name, n in sorted(remaining.items()))
            found.warnings.append(
                "online data migrations are pending: run `cumulo db online-migrations` "
                "until it exits 0 before upgrading to the next release"
            )
    return found


@contextmanager
def database_objects(url: str) -> Iterator[tuple[Any, Any]]:
    """The database as this process's storage; yields (request context, engine)."""
    from cumulo.db import SqlStorage, create_engine
    from cumulo.db.engine import current_revision, describe, head_revision
    from cumulo.model.storage import set_storage
    from cumulo.rpc import RequestContext

    engine = create_engine(url)
    try:
        current = current_revision(engine)
        if current != head_revision():
            raise UsageError(
                f"{describe(engine.url)} is at schema revision {current or 'none'}, this "
                f"release needs {head_revision()}: run `cumulo db sync` first"
            )
        previous = set_storage(SqlStorage(engine))
        try:
            yield (
                RequestContext(user_id="cli", project_id="admin", roles=["admin"], is_admin=True),
                engine,
            )
        finally:
            set_storage(previous)
    finally:
        engine.dispose()


def cmd_upgrade_check(args: argparse.Namespace) -> int:
    from cumulo.model import ServiceList

    pending: dict[str, int] | None = None
    if args.service_down_time <= 0:
        raise UsageError("--service-down-time must be more than 0 seconds")
    if args.transport_url is not None and args.database_url is not None:
        raise UsageError("give --transport-url or --database-url, not both")
    if args.transport_url is not None:
        with conductor_objects(args.transport_url, args.timeout) as ctx:
            services = list(ServiceList.get_all(ctx).objects)
    else:
        from cumulo.compute.version import SERVICE_VERSION_HISTORY
        from cumulo.db.online_migrations import online_migrations, pending_online_migrations

        with database_objects(database_url(args)) as (ctx, engine):
            services = list(ServiceList.get_all(ctx).objects)
            pending = pending_online_migrations(engine, online_migrations(SERVICE_VERSION_HISTORY))
    found = assess(services, pending, args.service_down_time)
    out = list(found.lines)
    for message in found.warnings:
        out.append(f"warning: {message}")
    for message in found.blocked:
        out.append(f"blocked: {message}")
    out.append("result: BLOCKED" if found.blocked else "result: OK")
    sys.stdout.write("\n".join(out) + "\n")
    return 1 if found.blocked else 0


def add_upgrade_commands(parser: argparse.ArgumentParser) -> None:
    """``cumulo upgrade check``."""
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    help_text = (
        "the fleet's service levels, the compute RPC pin, what blocks the upgrade "
        "(exit 1) and pending online data migrations"
    )
    check = sub.add_parser("check", help=help_text, description=help_text)
    source = check.add_mutually_exclusive_group()
    source.add_argument(
        "--transport-url",
        default=None,
        metavar="URL",
        help=f"read the services through the conductor on this bus (e.g. {DEFAULT_TRANSPORT_URL})",
    )
    source.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help=f"read the services from the database (default: {DATABASE_URL_DEFAULT_HELP})",
    )
    check.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to wait for the conductor (default: 5)",
    )
    check.add_argument(
        "--service-down-time",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds after its last heartbeat a service reads down (default: 60)",
    )
    check.set_defaults(handler=cmd_upgrade_check)
