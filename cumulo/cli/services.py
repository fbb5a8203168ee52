"""``cumulo conductor`` and ``cumulo compute``: run a service process until
SIGTERM or SIGINT.

A compute process never imports the database layer (``cumulo.db``, SQLAlchemy):
its objects' remotable methods run in the conductor (``ConductorAPI`` as the
object indirection), so nothing here imports ``cumulo.db`` at module level and the
parser of every command stays free of it too.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from cumulo import logs
from cumulo.virt.loader import driver_entry, driver_names
from cumulo.virt.qemu.config import Accel

from .common import DATABASE_URL_DEFAULT_HELP, UsageError, database_url

if TYPE_CHECKING:
    from cumulo.compute.image_cache import ImageFetchConfig

LOG = logging.getLogger(__name__)

DEFAULT_TRANSPORT_URL = "amqp://guest:guest@127.0.0.1:5672//"
SERVICE_PASSWORD_ENV = "CUMULO_SERVICE_PASSWORD"
DEFAULT_SERVICE_USER = "compute"
DEFAULT_SERVICE_PROJECT = "service"
DEFAULT_IMAGE_CACHE_MAX_AGE = "24h"
_DURATION_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _add_pin_refresh_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pin-refresh",
        type=float,
        default=30.0,
        metavar="S",
        help="seconds the compute service levels are cached for the automatic version "
        "pins; an upgraded compute is seen this long after it restarts (default: 30)",
    )


def _add_service_down_time_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--service-down-time",
        type=float,
        default=60.0,
        metavar="S",
        help=f"seconds after its last heartbeat a service is down; {what} (default: 60)",
    )


def _positive(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        value = getattr(args, name)
        if value is not None and value <= 0:
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"{flag} must be more than 0 seconds, got {value:g}")


def _add_transport_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--transport-url",
        default=DEFAULT_TRANSPORT_URL,
        metavar="URL",
        help=f"amqp://user:pass@host:port/vhost or inproc:// (default: {DEFAULT_TRANSPORT_URL})",
    )


# --- conductor -----------------------------------------------------------------------------


def cmd_conductor(args: argparse.Namespace) -> int:
    from cumulo.compute.rpcapi import ComputeAPI
    from cumulo.compute.version import UnsupportedServiceVersion
    from cumulo.conductor.service import ConductorService
    from cumulo.conductor.tasks.manager import ComputeTaskManager
    from cumulo.db.exceptions import DatabaseError
    from cumulo.rpc import RPCError, get_transport

    _positive(args, "service_down_time")
    logs.configure("conductor", args.log_level)
    try:
        transport = get_transport(args.transport_url)
        tasks = ComputeTaskManager(
            transport,
            host=args.host,
            compute_rpc=ComputeAPI(transport, version_cap="auto", cap_ttl=args.pin_refresh),
            service_down_time=args.service_down_time,
        )
        service = ConductorService(
            transport, database_url(args), host=args.host, extra_endpoints=(tasks,)
        )
        service.start()
    except (DatabaseError, RPCError, UnsupportedServiceVersion) as exc:
        raise UsageError(str(exc)) from None
    LOG.info("conductor started", extra={"transport": args.transport_url})
    try:
        _wait_for_signal()
    finally:
        service.stop()
        tasks.compute_rpc.close()
        LOG.info("conductor stopped")
    return 0


def add_conductor_command(parser: argparse.ArgumentParser) -> None:
    _add_transport_option(parser)
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help=f"the database (default: {DATABASE_URL_DEFAULT_HELP})",
    )
    parser.add_argument("--host", default="conductor", help="this conductor's server name")
    _add_pin_refresh_option(parser)
    _add_service_down_time_option(parser, "placement skips such compute hosts")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.set_defaults(handler=cmd_conductor)


# --- compute -------------------------------------------------------------------------------


def cmd_compute(args: argparse.Namespace) -> int:
    from cumulo.compute.exceptions import ComputeHostInUse
    from cumulo.compute.manager import ComputeManager, peer_client
    from cumulo.compute.service import ComputeService
    from cumulo.compute.version import UnsupportedServiceVersion
    from cumulo.conductor.rpcapi import ConductorAPI
    from cumulo.rpc import RequestContext, RPCError, get_transport
    from cumulo.virt.loader import load_driver
    from cumulo.volume.store import VolumeStore

    if args.driver != "fake" and args.migration_channel:
        raise UsageError("--migration-channel: only the fake driver takes one")
    if args.driver != "qemu" and args.accel:
        raise UsageError("--accel: only the qemu driver takes one")
    _positive(args, "service_down_time", "report_interval")
    options = _driver_options(args)
    image_fetch = _image_fetch(args)
    logs.configure(f"compute-{args.host}", args.log_level)
    volume_dir = Path(args.volume_dir or Path("var") / "volumes")
    ctx = RequestContext(user_id="compute", project_id="admin", roles=["admin"], is_admin=True)
    try:
        transport = get_transport(args.transport_url)
        conductor = ConductorAPI(transport, timeout=args.conductor_timeout)
        conductor.wait_until_ready(ctx, timeout=args.conductor_wait)
    except RPCError as exc:
        raise UsageError(f"conductor: {exc}") from None
    try:
        driver = load_driver(args.driver, args.host, options)
        images = image_fetch.cache_for(driver) if image_fetch is not None else None
    except ValueError as exc:
        conductor.close()
        raise UsageError(str(exc)) from None
    manager = ComputeManager(
        args.host,
        driver,
        VolumeStore(volume_dir),
        # A host's peers may already run a newer release (the middle of an upgrade).
        compute_rpc=peer_client(transport, cap_ttl=args.pin_refresh, accept_newer_peers=True),
        images=images,
    )
    service = ComputeService(
        transport,
        manager,
        indirection=conductor,
        periodic_interval=args.periodic_interval,
        report_interval=args.report_interval,
        service_down_time=args.service_down_time,
    )
    try:
        service.start(ctx)
    except (RPCError, UnsupportedServiceVersion, ComputeHostInUse) as exc:
        manager.compute_rpc.close()
        conductor.close()
        raise UsageError(str(exc)) from None
    LOG.info(
        "compute started",
        extra={
            "host": args.host,
            "driver": args.driver,
            "transport": args.transport_url,
            "image_api": args.image_api,
        },
    )
    try:
        _wait_for_signal()
    finally:
        service.stop()
        driver.shutdown()
        manager.compute_rpc.close()
        conductor.close()
        LOG.info("compute stopped", extra={"host": args.host})
    return 0


def _driver_options(args: argparse.Namespace) -> dict[str, object]:
    """The driver's options: the table of --driver-config, overridden by the flags."""
    options: dict[str, object] = {}
    if args.driver_config:
        options.update(_read_driver_config(args.driver_config))
    for name in ("vcpus", "memory_mb", "disk_gb", "accel"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if args.migration_channel:
        options["migration_channel"] = args.migration_channel
    if args.driver == "qemu":
        state_dir = Path(args.state_dir or Path("var") / "compute" / args.host)
        if args.state_dir or "instances_path" not in options:
            options["instances_path"] = str(state_dir / "instances")
        if args.images_dir:
            options["images_path"] = args.images_dir
        elif args.state_dir or "images_path" not in options:
            options["images_path"] = str(state_dir / "images")
    elif args.image_api and (args.images_dir or "images_path" not in options):
        # A fake host fetching images keeps them too (and records their checksums).
        state_dir = Path(args.state_dir or Path("var") / "compute" / args.host)
        options["images_path"] = args.images_dir or str(state_dir / "images")
    # Checked before anything starts: a bad option is a usage error, not a traceback.
    try:
        driver_entry(args.driver).config_class().from_options(options)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return options


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``30m``, ``24h`` or ``7d``.

    Raises:
        ValueError: none of those, or negative.
    """
    given = text.strip().lower()
    unit = _DURATION_UNITS.get(given[-1:]) if given else None
    number = given[:-1] if unit is not None else given
    try:
        seconds = float(number) * (unit or 1.0)
    except ValueError:
        raise ValueError(f"expected seconds or a number with s, m, h or d, got {text!r}") from None
    if seconds < 0:
        raise ValueError(f"expected a duration >= 0, got {text!r}")
    return seconds


def service_password(
    path: str | None, *, flag: str = "--service-password-file", needed_by: str = "--image-api"
) -> str:
    """The service user's password: the first line of ``path``, else
    ``$CUMULO_SERVICE_PASSWORD`` (never a command-line value: it would show in the
    process list and in logs).

    Raises:
        UsageError: neither is given, or the file cannot be read.
    """
    if path:
        try:
            with open(path, encoding="utf-8") as stream:
                password = stream.readline().strip()
        except OSError as exc:
            raise UsageError(f"{flag} {path}: {exc.strerror or exc}") from None
        if not password:
            raise UsageError(f"{flag} {path}: the file is empty")
        return password
    password = os.environ.get(SERVICE_PASSWORD_ENV, "")
    if not password:
        raise UsageError(f"{needed_by} needs {flag} or ${SERVICE_PASSWORD_ENV}")
    return password


def _image_fetch(args: argparse.Namespace) -> ImageFetchConfig | None:
    """How this host fetches images (``None``: no --image-api, the driver's own images)."""
    from cumulo.compute.image_cache import ImageFetchConfig
    from cumulo.compute.image_client import ImageApiClient, ServiceCredential

    if not args.image_api:
        for flag in ("identity_url", "service_password_file"):
            if getattr(args, flag):
                raise UsageError(f"--{flag.replace('_', '-')}: only with --image-api")
        return None
    try:
        max_age = parse_duration(args.image_cache_max_age)
    except ValueError as exc:
        raise UsageError(f"--image-cache-max-age: {exc}") from None
    identity = args.identity_url or _sibling_url(args.image_api, "identity")
    credential = ServiceCredential(
        identity_url=identity,
        username=args.service_user,
        password=service_password(args.service_password_file),
        project=args.service_project,
    )
    try:
        ImageApiClient(args.image_api, credential)  # the URLs are checked here
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return ImageFetchConfig(image_url=args.image_api, credential=credential, max_age=max_age)


def _sibling_url(url: str, name: str) -> str:
    """``http://h:p/identity`` beside ``http://h:p/image`` (the services of one API)."""
    base, _, last = url.rstrip("/").rpartition("/")
    if last != "image" or "//" not in base:
        raise UsageError(f"--identity-url is needed: cannot derive it from --image-api {url}")
    return f"{base}/{name}"


def _read_driver_config(path: str) -> dict[str, object]:
    try:
        with open(path, "rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise UsageError(f"--driver-config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--driver-config {path}: not TOML: {exc}") from None


COMPUTE_EPILOG = """\
Live migration between fake hosts: hosts of one process share a fake hypervisor
network; hosts in separate processes hand the guest over through a fake migration
channel, a directory every compute process is given with --migration-channel
(the destination's pre_live_migration reserves the guest, the source sends its
state there, the destination takes it in). Across processes instance storage is
never shared, so a guest with a local disk needs block migration. Without
--migration-channel a fake host cannot live-migrate to another process.
"""


def add_compute_command(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = COMPUTE_EPILOG
    parser.add_argument("--host", required=True, help="this compute host's name")
    parser.add_argument(
        "--driver",
        choices=driver_names(),
        default="fake",
        help="the hypervisor driver, from the driver registry (built-ins and the "
        "cumulo.virt.drivers entry points; default: fake)",
    )
    parser.add_argument(
        "--driver-config",
        metavar="FILE",
        help='a TOML file of the driver\'s options (e.g. accel = "tcg"); the flags '
        "below override it",
    )
    parser.add_argument(
        "--accel",
        choices=[accel.value for accel in Accel],
        help="qemu: the accelerator (default: auto, KVM when usable)",
    )
    _add_transport_option(parser)
    _add_pin_refresh_option(parser)
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="qemu: where instances (and base images) live (default: ./var/compute/HOST)",
    )
    parser.add_argument(
        "--volume-dir",
        metavar="DIR",
        help="the volume store, shared by every host (default: ./var/volumes)",
    )
    parser.add_argument(
        "--images-dir", metavar="DIR", help="qemu: base images (default: STATE_DIR/images)"
    )
    images = parser.add_argument_group(
        "images from the image API",
        "  With --image-api the host downloads each image it boots into its image\n"
        "  directory (qemu: --images-dir; fake: STATE_DIR/images) as a service user\n"
        "  holding the service role (`cumulo identity service-user`); without it the\n"
        "  driver boots what the directory holds.",
    )
    images.add_argument(
        "--image-api", metavar="URL", help="the image API's root, e.g. http://api:8774/image"
    )
    images.add_argument(
        "--identity-url",
        metavar="URL",
        help="the identity API's root (default: beside the image API, .../identity)",
    )
    images.add_argument(
        "--service-user",
        default=DEFAULT_SERVICE_USER,
        metavar="NAME",
        help=f"the host's service user, in the Default domain (default: {DEFAULT_SERVICE_USER})",
    )
    images.add_argument(
        "--service-project",
        default=DEFAULT_SERVICE_PROJECT,
        metavar="NAME",
        help=f"the project its token is scoped to (default: {DEFAULT_SERVICE_PROJECT})",
    )
    images.add_argument(
        "--service-password-file",
        metavar="FILE",
        help=f"a file holding its password (default: ${SERVICE_PASSWORD_ENV})",
    )
    images.add_argument(
        "--image-cache-max-age",
        default=DEFAULT_IMAGE_CACHE_MAX_AGE,
        metavar="AGE",
        help="remove a cached image no instance of the host used for this long: seconds, "
        f"or with s, m, h, d (default: {DEFAULT_IMAGE_CACHE_MAX_AGE})",
    )
    parser.add_argument(
        "--migration-channel",
        metavar="DIR",
        help="fake: a directory shared by the fake hosts of every process, for live "
        "migration between processes (see below)",
    )
    parser.add_argument("--vcpus", type=int, help="the host's vCPUs (default: the driver's)")
    parser.add_argument("--memory-mb", type=int, help="the host's RAM in MiB")
    parser.add_argument("--disk-gb", type=int, help="the host's instance disk in GiB")
    parser.add_argument(
        "--periodic-interval",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds between periodic tasks: heartbeat, resources, power sync, cleanup of "
        "cached images (default: 60)",
    )
    parser.add_argument(
        "--report-interval",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds between heartbeats, besides the periodic tasks' (default: 10)",
    )
    _add_service_down_time_option(
        parser,
        "a host whose process died (heartbeat older, or nothing answering on its queue) "
        "is taken over; one whose process lives is refused",
    )
    parser.add_argument(
        "--conductor-wait",
        type=float,
        default=60.0,
        metavar="S",
        help="how long to wait for a conductor at start (default: 60)",
    )
    parser.add_argument(
        "--conductor-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="timeout of one object call to the conductor (default: 30)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.set_defaults(handler=cmd_compute)
