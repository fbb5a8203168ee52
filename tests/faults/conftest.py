"""The fault tests run real ``cumulo`` processes over RabbitMQ and PostgreSQL, with
the integration tests' broker fixtures; every module here is marked integration."""

from __future__ import annotations

from tests.integration.conftest import rabbitmq_url, rabbitmq_vhost_url

__all__ = ["rabbitmq_url", "rabbitmq_vhost_url"]
