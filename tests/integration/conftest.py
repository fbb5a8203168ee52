"""The integration tests need real services on this machine; their fixtures
(``tests.support.rabbitmq`` for the broker, ``tests.support.databases`` for the
database servers) fail, never skip, a test whose service is unreachable."""
