"""An image uploaded through the image API boots a real QEMU guest: the real
``openstack`` CLI uploads a variant of the probe boot-sector guest printing a marker
of its own (``openstack image create --file``), boots it (``openstack server create
--image --wait``) on a QEMU host that fetches images from the image API with its
service credential, and reads the marker on the guest's console.

The cloud is embedded (SQLite, ``inproc://``, a conductor and one QEMU host), its API
served over HTTP by the in-process server; only the clients are separate processes.

Needs: QEMU (scripts/system-deps.sh); without it this fails, saying so. TCG unless
``CUMULO_QEMU_ACCEL`` says otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cumulo.cli.clouds_yaml import CloudEntry, render
from cumulo.compute.image_cache import ImageCache, ImageFetchConfig
from cumulo.deploy import CloudOptions, EmbeddedCloud
from cumulo.model import Flavor, Instance
from cumulo.rpc import RequestContext
from cumulo.virt.qemu import QemuConfig
from cumulo.virt.qemu.images import image_info, write_probe_guest_image
from tests.compute.image_api import ADMIN_PASSWORD, ImageApi, start_image_api
from tests.integration.test_all_in_one import openstack

pytestmark = pytest.mark.integration

ACCEL = os.environ.get("CUMULO_QEMU_ACCEL", "tcg")
HOST = "qemu-fetch"


@dataclass
class Cloud:
    api: ImageApi
    cloud: EmbeddedCloud
    clouds_yaml: Path
    marker: str
    disk: Path

    @property
    def cache(self) -> ImageCache:
        images = self.cloud.managers[HOST].images
        assert images is not None
        return images

    def cli(self, *args: str) -> str:
        return openstack(self.clouds_yaml, *args)

    def cli_json(self, *args: str) -> dict:
        return json.loads(self.cli(*args, "-f", "json"))


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    if shutil.which("qemu-system-x86_64") is None or shutil.which("qemu-img") is None:
        pytest.fail(
            "qemu-system-x86_64 / qemu-img not found: this test boots a real QEMU guest. "
            "Run scripts/system-deps.sh.",
            pytrace=False,
        )
    work = tmp_path_factory.mktemp("image-fetch-qemu")
    transport = f"inproc://image-fetch-{uuid.uuid4().hex[:8]}"
    database = work / "cumulo.db"
    api = start_image_api(
        work,
        database_url=f"sqlite:///{database}",
        transport_url=transport,
        volume_dir=work / "volumes",
        install_storage=False,  # the conductor of this process installs it
        rpc_timeout=30.0,
    )
    options = CloudOptions(
        sqlite_path=database,
        volume_dir=work / "volumes",
        transport_url=transport,
        hosts=(HOST,),
        driver="qemu",
        driver_config=QemuConfig(
            instances_path=work / "instances",
            images_path=work / "cache",
            accel=ACCEL,
            vcpus=4,
            memory_mb=4096,
            disk_gb=20,
        ),
        image_fetch=ImageFetchConfig(image_url=api.image_url, credential=api.credential()),
    )
    embedded = EmbeddedCloud(options)
    try:
        embedded.start()
        clouds_yaml = work / "clouds.yaml"
        clouds_yaml.write_text(render(CloudEntry(f"{api.url}/identity", ADMIN_PASSWORD)))
        marker = f"UPLOADED-{uuid.uuid4().hex[:8]}"  # as long as the probe's own marker
        disk = write_probe_guest_image(work / "upload" / "disk.raw", marker=marker)
        yield Cloud(api, embedded, clouds_yaml, marker, disk)
    finally:
        embedded.stop()
        api.server.stop()


def _flavor(cloud: Cloud) -> None:
    # Made in-process (the CLI's own start-up is what costs here, not the API).
    flavor = Flavor(flavorid="tiny", name="tiny", memory_mb=64, vcpus=1, root_gb=1)
    flavor.obj_set_context(RequestContext(roles=["admin"], is_admin=True))
    flavor.create()


def test_an_uploaded_image_boots_a_qemu_guest_from_its_bytes(cloud: Cloud) -> None:
    _flavor(cloud)
    image = cloud.cli_json(
        "image", "create", "--file", str(cloud.disk), "--disk-format", "raw",
        "--container-format", "bare", "uploaded",
    )  # fmt: skip
    assert image["status"] == "active"
    server = cloud.cli_json(
        "server", "create", "--flavor", "tiny", "--image", "uploaded", "--nic", "none",
        "--wait", "vm",
    )  # fmt: skip
    assert server["status"] == "ACTIVE"

    # The host fetched the image once into its cache; the guest's disk is an overlay
    # on that base.
    base = cloud.cache.directory / image["id"]
    assert base.read_bytes() == cloud.disk.read_bytes() and cloud.cache.downloads == 1
    disk = cloud.cache.directory.parent / "instances" / server["id"] / "disk.qcow2"
    assert Path(image_info(disk)["backing-filename"]) == base

    # The guest runs the uploaded bytes: it prints their marker on its console.
    driver = cloud.cloud.drivers[HOST]
    instance = Instance.get_by_uuid(RequestContext(is_admin=True), uuid.UUID(server["id"]))
    deadline = time.monotonic() + 20.0
    while cloud.marker not in driver.get_console_output(instance):
        assert time.monotonic() < deadline, driver.get_console_output(instance)
        time.sleep(0.2)
    assert cloud.marker in cloud.cli("console", "log", "show", "vm")
