"""Fixtures for the QEMU driver tests: real ``qemu-system-x86_64`` processes.

Needs QEMU (``scripts/system-deps.sh`` installs it); without it every test here
fails with a message saying so — never a silent skip. Guests run the probe boot
sector (no guest OS), with 64 MiB of RAM, under TCG unless ``CUMULO_QEMU_ACCEL``
says otherwise. Every QEMU process a test starts is stopped by its fixture.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cumulo.model import BlockDeviceMapping, Instance, NetworkInfo
from cumulo.virt.qemu import QemuConfig, QemuDriver
from cumulo.virt.qemu.images import write_probe_guest_image
from cumulo.volume import VolumeStore

from ..builders import make_flavor, make_instance, make_network_info, make_vif, make_volume_bdm

ACCEL = os.environ.get("CUMULO_QEMU_ACCEL", "tcg")


class RecordingQemuDriver(QemuDriver):
    """A ``QemuDriver`` that notes in ``called`` which of its public methods were
    used (see test_seed_methods.py); each driver keeps its own record, so what a
    test finds does not depend on which other tests ran."""

    def __init__(self, host: str, config: QemuConfig) -> None:
        self.called: set[str] = set()
        super().__init__(host, config)

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if not name.startswith("_") and callable(value):
            super().__getattribute__("called").add(name)
        return value


@pytest.fixture(scope="session")
def qemu_installed() -> str:
    binary = shutil.which("qemu-system-x86_64")
    if binary is None or shutil.which("qemu-img") is None:
        pytest.fail(
            "qemu-system-x86_64 / qemu-img not found: the QEMU driver tests need real QEMU. "
            "Run scripts/system-deps.sh (installs qemu-system-x86, qemu-utils, nftables).",
            pytrace=False,
        )
    return binary


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory, qemu_installed: str) -> tuple[Path, str]:
    """The base-image directory and the ref of the probe-guest image in it."""
    directory = tmp_path_factory.mktemp("images")
    ref = str(uuid.uuid4())
    write_probe_guest_image(directory / ref)
    return directory, ref


@pytest.fixture
def volumes(tmp_path: Path) -> VolumeStore:
    """A volume store every host of the test shares."""
    return VolumeStore(tmp_path / "volumes")


@pytest.fixture
def make_host(
    tmp_path: Path, images: tuple[Path, str]
) -> Iterator[Callable[..., RecordingQemuDriver]]:
    made: list[QemuDriver] = []

    def make(host: str, **options: Any) -> RecordingQemuDriver:
        options.setdefault("instances_path", tmp_path / host)
        options.setdefault("images_path", images[0])
        options.setdefault("accel", ACCEL)
        options.setdefault("vcpus", 8)
        options.setdefault("memory_mb", 8192)
        options.setdefault("disk_gb", 100)
        driver = RecordingQemuDriver(host, QemuConfig(**options))
        made.append(driver)
        driver.init_host(host)
        return driver

    yield make
    for driver in made:
        driver.shutdown()


@pytest.fixture
def host_a(make_host: Callable[..., RecordingQemuDriver]) -> RecordingQemuDriver:
    return make_host(f"qa-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def host_b(make_host: Callable[..., RecordingQemuDriver]) -> RecordingQemuDriver:
    return make_host(f"qb-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def instance(images: tuple[Path, str]) -> Instance:
    return make_instance(make_flavor(vcpus=1, memory_mb=64, root_gb=1), image_ref=images[1])


@pytest.fixture
def network_info() -> NetworkInfo:
    # One bridge per test run keeps parallel runs apart.
    vif = make_vif()
    assert vif.network is not None
    vif.network.bridge = f"cqbr{uuid.uuid4().hex[:6]}"
    return NetworkInfo(objects=[vif])


@pytest.fixture(autouse=True)
def _remove_bridges(network_info: NetworkInfo) -> Iterator[None]:
    yield
    for vif in network_info:
        if vif.network and vif.network.bridge:
            subprocess.run(
                ["ip", "link", "del", vif.network.bridge], capture_output=True, check=False
            )


def volume_bdm(
    store: VolumeStore, driver: QemuDriver, instance: Instance, device: str = "/dev/sdb"
) -> BlockDeviceMapping:
    volume = store.create(1, "data")
    info = store.connection_info(volume, driver.get_volume_connector(instance))
    return make_volume_bdm(instance, device, connection_info=info)


def wait_until(probe: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


__all__ = ["RecordingQemuDriver", "make_network_info", "pid_alive", "volume_bdm", "wait_until"]
