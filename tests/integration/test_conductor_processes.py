"""The conductor in its own OS process, a compute stand-in in another, over
RabbitMQ, with PostgreSQL behind the conductor (needs all three services)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import kombu
import pytest
from sqlalchemy.engine import URL

from cumulo.conductor.rpcapi import ConductorAPI
from cumulo.db import SqlStorage, sync
from cumulo.model import Flavor, Instance
from cumulo.rpc import NoSuchMethod, RequestContext, UnsupportedVersion, get_transport
from tests.support.databases import server_database, storage_on

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq, pytest.mark.subprocess]

CHILD = Path(__file__).with_name("compute_client_child.py")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[URL]:
    with server_database("postgresql", "_conductor") as url:
        sync(url.render_as_string(hide_password=False))
        yield url


@pytest.fixture(scope="module")
def conductor(rabbitmq_vhost_url: str, postgres_url: URL) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cumulo",
            "conductor",
            "--transport-url",
            rabbitmq_vhost_url,
            "--database-url",
            postgres_url.render_as_string(hide_password=False),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def storage(postgres_url: URL) -> Iterator[SqlStorage]:
    """This (test) process's own view of the database, to set up and check rows."""
    with storage_on(postgres_url) as storage:
        yield storage


@pytest.fixture
def api(rabbitmq_vhost_url: str, conductor: subprocess.Popen[str]) -> Iterator[ConductorAPI]:
    client = ConductorAPI(get_transport(rabbitmq_vhost_url), timeout=20)
    client.wait_until_ready(RequestContext(), timeout=60)
    try:
        yield client
    finally:
        client.close()


def _create_instance(ctx: RequestContext) -> Instance:
    flavor = Flavor(
        flavorid=f"f-{uuid.uuid4().hex[:8]}",
        name=f"m1-{uuid.uuid4().hex[:8]}",
        memory_mb=512,
        vcpus=1,
        root_gb=1,
    )
    flavor.obj_set_context(ctx)
    flavor.create()
    instance = Instance(
        uuid=uuid.uuid4(), user_id="u", project_id="p1", host="host-a", flavor=flavor
    )
    instance.obj_set_context(ctx)
    instance.create()
    return instance


def test_compute_process_works_through_the_conductor_without_a_database(
    rabbitmq_vhost_url: str,
    api: ConductorAPI,
    storage: SqlStorage,
    conductor: subprocess.Popen[str],
) -> None:
    ctx = RequestContext(user_id="admin", project_id="p1")
    instance = _create_instance(ctx)

    child = subprocess.run(
        [sys.executable, str(CHILD), rabbitmq_vhost_url, str(instance.uuid)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout.strip().splitlines()[-1])

    assert seen["host_before"] == "host-a"
    assert seen["changes_after_save"] == []
    assert seen["conflict"][0] == "UnexpectedTaskStateError"
    assert "deleting" not in seen["conflict"][1]
    assert str(instance.uuid) in seen["on_host_b"]
    assert seen["flavor_name"] == instance.flavor.name
    assert seen["lazy_loads"] == 1
    assert seen["db_imported"] == []
    assert seen["db_import_refused"] is True

    # The database holds exactly what the two writers and the save left.
    row = Instance.get_by_uuid(ctx, instance.uuid)
    assert row.host == "host-b"
    assert row.task_state == "spawning"


def test_bad_messages_get_clear_errors_and_change_nothing(
    rabbitmq_vhost_url: str, api: ConductorAPI, storage: SqlStorage
) -> None:
    ctx = RequestContext(user_id="admin", project_id="p1")
    instance = _create_instance(ctx)
    before = Instance.get_by_uuid(ctx, instance.uuid).obj_to_primitive()

    with pytest.raises(NoSuchMethod, match="no_such_method"):
        api.client.call(ctx, "no_such_method")
    with pytest.raises(UnsupportedVersion):
        api.client.prepare(version="1.9").call(ctx, "ping", arg=None)
    with pytest.raises(Exception, match="Nope"):
        api.object_class_action_versions(ctx, "Nope", "get_by_uuid", {"Nope": "1.0"}, (), {})
    newer = instance.obj_to_primitive()
    newer["cumulo_object.version"] = "1.9"
    newer["cumulo_object.data"]["host"] = "evil"
    with pytest.raises(Exception, match=r"1\.9"):
        api.client.call(ctx, "object_action", objinst=newer, objmethod="save", args=[], kwargs={})
    malformed = instance.obj_to_primitive()
    malformed["cumulo_object.data"]["memory_mb"] = "lots"
    with pytest.raises(Exception, match="memory_mb"):
        api.client.call(
            ctx, "object_action", objinst=malformed, objmethod="save", args=[], kwargs={}
        )

    # Garbage bytes straight onto the conductor's queue: dropped, the service lives on.
    with kombu.Connection(rabbitmq_vhost_url) as connection:
        producer = connection.Producer()
        producer.publish(b"\x00\xffnot json", routing_key="conductor", exchange="cumulo")
        producer.publish(b'{"half": ', routing_key="conductor", exchange="cumulo")
    time.sleep(0.5)
    assert api.ping(ctx, "still there?")["arg"] == "still there?"

    after = Instance.get_by_uuid(ctx, instance.uuid).obj_to_primitive()
    assert after == before


def test_conductor_logs_are_json_lines_with_request_ids(
    rabbitmq_vhost_url: str,
    api: ConductorAPI,
    storage: SqlStorage,
    conductor: subprocess.Popen[str],
) -> None:
    ctx = RequestContext(user_id="admin", project_id="p1", request_id="req-logs-1")
    instance = _create_instance(RequestContext(user_id="admin", project_id="p1"))
    api.object_class_action_versions(
        ctx, "Instance", "get_by_uuid", Instance.obj_tree_get_versions(), (instance.uuid,), {}
    )
    conductor.terminate()
    _, stderr = conductor.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert lines, stderr
    assert all({"ts", "level", "service", "logger", "msg"} <= set(line) for line in lines)
    mine = [line for line in lines if line.get("request_id") == "req-logs-1"]
    assert mine and "Instance.get_by_uuid" in mine[0]["msg"]
