"""Fixtures for the conductor task tests: an all-in-one deployment (see ``deployment``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..compute.deployment import Deployment


@pytest.fixture
def deployment(tmp_path) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path).start()
    try:
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def flavor(deployment):
    return deployment.flavor()
