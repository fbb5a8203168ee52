"""Fixtures for the compute tests: an all-in-one deployment (see ``deployment``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .deployment import Deployment
from .image_api import ImageApi, start_image_api


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


@pytest.fixture(scope="session")
def image_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImageApi]:
    """A real image API over HTTP, shared by the image cache and image build tests."""
    api = start_image_api(tmp_path_factory.mktemp("image-api"))
    try:
        yield api
    finally:
        api.server.stop()
