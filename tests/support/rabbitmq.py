"""The RabbitMQ fixtures every directory of real-service tests shares (registered
once, as a plugin of the root conftest, so that ``tests/integration/`` and
``tests/faults/`` get the same session vhost rather than one each under one name).

``rabbitmq_url`` checks the broker once and *fails* (never skips) the tests that use
it when it is unreachable: start it with ``scripts/services.sh``.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from kombu.connection import Connection

RABBITMQ_URL = os.environ.get("CUMULO_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The URL of a reachable RabbitMQ (``CUMULO_TEST_RABBITMQ_URL``, default local guest)."""
    parts = urlsplit(RABBITMQ_URL)
    where = f"{parts.hostname}:{parts.port or 5672}"
    conn = Connection(RABBITMQ_URL, connect_timeout=3)  # type: ignore[no-untyped-call]
    error = None
    try:
        conn.ensure_connection(max_retries=0, reraise_as_library_errors=False)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        conn.release()
    if error is not None:
        pytest.fail(
            f"RabbitMQ at {where} unreachable: {error} (start it with scripts/services.sh)",
            pytrace=False,
        )
    return RABBITMQ_URL


@contextmanager
def _vhost(rabbitmq_url: str, vhost: str) -> Iterator[str]:
    """A RabbitMQ virtual host made for the caller, deleted afterwards; yields its URL."""

    def ctl(*args: str) -> None:
        done = subprocess.run(
            ["rabbitmqctl", *args], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()}")

    ctl("add_vhost", vhost)
    ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    parts = urlsplit(rabbitmq_url)
    try:
        yield f"{parts.scheme}://{parts.netloc}/{vhost}"
    finally:
        ctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def rabbitmq_vhost_url(rabbitmq_url: str) -> Iterator[str]:
    """A throwaway RabbitMQ virtual host for this test session (queues are named after
    topics, so two sessions on one broker would otherwise share them)."""
    with _vhost(rabbitmq_url, f"cumulo_test_{os.getpid()}") as url:
        yield url


@pytest.fixture
def rabbitmq_fresh_vhost_url(rabbitmq_url: str) -> Iterator[str]:
    """A RabbitMQ virtual host of this test alone (nothing left by an earlier test)."""
    with _vhost(rabbitmq_url, f"cumulo_test_{os.getpid()}_{uuid.uuid4().hex[:8]}") as url:
        yield url


@pytest.fixture(scope="module")
def rabbitmq_module_vhost_url(rabbitmq_url: str) -> Iterator[str]:
    """A RabbitMQ virtual host of this test module alone (for a module-scoped service)."""
    with _vhost(rabbitmq_url, f"cumulo_test_{os.getpid()}_{uuid.uuid4().hex[:8]}") as url:
        yield url
