"""What each test needs, as markers: ``-m "not integration"`` runs the fast unit tests.

A test that needs a real service or process carries the marker naming it (registered
in pyproject.toml): ``postgresql``, ``mariadb``, ``rabbitmq``, ``qemu``, ``subprocess``
(it starts processes: the installed ``cumulo`` script, a benchmark script, git,
Python workers) or
``demo`` (the whole ``cumulo demo`` scenario). Each of them counts as
``integration``, and so does every test under ``tests/integration/``. A test that
uses a service's checking fixture gets that service's marker here, so none can
forget it. An unreachable service fails its tests; nothing is skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ("tests.support.rabbitmq",)

SERVICE_MARKERS = ("postgresql", "mariadb", "rabbitmq", "qemu", "subprocess", "demo")

SERVICE_FIXTURES = {"rabbitmq_url": "rabbitmq", "qemu_installed": "qemu"}
"""Fixture -> the service it checks (it fails the test when the service is missing)."""

INTEGRATION_DIR = Path(__file__).parent / "integration"


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture, marker in SERVICE_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(marker)
        needs_service = any(item.get_closest_marker(name) for name in SERVICE_MARKERS)
        if needs_service or item.path.is_relative_to(INTEGRATION_DIR):
            item.add_marker("integration")
