"""``cumulo conductor``: run a service process until interrupted."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from cumulo import logs

from .common import UsageError

LOG = logging.getLogger(__name__)

DEFAULT_TRANSPORT_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def cmd_conductor(args: argparse.Namespace) -> int:
    from cumulo.conductor.service import ConductorService
    from cumulo.db.exceptions import DatabaseError
    from cumulo.rpc import RPCError

    logs.configure("conductor", args.log_level)
    try:
        service = ConductorService(args.transport_url, args.database_url, host=args.host)
        service.start()
    except (DatabaseError, RPCError) as exc:
        raise UsageError(str(exc)) from None
    LOG.info("conductor started", extra={"transport": args.transport_url})
    try:
        _wait_for_signal()
    finally:
        service.stop()
        LOG.info("conductor stopped")
    return 0


def add_conductor_command(parser: argparse.ArgumentParser) -> None:
    from cumulo.db.engine import DATABASE_URL_ENV, default_database_url

    parser.add_argument(
        "--transport-url",
        default=DEFAULT_TRANSPORT_URL,
        metavar="URL",
        help=f"amqp://user:pass@host:port/vhost or inproc:// (default: {DEFAULT_TRANSPORT_URL})",
    )
    parser.add_argument(
        "--database-url",
        default=default_database_url(),
        metavar="URL",
        help=f"the database (default: ${DATABASE_URL_ENV}, else the embedded SQLite file)",
    )
    parser.add_argument("--host", default="conductor", help="this conductor's server name")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.set_defaults(handler=cmd_conductor)
