"""``cumulo all-in-one``: the embedded deployment (SQLite under the state directory,
``inproc://``, a conductor, compute hosts) and the HTTP API on it, in one process,
serving until SIGINT or SIGTERM. It bootstraps the identity, writes a ``clouds.yaml``
for the OpenStack clients and prints the line that points them at it.

The API runs in this process (on threads, not gunicorn's forked workers) because the
``inproc://`` bus the conductor and the hosts listen on exists only here.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shlex
import signal
import string
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from cumulo import logs

from .clouds_yaml import CLOUD_NAME, ChangedByUser, CloudEntry, render, write_clouds_yaml
from .common import UsageError
from .identity import ADMIN_PASSWORD_ENV

LOG = logging.getLogger(__name__)

DEFAULT_STATE_DIR = "var/all-in-one"
DEFAULT_BIND = "127.0.0.1:8774"
PASSWORD_FILE = "admin-password"
KEYS_DIR = "fernet-keys"
IMAGES_DIR = "images"
DEFAULT_IMAGE = "cirros"
PLACEHOLDER_BYTES = 1024 * 1024
"""The fake driver's default image: a MiB of zeros (it boots nothing)."""
CLOUDS_YAML = "clouds.yaml"
DEFAULT_HOSTS = ("host-a", "host-b")
ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
"""Listening on every address, the clients are pointed at loopback."""


def host_names(given: str | None) -> tuple[str, ...]:
    """``--hosts``: a count (``3``: host-a, host-b, host-c) or comma-separated names."""
    if given is None:
        return DEFAULT_HOSTS
    if given.isdigit():
        count = int(given)
        if not 1 <= count <= len(string.ascii_lowercase):
            raise UsageError(f"--hosts {given}: expected a count from 1 to 26, or names")
        return tuple(f"host-{letter}" for letter in string.ascii_lowercase[:count])
    names = tuple(name.strip() for name in given.split(","))
    if not all(names) or len(set(names)) != len(names):
        raise UsageError(f"--hosts {given!r}: expected distinct comma-separated names")
    return names


def admin_password(state_dir: Path, given: str | None) -> tuple[str, str]:
    """The admin password, and where it came from: ``given`` (then nothing is kept, and
    a password kept earlier is removed, as it is stale), else the one kept under
    ``state_dir``, else a new one kept there (mode 0600)."""
    kept = state_dir / PASSWORD_FILE
    if given:
        kept.unlink(missing_ok=True)
        return given, "given"
    if kept.exists():
        return kept.read_text(encoding="utf-8").strip(), f"kept in {kept}"
    password = secrets.token_urlsafe(18)
    fd = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(password + "\n")
    return password, f"generated, kept in {kept}"


def cloud_options(args: argparse.Namespace, state_dir: Path, hosts: tuple[str, ...]) -> Any:
    from cumulo.deploy import CloudOptions

    configs: dict[str, Any] = {}
    if args.driver == "qemu":
        from cumulo.virt.qemu import QemuConfig

        configs = {
            host: QemuConfig(
                instances_path=state_dir / "instances" / host, images_path=state_dir / IMAGES_DIR
            )
            for host in hosts
        }
    return CloudOptions.under(
        state_dir,
        # A name of its own: two clouds in one process must not share a bus.
        transport_url=f"inproc://cumulo-all-in-one-{uuid.uuid4().hex[:8]}",
        hosts=hosts,
        driver=args.driver,
        host_driver_configs=configs,
        periodic_interval=60.0,
    )


def served_prefixes() -> str:
    """The path prefixes of every API the listener serves (``/identity, /compute, ...``)."""
    from cumulo.api.mounted import SERVICES

    return ", ".join(service.prefix for service in SERVICES)


def api_config(options: Any, state_dir: Path, keys_dir: Path) -> Any:
    """The API's configuration in front of the embedded cloud of ``options``: its bus,
    volumes and images, and the conductor's storage (same database, same process)."""
    from cumulo.api.config import ApiConfig

    return ApiConfig(
        database_url=options.database,
        key_repository=keys_dir,
        transport_url=options.transport_url,
        volume_dir=options.volume_dir,
        images_dir=state_dir / IMAGES_DIR,
        install_storage=False,
        service_down_time=options.service_down_time,
    )


def bootstrap_identity(engine: Any, keys_dir: Path, password: str) -> None:
    """Keys and the first identity records, as ``cumulo identity bootstrap`` makes them
    (changing only what differs on a second start)."""
    from cumulo.identity import IdentityManager, IdentityStore, KeyRepository, TokenFormatter
    from cumulo.identity.bootstrap import bootstrap

    keys = KeyRepository(keys_dir)
    keys.setup()
    report = bootstrap(IdentityManager(IdentityStore(engine), TokenFormatter(keys)), password)
    for line in report.lines:
        LOG.info("identity bootstrap: %s", line)


def seed_default_image(images_dir: Path, driver: str) -> str | None:
    """The image ``server create --image cirros`` finds, added on the first start (when
    no image has that name): for ``qemu`` the probe guest the driver can boot, for the
    fake driver a placeholder disk. Returns the new image's id (``None``: it existed)."""
    from cumulo.image import ImageCatalog, add_image

    if ImageCatalog(images_dir).find(DEFAULT_IMAGE):
        return None
    images_dir.mkdir(parents=True, exist_ok=True)
    disk = images_dir / f".{DEFAULT_IMAGE}.partial"
    if driver == "qemu":
        from cumulo.virt.qemu.images import write_probe_guest_image

        write_probe_guest_image(disk)
    else:
        with disk.open("wb") as stream:
            stream.truncate(PLACEHOLDER_BYTES)
    image = add_image(images_dir, DEFAULT_IMAGE, disk)
    LOG.info("default image added", extra={"image": image.id, "image_name": image.name})
    return image.id


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` (no KeyboardInterrupt mid-teardown) meanwhile."""

    def handle(signum: int, frame: FrameType | None) -> None:
        LOG.info("all-in-one stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_all_in_one(args: argparse.Namespace) -> int:
    from cumulo.api.app import create_app
    from cumulo.api.inprocess import InProcessServer, parse_bind
    from cumulo.deploy import EmbeddedCloud

    try:
        parse_bind(args.bind)
    except ValueError as exc:
        raise UsageError(f"--bind: {exc}") from None
    hosts = host_names(args.hosts)
    state_dir = Path(args.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    logs.configure("all-in-one", args.log_level)
    options = cloud_options(args, state_dir, hosts)
    failed: list[str] = []

    def teardown_failed(what: str, error: Exception) -> None:
        failed.append(f"{what}: {error}")

    stop = threading.Event()
    with stop_on_signals(stop), ExitStack() as stack:
        cloud = EmbeddedCloud(options, on_teardown_error=teardown_failed)
        cloud.start()
        stack.callback(cloud.stop)
        password, origin = admin_password(
            state_dir, args.admin_password or os.environ.get(ADMIN_PASSWORD_ENV)
        )
        keys_dir = state_dir / KEYS_DIR
        bootstrap_identity(cloud.engine, keys_dir, password)
        seed_default_image(state_dir / IMAGES_DIR, args.driver)
        app = create_app(api_config(options, state_dir, keys_dir))
        try:
            server = InProcessServer(app, args.bind).start()
        except OSError as exc:
            raise UsageError(f"--bind {args.bind}: {exc.strerror or exc}") from None
        stack.callback(server.stop)
        host, port = server.address
        host = ANY_ADDRESS.get(host, host)
        base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        clouds_yaml = state_dir / CLOUDS_YAML
        try:
            outcome = write_clouds_yaml(
                clouds_yaml, render(CloudEntry(f"{base}/identity", password)), force=args.force
            )
        except ChangedByUser as exc:
            raise UsageError(str(exc)) from None
        LOG.info(
            "all-in-one started",
            extra={"bind": f"{host}:{port}", "hosts": list(hosts), "driver": args.driver},
        )
        out = sys.stdout
        prefixes = served_prefixes()
        out.write(
            f"cumulo all-in-one: {base} ({prefixes}), {args.driver} hosts "
            f"{', '.join(hosts)}, state in {state_dir}\n"
            f"admin password: {origin}; {outcome.value} {clouds_yaml}\n"
            f"export OS_CLIENT_CONFIG_FILE={shlex.quote(str(clouds_yaml))}; "
            f"export OS_CLOUD={CLOUD_NAME}\n"
        )
        out.flush()
        while not stop.wait(1.0):
            pass
    if failed:
        raise UsageError(f"stopped, but the teardown failed: {'; '.join(failed)}")
    LOG.info("all-in-one stopped")
    return 0


def add_all_in_one_command(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        default=DEFAULT_STATE_DIR,
        metavar="DIR",
        help="the database, token keys, admin password, volumes and clouds.yaml "
        f"(default: {DEFAULT_STATE_DIR}); kept between starts",
    )
    parser.add_argument(
        "--bind",
        default=DEFAULT_BIND,
        metavar="HOST:PORT",
        help=f"where the API listens (default: {DEFAULT_BIND}; port 0: any free one)",
    )
    parser.add_argument(
        "--driver",
        default="fake",
        choices=["fake", "qemu"],
        help="the compute hosts' driver: fake (in memory) or qemu (real guests) (default: fake)",
    )
    parser.add_argument(
        "--hosts",
        default=None,
        metavar="N|NAMES",
        help="how many compute hosts (host-a, host-b, ...) or their comma-separated "
        "names (default: host-a,host-b)",
    )
    parser.add_argument(
        "--admin-password",
        default=None,
        metavar="PW",
        help=f"the admin user's password (default: ${ADMIN_PASSWORD_ENV}, else one "
        f"generated once and kept in DIR/{PASSWORD_FILE}, mode 0600)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite DIR/clouds.yaml even when someone changed it",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    parser.set_defaults(handler=cmd_all_in_one)
