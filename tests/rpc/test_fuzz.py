"""A bounded fuzz of a real conductor (its endpoints, SQLite) over inproc://: random
bytes, random JSON, mutated requests and deep nesting all get a reply, and the
conductor goes on serving. The same fuzz runs over RabbitMQ in
``tests/integration/test_rpc_robust_amqp.py``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from cumulo.conductor.service import ConductorService
from cumulo.db import create_engine, sync
from cumulo.rpc import Transport, get_transport
from cumulo.rpc.wire import Failure, Result
from tests.rpc.fuzz import VALID, assert_still_serving, bodies, call_raw


@pytest.fixture(scope="module")
def conductor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Transport]:
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'cumulo.db'}")
    sync(engine)
    transport = get_transport(f"inproc://fuzz-{uuid.uuid4().hex}?calls=pool")
    with ConductorService(transport, engine, host="fuzz", report_interval=None):
        yield transport
    engine.dispose()


def test_the_valid_requests_are_served(conductor):
    import json

    for request in VALID:
        reply = call_raw(conductor, json.dumps(request).encode())
        assert isinstance(reply, Result | Failure)
        if request["method"] != "object_class_action_versions":
            assert isinstance(reply, Result), reply
        else:  # no such instance: a typed failure, served
            assert isinstance(reply, Failure) and reply.type.endswith("InstanceNotFound")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_every_body_gets_a_reply_and_the_conductor_goes_on(conductor, body):
    logging.getLogger("cumulo").setLevel(logging.ERROR)  # thousands of expected warnings
    try:
        reply = call_raw(conductor, body)
        assert isinstance(reply, Result | Failure)
        assert_still_serving(conductor)
    finally:
        logging.getLogger("cumulo").setLevel(logging.NOTSET)
