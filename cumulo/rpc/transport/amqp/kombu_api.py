"""The kombu classes this package uses, typed as ``Any``: kombu ships without
annotations for them, and the checks on their use are the integration tests."""

from __future__ import annotations

from typing import Any

from kombu import connection as _connection
from kombu import entity as _entity
from kombu import messaging as _messaging

Connection: Any = _connection.Connection
Exchange: Any = _entity.Exchange
Queue: Any = _entity.Queue
Consumer: Any = _messaging.Consumer
Producer: Any = _messaging.Producer
