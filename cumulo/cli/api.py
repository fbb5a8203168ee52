"""``cumulo api``: the HTTP API (Falcon under gunicorn, several worker processes)
serving ``/identity`` on one listener until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from cumulo import logs
from cumulo.api.config import (
    DEFAULT_BIND,
    DEFAULT_IMAGE_SIZE_LIMIT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_REGION,
)

from .common import DATABASE_URL_DEFAULT_HELP, UsageError, database_url
from .identity import _add_key_options, key_repository, synced_engine


def cmd_api(args: argparse.Namespace) -> int:
    from cumulo.api.config import ApiConfig
    from cumulo.api.server import ApiServer, ServerOptions
    from cumulo.identity import KeyRepository, KeyRepositoryError

    if args.workers < 1 or args.threads < 1:
        raise UsageError("--workers and --threads must be at least 1")
    if args.token_expiration < 1:
        raise UsageError("--token-expiration must be at least 1 second")
    if args.rpc_timeout <= 0:
        raise UsageError("--rpc-timeout must be more than 0 seconds")
    if args.service_down_time <= 0:
        raise UsageError("--service-down-time must be more than 0 seconds")
    if args.policy_file is not None and not Path(args.policy_file).is_file():
        raise UsageError(f"--policy-file {args.policy_file}: no such file")
    url = database_url(args)
    synced_engine(url).dispose()  # refuse a database that is not at this schema
    keys = key_repository(args)
    try:
        KeyRepository(keys, args.max_active_keys).keyring()
    except KeyRepositoryError as exc:
        raise UsageError(str(exc)) from None
    config = ApiConfig(
        database_url=url,
        key_repository=keys,
        public_url=args.public_url,
        region=args.region,
        token_lifetime=timedelta(seconds=args.token_expiration),
        max_body_bytes=args.max_body_size,
        policy_file=Path(args.policy_file) if args.policy_file else None,
        max_active_keys=args.max_active_keys,
        transport_url=args.transport_url,
        rpc_timeout=args.rpc_timeout,
        volume_dir=Path(args.volume_dir) if args.volume_dir else None,
        images_dir=Path(args.images_dir) if args.images_dir else None,
        image_size_limit=args.image_size_limit,
        service_down_time=args.service_down_time,
    )
    options = ServerOptions(
        bind=args.bind, workers=args.workers, threads=args.threads, log_level=args.log_level
    )
    logs.configure("api", args.log_level)
    ApiServer(config, options).run()  # exits the process when gunicorn stops
    return 0


def add_api_command(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bind",
        default=DEFAULT_BIND,
        metavar="HOST:PORT",
        help=f"where to listen (default: {DEFAULT_BIND})",
    )
    parser.add_argument(
        "--workers", type=int, default=2, metavar="N", help="worker processes (default: 2)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        metavar="N",
        help="threads per worker; 1 runs gunicorn's sync workers (default: 4)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help=f"the database (default: {DATABASE_URL_DEFAULT_HELP})",
    )
    _add_key_options(parser)
    parser.add_argument(
        "--public-url",
        default=None,
        metavar="URL",
        help="the base URL clients reach the API at, for the catalog and links "
        "(default: the scheme and host of each request)",
    )
    parser.add_argument(
        "--region", default=DEFAULT_REGION, help=f"the catalog's region (default: {DEFAULT_REGION})"
    )
    parser.add_argument(
        "--token-expiration",
        type=int,
        default=3600,
        metavar="S",
        help="token lifetime in seconds (default: 3600)",
    )
    parser.add_argument(
        "--max-body-size",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="BYTES",
        help=f"largest request body accepted (default: {DEFAULT_MAX_BODY_BYTES}); larger: 413",
    )
    parser.add_argument(
        "--policy-file",
        default=None,
        metavar="YAML",
        help="rules overriding the default policy, in oslo.policy's policy.yaml syntax",
    )
    parser.add_argument(
        "--transport-url",
        default=None,
        metavar="URL",
        help="the bus of the conductor and the compute hosts (amqp://...); without one "
        "the API serves identity, flavors and reads, and answers 503 to server changes",
    )
    parser.add_argument(
        "--rpc-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds a call to the conductor or a host may take (default: 60)",
    )
    parser.add_argument(
        "--volume-dir",
        default=None,
        metavar="DIR",
        help="the volume store the compute hosts use (for os-volume_attachments)",
    )
    parser.add_argument(
        "--images-dir",
        default=None,
        metavar="DIR",
        help="the image catalog the hosts boot from (served with uploads at /image)",
    )
    parser.add_argument(
        "--image-size-limit",
        type=int,
        default=DEFAULT_IMAGE_SIZE_LIMIT,
        metavar="BYTES",
        help=f"largest image upload accepted (default: {DEFAULT_IMAGE_SIZE_LIMIT}); larger: 413",
    )
    parser.add_argument(
        "--service-down-time",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds after its last heartbeat a service reads down in os-services, "
        "os-hypervisors, zones and host_status (default: 60)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.set_defaults(handler=cmd_api)
