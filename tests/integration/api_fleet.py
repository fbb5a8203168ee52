"""A real ``cumulo api`` process (gunicorn) in front of a conductor and fake compute
hosts, each its own process, on RabbitMQ and PostgreSQL: what the API modules that
drive real clients against a whole deployment share. The catalog holds one
placeholder image, ``cirros``; callers add their own projects, users and flavors.

Needs: PostgreSQL and RabbitMQ (``scripts/services.sh``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from cumulo.conductor.rpcapi import ConductorAPI
from cumulo.image import add_image
from cumulo.rpc import RequestContext, get_transport
from cumulo.volume.store import VolumeStore
from tests.integration.processes import Fleet, Processes
from tests.integration.test_identity_api import Cloud, start_cloud
from tests.support.databases import server_database

IMAGE = "8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2"
"""The id of the placeholder image ``cirros``."""


@contextmanager
def api_fleet(
    work: Path, transport_url: str, database_suffix: str, hosts: Sequence[str]
) -> Iterator[tuple[Cloud, Fleet]]:
    """The API, one conductor and a fake compute per name in ``hosts``, ready (the
    conductor answers); everything stopped, with its logs checked, on exit."""
    processes = Processes()
    images = work / "images"
    images.mkdir()
    (images / "disk.partial").write_bytes(b"\0" * 65536)
    add_image(images, "cirros", images / "disk.partial", image_id=IMAGE)
    with server_database("postgresql", database_suffix) as url:
        database_url = url.render_as_string(hide_password=False)
        try:
            api_args = ("--transport-url", transport_url, "--volume-dir", str(work / "volumes"),
                        "--images-dir", str(images))  # fmt: skip
            cloud = start_cloud(processes, work, database_url, api_args)
            fleet = Fleet(
                processes,
                get_transport(transport_url),
                transport_url,
                database_url,
                work,
                VolumeStore(work / "volumes"),
            )
            fleet.start_conductor()
            for host in hosts:
                fleet.start_compute(host)
            probe = ConductorAPI(fleet.transport, timeout=20)
            try:
                probe.wait_until_ready(RequestContext(user_id="t", project_id="t"), timeout=60)
            finally:
                probe.close()
            yield cloud, fleet
            fleet.transport.cleanup()
        finally:
            processes.stop_and_check_logs()
