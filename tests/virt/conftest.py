"""Fixtures for the driver tests: a manual clock and fake hosts on one fake network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cumulo.virt.fake import FakeConfig, FakeDriver, FakeHypervisorNetwork

from .builders import Ctx, ManualClock


@pytest.fixture
def ctx() -> Ctx:
    return Ctx()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def net() -> FakeHypervisorNetwork:
    return FakeHypervisorNetwork()


@pytest.fixture
def make_host(net: FakeHypervisorNetwork, clock: ManualClock) -> Callable[..., FakeDriver]:
    def make(host: str, **options: Any) -> FakeDriver:
        options.setdefault("vcpus", 8)
        options.setdefault("memory_mb", 16384)
        options.setdefault("disk_gb", 200)
        network = options.pop("network", net)
        driver = FakeDriver(
            host, FakeConfig(**options), network=network, clock=options.pop("clock", clock)
        )
        driver.init_host(host)
        return driver

    return make


@pytest.fixture
def host_a(make_host: Callable[..., FakeDriver]) -> FakeDriver:
    return make_host("host-a")


@pytest.fixture
def host_b(make_host: Callable[..., FakeDriver]) -> FakeDriver:
    return make_host("host-b")
