"""``cumulo server list|show|console``: read the instances of a running deployment
through the conductor's object API (``InstanceList.get_all`` / ``Instance.get_by_uuid``
with the conductor as the object indirection), like a compute process does; no
database access from here. ``console`` then asks the instance's compute host for
its console output (compute RPC 1.1; a host still on an older release is named)."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .common import UsageError
from .services import DEFAULT_TRANSPORT_URL
from .tables import server_detail, server_table


@contextmanager
def conductor_objects(transport_url: str, timeout: float) -> Iterator[Any]:
    """The conductor as this process's object indirection; yields a request context.
    Fails with one line when no conductor answers within ``timeout`` seconds."""
    from cumulo.conductor.rpcapi import ConductorAPI
    from cumulo.model.base import CumuloObject
    from cumulo.rpc import MessagingTimeout, RequestContext, RPCError, get_transport

    ctx = RequestContext(user_id="cli", project_id="admin", roles=["admin"], is_admin=True)
    try:
        transport = get_transport(transport_url)
        api = ConductorAPI(transport, timeout=max(timeout, 1.0))
    except RPCError as exc:
        raise UsageError(f"{transport_url}: {exc}") from None
    previous = CumuloObject.indirection_api
    try:
        try:
            api.ping(ctx, "cumulo server", timeout=timeout)
        except MessagingTimeout:
            raise UsageError(
                f"no conductor answered on {transport_url} within {timeout:g} s "
                "(is `cumulo conductor` running with this --transport-url?)"
            ) from None
        except RPCError as exc:
            raise UsageError(f"cannot reach the conductor on {transport_url}: {exc}") from None
        CumuloObject.indirection_api = api
        yield ctx
    finally:
        CumuloObject.indirection_api = previous
        api.close()


def cmd_server_list(args: argparse.Namespace) -> int:
    from cumulo.model import InstanceList

    with conductor_objects(args.transport_url, args.timeout) as ctx:
        instances = InstanceList.get_all(
            ctx, host=args.host, include_deleted=args.deleted, expected_attrs=["flavor"]
        )
        sys.stdout.write(server_table(ctx, instances) + "\n")
    return 0


def cmd_server_show(args: argparse.Namespace) -> int:
    from cumulo.model import Instance, InstanceNotFound

    instance_uuid = _instance_uuid(args.uuid)
    with conductor_objects(args.transport_url, args.timeout) as ctx:
        try:
            instance = Instance.get_by_uuid(ctx, instance_uuid, expected_attrs=["flavor"])
        except InstanceNotFound:
            raise UsageError(f"no instance {instance_uuid}") from None
        sys.stdout.write(server_detail(ctx, instance) + "\n")
    return 0


def _instance_uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise UsageError(f"{text!r} is not an instance uuid") from None


def cmd_server_console(args: argparse.Namespace) -> int:
    from cumulo.compute.exceptions import ComputeTooOld
    from cumulo.compute.rpcapi import ComputeAPI
    from cumulo.model import Instance, InstanceNotFound
    from cumulo.rpc import RemoteError, RPCError, get_transport

    if args.lines is not None and args.lines < 0:
        raise UsageError(f"--lines: expected a count >= 0, got {args.lines}")
    instance_uuid = _instance_uuid(args.uuid)
    with conductor_objects(args.transport_url, args.timeout) as ctx:
        try:
            instance = Instance.get_by_uuid(ctx, instance_uuid)
        except InstanceNotFound:
            raise UsageError(f"no instance {instance_uuid}") from None
        if not instance.host:
            raise UsageError(
                f"instance {instance_uuid} is on no host (vm_state {instance.vm_state})"
            )
        compute = ComputeAPI(
            get_transport(args.transport_url), timeout=max(args.timeout, 1.0), version_cap="auto"
        )
        try:
            output = compute.get_console_output(ctx, instance, args.lines)
        except ComputeTooOld as exc:
            raise UsageError(str(exc)) from None
        except (RemoteError, RPCError) as exc:
            raise UsageError(f"host {instance.host}: {exc}") from None
        finally:
            compute.close()
    sys.stdout.write(output)
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transport-url",
        default=DEFAULT_TRANSPORT_URL,
        metavar="URL",
        help=f"the deployment's message bus (default: {DEFAULT_TRANSPORT_URL})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to wait for the conductor (default: 5)",
    )


def add_server_commands(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    listing = sub.add_parser(
        "list",
        help="a table of the instances",
        description="a table of the instances: uuid, name, host, states, flavor, volumes",
    )
    _common(listing)
    listing.add_argument("--host", help="only the instances of this compute host")
    listing.add_argument("--deleted", action="store_true", help="include deleted instances")
    listing.set_defaults(handler=cmd_server_list)
    show = sub.add_parser(
        "show", help="one instance in detail", description="one instance in detail"
    )
    show.add_argument("uuid", help="the instance's uuid")
    _common(show)
    show.set_defaults(handler=cmd_server_show)
    console = sub.add_parser(
        "console",
        help="what the instance wrote on its console",
        description="what the instance wrote on its console, from its compute host "
        "(hosts on release 0.2 or newer)",
    )
    console.add_argument("uuid", help="the instance's uuid")
    console.add_argument("--lines", type=int, metavar="N", help="only the last N lines")
    _common(console)
    console.set_defaults(handler=cmd_server_console)
