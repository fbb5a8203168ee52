"""`cumulo server list|show`, `cumulo compute` and `cumulo conductor` wiring, against a
conductor running in this process on an `inproc://` bus."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import uuid

import pytest

from cumulo import cli
from cumulo.cli import services
from cumulo.cli.common import DATABASE_URL_DEFAULT_HELP
from cumulo.conductor.service import ConductorService
from cumulo.conductor.tasks.manager import ComputeTaskManager
from cumulo.conductor.tasks_api import ComputeTaskAPI
from cumulo.db import create_engine, sync
from cumulo.db.engine import DATABASE_URL_ENV, DEFAULT_DATABASE_URL
from cumulo.model import (
    ComputeNode,
    Flavor,
    Instance,
    InstanceAction,
    InstanceActionNotFound,
    Service,
    ServiceBinary,
)
from cumulo.model.base import CumuloObject
from cumulo.rpc import RequestContext, get_transport

from ..compute.deployment import wait_for


def ctx() -> RequestContext:
    return RequestContext(user_id="alice", project_id="p1", roles=["member"])


@pytest.fixture
def conductor(tmp_path):
    url = f"inproc://cli-test-{uuid.uuid4().hex}"
    transport = get_transport(url)
    engine = create_engine(f"sqlite:///{tmp_path / 'cumulo.db'}")
    sync(engine)
    tasks = ComputeTaskManager(transport, host="conductor-t")
    service = ConductorService(
        transport, engine, host="conductor-t", extra_endpoints=(tasks,)
    ).start()
    try:
        yield url, transport
    finally:
        service.stop()
        tasks.compute_rpc.close()
        engine.dispose()


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def make_instance(name: str, flavor: Flavor, host: str | None = None) -> Instance:
    instance = Instance(
        uuid=uuid.uuid4(),
        user_id="alice",
        project_id="p1",
        display_name=name,
        host=host,
        flavor=flavor,
    )
    instance.obj_set_context(ctx())
    instance.create()
    return instance


def test_server_list_and_show_through_the_conductor(conductor, capsys):
    url, _ = conductor
    flavor = Flavor(flavorid="t1", name="t1.small", memory_mb=512, vcpus=1, root_gb=1)
    flavor.obj_set_context(ctx())
    flavor.create()
    first = make_instance("web-1", flavor, host="host-a")
    second = make_instance("db-1", flavor)

    code, out, err = run(capsys, "server", "list", "--transport-url", url)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == [
        "uuid",
        "name",
        "host",
        "vm_state",
        "task_state",
        "power_state",
        "flavor",
        "volumes",
    ]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows[str(first.uuid)] == [
        str(first.uuid),
        "web-1",
        "host-a",
        "building",
        "-",
        "nostate",
        "t1.small",
        "-",
    ]
    assert rows[str(second.uuid)][1:3] == ["db-1", "-"]
    assert CumuloObject.indirection_api is None  # restored after the command

    code, out, err = run(capsys, "server", "show", str(first.uuid), "--transport-url", url)
    assert code == 0, err
    fields = dict(line.split(None, 1) for line in out.splitlines())
    assert fields["name"] == "web-1" and fields["host"] == "host-a"
    assert fields["description"] == "-" and fields["locked"] == "no"
    assert fields["flavor"].startswith("t1.small (1 vCPU, 512 MiB RAM")

    code, _, err = run(capsys, "server", "show", str(uuid.uuid4()), "--transport-url", url)
    assert code == 2 and err.startswith("cumulo: error: no instance ") and err.count("\n") == 1


def test_server_list_without_a_conductor_is_one_clear_line(capsys):
    url = f"inproc://nobody-{uuid.uuid4().hex}"
    code, out, err = run(capsys, "server", "list", "--transport-url", url, "--timeout", "0.3")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"cumulo: error: no conductor answered on {url} within 0.3 s")


def test_compute_command_serves_a_host_through_the_conductor(
    conductor, monkeypatch, tmp_path, capsys
):
    url, transport = conductor
    stop = threading.Event()
    monkeypatch.setattr(services, "_wait_for_signal", stop.wait)
    result: list[int] = []
    argv = [
        "compute",
        "--host",
        "cli-host",
        "--driver",
        "fake",
        "--transport-url",
        url,
        "--volume-dir",
        str(tmp_path / "volumes"),
        "--memory-mb",
        "4096",
        "--migration-channel",
        str(tmp_path / "channel"),
        "--log-level",
        "warning",
    ]
    thread = threading.Thread(target=lambda: result.append(cli.main(argv)))
    thread.start()
    try:
        node = wait_for(lambda: _node("cli-host"), what="the compute node record")
        assert node.memory_mb == 4096 and node.hypervisor_type
        # The conductor serves the compute tasks: build an instance on the new host.
        flavor = Flavor(flavorid="t2", name="t2", memory_mb=512, vcpus=1)
        flavor.obj_set_context(ctx())
        flavor.create()
        tasks = ComputeTaskAPI(transport, timeout=10)
        request = ctx()
        template = Instance(
            uuid=uuid.uuid4(), user_id="alice", project_id="p1", flavor=flavor, image_ref="img-1"
        )
        (built,) = tasks.build_instances(request, [template])
        tasks.close()
        assert built.host == "cli-host"
        wait_for(lambda: _finished(request, built.uuid), what="the build")
        assert str(Instance.get_by_uuid(ctx(), built.uuid).vm_state) == "active"
        _console(capsys, url, built.uuid)
    finally:
        stop.set()
        thread.join(10)
    assert result == [0]
    assert CumuloObject.indirection_api is None


def _console(capsys, url: str, instance_uuid: uuid.UUID) -> None:
    """`cumulo server console` against the running host, then as if it ran 0.1."""
    code, out, err = run(capsys, "server", "console", str(instance_uuid), "--transport-url", url)
    assert (code, err) == (0, "")
    assert str(instance_uuid) in out and out.endswith("\n")
    code, out, _ = run(
        capsys, "server", "console", str(instance_uuid), "--lines", "1", "--transport-url", url
    )
    assert code == 0 and out.count("\n") == 1
    service = Service.get_by_host_and_binary(ctx(), "cli-host", ServiceBinary.COMPUTE)
    service.version = 1  # what a release 0.1 compute records
    service.save()
    code, out, err = run(capsys, "server", "console", str(instance_uuid), "--transport-url", url)
    assert (code, out) == (2, "")
    assert err.startswith(
        "cumulo: error: compute cli-host (release 0.1) speaks compute RPC 1.0 and cannot"
    )
    assert err.count("\n") == 1


def _node(host):
    try:
        return ComputeNode.get_by_host(ctx(), host)
    except Exception:
        return None


def _finished(request, instance_uuid):
    try:
        action = InstanceAction.get_by_request_id(request, instance_uuid, request.request_id)
    except InstanceActionNotFound:
        return None
    return action.finish_time is not None


@pytest.mark.subprocess
def test_compute_process_never_imports_the_database_layer():
    """The parser and the compute command up to the conductor's answer, in a fresh
    interpreter where importing cumulo.db or SQLAlchemy fails."""
    code = textwrap.dedent(
        """
        import importlib.abc, sys

        class NoDatabase(importlib.abc.MetaPathFinder):
            def find_spec(self, fullname, path, target=None):
                if fullname == "cumulo.db" or fullname.startswith(("cumulo.db.", "sqlalchemy")):
                    raise ImportError(fullname + " imported by a compute process")

        sys.meta_path.insert(0, NoDatabase())
        from cumulo.cli import main
        sys.exit(main(["compute", "--host", "h1", "--transport-url", "inproc://none",
                       "--conductor-wait", "0.5", "--log-level", "warning"]))
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "CUMULO_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert "no conductor answered" in proc.stderr
    assert "imported by a compute process" not in proc.stderr


def test_compute_refuses_a_migration_channel_for_qemu(capsys):
    code, _, err = run(
        capsys, "compute", "--host", "h", "--driver", "qemu", "--migration-channel", "/tmp/x"
    )
    assert code == 2 and "--migration-channel: only the fake driver" in err


def test_the_database_url_help_matches_the_database_layer():
    assert f"${DATABASE_URL_ENV}, else {DEFAULT_DATABASE_URL}" == DATABASE_URL_DEFAULT_HELP


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (("conductor", "--service-down-time", "0"), "--service-down-time"),
        (("compute", "--host", "h", "--service-down-time", "-1"), "--service-down-time"),
        (("compute", "--host", "h", "--report-interval", "0"), "--report-interval"),
        (("upgrade", "check", "--service-down-time", "0"), "--service-down-time"),
    ],
)
def test_liveness_intervals_must_be_positive(capsys, argv, flag):
    code, _, err = run(capsys, *argv)
    assert code == 2 and f"{flag} must be more than 0 seconds" in err
