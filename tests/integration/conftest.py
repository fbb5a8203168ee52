"""Fixtures for the integration tests, which need real services on this machine.

Each service has a session fixture that checks it once and *fails* (never skips)
the tests that use it when it is unreachable: start it with ``scripts/services.sh``.
"""

from __future__ import annotations

import os
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
