"""The fault tests run real ``cumulo`` processes over RabbitMQ and PostgreSQL, with
the broker fixtures of ``tests.support.rabbitmq``; every module here is marked
integration."""
