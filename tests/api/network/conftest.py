"""The network API tests use the compute API's cloud (an application in front of an
embedded cloud with two fake hosts, users of two projects logged in), started once
for the whole package: the modules here share it, each making its own resources."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.compute import conftest as compute
from tests.api.compute.conftest import ComputeCloud


@pytest.fixture(scope="package")
def compute_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComputeCloud]:
    yield from compute.compute_cloud.__wrapped__(tmp_path_factory)  # type: ignore[attr-defined]
