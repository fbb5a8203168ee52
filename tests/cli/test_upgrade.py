"""``cumulo upgrade check`` and ``cumulo db online-migrations`` on SQLite."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from cumulo import cli
from cumulo.compute.version import SERVICE_VERSION, SERVICE_VERSION_HISTORY
from cumulo.db import create_engine, sync
from cumulo.db.models import ServiceRow
from cumulo.db.online_migrations import (
    online_migrations,
    pending_online_migrations,
    run_online_migrations,
)
from cumulo.model import Service, ServiceBinary
from tests.compute.deployment import Deployment


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    deployment = Deployment(tmp_path, hosts=("host-a", "host-b")).start()
    try:
        yield deployment
    finally:
        deployment.stop()


def _url(deployment: Deployment) -> str:
    return str(deployment.engine.url)


def _add_compute(deployment: Deployment, host: str, level: int, manifest: bool = True) -> None:
    """A compute service row as another release (or a writer without a manifest) left it."""
    service = Service(uuid=uuid.uuid4(), host=host, binary=ServiceBinary.COMPUTE, topic="compute")
    service.obj_set_context(deployment.ctx())
    service.version = level
    if manifest and level < len(SERVICE_VERSION_HISTORY):
        service.object_manifest = dict(SERVICE_VERSION_HISTORY[level].object_manifest)
    service.create()


# --- upgrade check ------------------------------------------------------------------------


def test_check_an_empty_database(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = create_engine(url)
    sync(engine)
    engine.dispose()
    code, out, err = run(capsys, "upgrade", "check", "--database-url", url)
    assert (code, err) == (0, "")
    assert "minimum compute level: none (no computes; no pin)" in out
    assert "online data migrations: none pending" in out
    assert out.endswith("result: OK\n")


def test_check_an_unsynced_database_is_a_usage_error(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    code, _, err = run(capsys, "upgrade", "check", "--database-url", url)
    assert code == 2
    assert "run `cumulo db sync` first" in err


def test_check_a_current_fleet(capsys, deployment):
    code, out, err = run(capsys, "upgrade", "check", "--database-url", _url(deployment))
    assert (code, err) == (0, "")
    assert f"this code: service level {SERVICE_VERSION} (compute RPC 1.2)" in out
    assert "host-a" in out and "host-b" in out
    assert f"minimum compute level: {SERVICE_VERSION} -> compute RPC pin 1.2 (no pin" in out
    assert "blocked" not in out
    assert "computes behind this code" not in out and "warning" not in out


def test_check_a_fleet_on_three_releases(capsys, deployment):
    # N-2 and N-1 beside this code: each old host's place in the policy, what it
    # cannot do, and the release that will refuse it.
    _add_compute(deployment, "host-old", 1)
    _add_compute(deployment, "host-mid", 2)
    code, out, _ = run(capsys, "upgrade", "check", "--database-url", _url(deployment))
    assert code == 0, out
    assert (
        "skew policy: N-2, computes on release 0.1 (level 1) to 0.3 (level 3) are served"
    ) in out
    assert "minimum compute level: 1 -> compute RPC pin 1.0" in out
    lines = out.splitlines()
    at = lines.index("computes behind this code:")
    assert lines[at + 1 : at + 5] == [
        "  host-old: level 1 (release 0.1), N-2: supported; release 0.4 (level 4) will refuse it",
        "    cannot: attach a volume read-only; show a console output; attach a volume "
        "with a device tag; attach a volume deleted with its server",
        "  host-mid: level 2 (release 0.2), N-1: supported; release 0.5 (level 5) will refuse it",
        "    cannot: attach a volume with a device tag; attach a volume deleted with its server",
    ]
    assert (
        "warning: compute host-old runs release 0.1, the oldest this release serves: "
        "upgrade it before release 0.4, which refuses it"
    ) in out
    assert out.endswith("result: OK\n")


def test_check_through_the_conductor(capsys, deployment):
    transport_url = deployment.transport.url
    code, out, _ = run(capsys, "upgrade", "check", "--transport-url", transport_url)
    assert code == 0
    assert "online data migrations: not counted (needs --database-url)" in out
    assert "host-a" in out


def test_check_blocks_on_computes_newer_and_older(capsys, deployment):
    _add_compute(deployment, "host-new", SERVICE_VERSION + 1)
    _add_compute(deployment, "host-old", 0)
    code, out, _ = run(capsys, "upgrade", "check", "--database-url", _url(deployment))
    assert code == 1
    assert "minimum compute level: 0 -> compute RPC pin 1.0" in out
    assert (
        f"blocked: compute host-new is at level {SERVICE_VERSION + 1}, newer than this code"
    ) in out
    assert "blocked: compute host-old is at level 0, below the oldest supported level 1" in out
    assert out.endswith("result: BLOCKED\n")


def test_check_blocks_on_a_conductor_behind_the_computes(capsys, deployment):
    ctx = deployment.ctx()
    conductor = Service.get_by_host_and_binary(ctx, "conductor-1", ServiceBinary.CONDUCTOR)
    out = run(capsys, "upgrade", "check", "--database-url", _url(deployment))[1]
    assert f"conductor-1  cumulo-conductor  level {SERVICE_VERSION}" in out
    conductor.version = 1  # as a 0.1 conductor would be, with 0.2 computes registered
    conductor.save()
    code, out, _ = run(capsys, "upgrade", "check", "--database-url", _url(deployment))
    assert code == 1
    assert (
        f"blocked: conductor conductor-1 is at level 1, older than a compute at level "
        f"{SERVICE_VERSION}: upgrade the conductors first"
    ) in out


def test_check_reports_pending_online_migrations(capsys, deployment):
    _add_compute(deployment, "host-x", 1, manifest=False)
    code, out, _ = run(capsys, "upgrade", "check", "--database-url", _url(deployment))
    assert code == 0
    assert "  fill_compute_service_manifests: 1 rows" in out
    assert "warning: online data migrations are pending" in out


def test_check_takes_one_source(capsys):
    code, _, err = run(
        capsys, "upgrade", "check", "--transport-url", "inproc://x", "--database-url", "sqlite://"
    )
    assert code == 2
    assert "not allowed with argument" in err


# --- db online-migrations -----------------------------------------------------------------


def _manifests(deployment: Deployment) -> dict[str, tuple[dict[str, str], str]]:
    with deployment.engine.connect() as connection:
        rows = connection.execute(
            select(ServiceRow.host, ServiceRow.object_manifest, ServiceRow.rpc_api_version)
        ).all()
    return {host: (manifest, rpc) for host, manifest, rpc in rows}


def test_online_migrations_fill_missing_manifests_in_batches(capsys, deployment):
    for host in ("host-x", "host-y", "host-z"):
        _add_compute(deployment, host, 1, manifest=False)
    _add_compute(deployment, "host-unknown", SERVICE_VERSION + 1, manifest=False)
    with deployment.engine.begin() as connection:
        connection.execute(
            update(ServiceRow).where(ServiceRow.host == "host-z").values(rpc_api_version="0.9")
        )
    url = _url(deployment)
    code, out, err = run(
        capsys, "db", "online-migrations", "--max-count", "2", "--database-url", url
    )
    assert (code, err) == (1, "")
    assert "fill_compute_service_manifests: 2 found, 2 migrated, 1 remaining" in out
    assert "1 rows remain" in out
    code, out, _ = run(capsys, "db", "online-migrations", "--max-count", "2", "--database-url", url)
    assert code == 0
    assert "fill_compute_service_manifests: 1 found, 1 migrated, 0 remaining" in out
    assert out.endswith("all online data migrations are done\n")
    manifests = _manifests(deployment)
    level = SERVICE_VERSION_HISTORY[1]
    for host in ("host-x", "host-y", "host-z"):
        assert manifests[host] == (dict(level.object_manifest), level.compute_rpc)
    # A level this code does not know is left alone (and does not hold the command up).
    assert manifests["host-unknown"][0] == {}
    # Idempotent: nothing left to do, nothing changed.
    code, out, _ = run(capsys, "db", "online-migrations", "--database-url", url)
    assert code == 0
    assert "0 found, 0 migrated, 0 remaining" in out
    assert _manifests(deployment) == manifests


def test_online_migrations_without_max_count_do_everything(capsys, deployment):
    for n in range(60):
        _add_compute(deployment, f"host-{n:02}", 1, manifest=False)
    code, out, _ = run(capsys, "db", "online-migrations", "--database-url", _url(deployment))
    assert code == 0
    assert "60 found, 60 migrated, 0 remaining" in out


def test_online_migration_registry_api(deployment):
    _add_compute(deployment, "host-x", 1, manifest=False)
    migrations = online_migrations(SERVICE_VERSION_HISTORY)
    assert [m.name for m in migrations] == [
        "fill_compute_service_manifests",
        "fill_instance_allocations",
    ]
    assert pending_online_migrations(deployment.engine, migrations) == {
        "fill_compute_service_manifests": 1,
        "fill_instance_allocations": 0,
    }
    result, _ = run_online_migrations(deployment.engine, migrations, 10)
    assert (result.found, result.done) == (1, 1)
    assert pending_online_migrations(deployment.engine, migrations) == {
        "fill_compute_service_manifests": 0,
        "fill_instance_allocations": 0,
    }
    with pytest.raises(ValueError):
        run_online_migrations(deployment.engine, migrations, 0)


def test_online_migrations_reject_a_bad_max_count(capsys, tmp_path):
    code, _, err = run(
        capsys, "db", "online-migrations", "--max-count", "0", "--database-url", "sqlite://"
    )
    assert code == 2
    assert "--max-count must be at least 1" in err


def test_the_manifest_written_is_json(deployment):
    _add_compute(deployment, "host-x", 1, manifest=False)
    run_online_migrations(deployment.engine, online_migrations(SERVICE_VERSION_HISTORY), 5)
    with deployment.engine.connect() as connection:
        (raw,) = connection.exec_driver_sql(
            "SELECT object_manifest FROM services WHERE host = 'host-x'"
        ).one()
    assert json.loads(raw)["Instance"] == "1.0"


def test_each_service_reads_up_or_down_by_the_service_down_time():
    from datetime import UTC, datetime, timedelta

    from cumulo.cli.upgrade import assess

    def row(host: str, binary: ServiceBinary, seconds_ago: float, **fields) -> Service:
        seen = datetime.now(UTC) - timedelta(seconds=seconds_ago)
        return Service(
            uuid=uuid.uuid4(),
            host=host,
            binary=binary,
            topic="t",
            version=SERVICE_VERSION,
            last_seen_up=seen,
            **fields,
        )

    services = [
        row("host-a", ServiceBinary.COMPUTE, 1),
        row("host-b", ServiceBinary.COMPUTE, 90),
        row("host-c", ServiceBinary.COMPUTE, 1, forced_down=True),
        row("api-1", ServiceBinary.API, 900),
    ]
    lines = {
        line.split()[0]: line for line in assess(services, None, 60).lines if "  level " in line
    }
    assert lines["host-a"].endswith("  up")
    assert lines["host-b"].endswith("  down (last heartbeat 90 s ago)")
    assert lines["host-c"].endswith("  down (forced down, last heartbeat 1 s ago)")
    assert lines["api-1"].endswith("rpc 1.0")  # API workers do not heartbeat
    assert assess(services, None, 120).lines != assess(services, None, 60).lines
