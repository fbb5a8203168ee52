"""Live migration between fake hosts of different processes, through a
``FakeMigrationChannel`` (a shared directory): here two drivers on no common
``FakeHypervisorNetwork`` stand for two processes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cumulo.model import InjectedFile, LiveMigrateData, PowerState
from cumulo.virt import load_driver
from cumulo.virt.exceptions import InjectedFailure, InstanceNotFound, MigrationError
from cumulo.virt.fake import (
    INCOMING_LIVE_MIGRATION,
    FakeConfig,
    FakeDriver,
    FakeMigrationChannel,
    GuestPhase,
)

from .builders import (
    Ctx,
    ManualClock,
    live_migrate,
    make_bdi,
    make_connection_info,
    make_groups,
    make_volume_bdm,
    tcp_rule,
)
from .test_fake import _running_guest, assert_host_empty, used


@pytest.fixture
def channel_dir(tmp_path: Path) -> Path:
    return tmp_path / "channel"


@pytest.fixture
def make_remote(channel_dir: Path, clock: ManualClock) -> Callable[..., FakeDriver]:
    def make(host: str, **options: Any) -> FakeDriver:
        config = FakeConfig(
            vcpus=8, memory_mb=16384, disk_gb=200, migration_channel=channel_dir, **options
        )
        driver = FakeDriver(host, config, clock=clock)
        driver.init_host(host)
        return driver

    return make


def _leftovers(channel_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(channel_dir)) for p in channel_dir.rglob("*") if p.is_file())


def test_the_guest_moves_with_its_state_and_the_channel_is_left_empty(
    make_remote: Callable[..., FakeDriver], clock: ManualClock, channel_dir: Path
) -> None:
    a, b = make_remote("host-a"), make_remote("host-b")
    instance, nw, bdm = _running_guest(
        a, files=[InjectedFile.of("/etc/id", b"x")], attach=True, filter_=True
    )
    assert bdm is not None
    clock.advance(60)
    cpu_before = a.get_info(instance).cpu_time_ns
    dst_bdm = make_volume_bdm(
        instance, "/dev/vdb", connection_info=make_connection_info(bdm.volume_id)
    )
    run = live_migrate(
        a,
        b,
        instance,
        nw,
        block_migration=True,
        src_bdi=make_bdi(bdm),
        dst_bdi=make_bdi(dst_bdm),
        security_groups=make_groups(tcp_rule(22)),
    )
    assert run.calls == ["post"]
    assert_host_empty(a)
    info = b.get_info(instance)
    assert info.state is PowerState.RUNNING
    assert info.cpu_time_ns == cpu_before  # the same guest: its running time came along
    view = b.describe_guest(instance.uuid)
    assert view.phase is GuestPhase.ACTIVE
    assert [f.path for f in view.injected_files] == ["/etc/id"]
    assert view.boot_count == 1
    assert [v.volume_id for v in view.volumes] == [bdm.volume_id]
    assert view.filtered
    assert used(b) == (2, 4096, 20)
    assert _leftovers(channel_dir) == []


def test_a_local_disk_needs_block_migration_across_processes(
    make_remote: Callable[..., FakeDriver],
) -> None:
    a, b = make_remote("host-a"), make_remote("host-b")
    instance, nw, _ = _running_guest(a)
    ctx = Ctx()
    data = b.pre_live_migration(ctx, instance, None, nw, LiveMigrateData())
    calls: list[str] = []
    errors: list[BaseException] = []

    def recover(*args: Any) -> None:
        calls.append("recover")
        errors.append(args[4])
        b.rollback_live_migration_at_destination(ctx, instance, nw, None)

    a.live_migration(ctx, instance, "host-b", lambda *_: calls.append("post"), recover, False, data)
    assert calls == ["recover"]
    assert isinstance(errors[0], MigrationError) and "block migration" in str(errors[0])
    assert a.get_info(instance).state is PowerState.RUNNING
    assert_host_empty(b)


def test_an_unprepared_or_unknown_destination_is_not_sent_the_guest(
    make_remote: Callable[..., FakeDriver], channel_dir: Path
) -> None:
    a, _ = make_remote("host-a"), make_remote("host-b")
    instance, _, _ = _running_guest(a)
    errors: list[BaseException] = []

    def recover(*args: Any) -> None:
        errors.append(args[4])

    for dest in ("host-b", "host-z"):
        a.live_migration(Ctx(), instance, dest, lambda *_: None, recover, True, LiveMigrateData())
    assert "did not prepare" in str(errors[0])
    assert "not reachable" in str(errors[1])
    assert a.describe_guest(instance.uuid).phase is GuestPhase.ACTIVE
    assert _leftovers(channel_dir) == []


def test_an_arrival_refused_by_the_destination_fails_its_post_step(
    make_remote: Callable[..., FakeDriver],
) -> None:
    a, b = make_remote("host-a"), make_remote("host-b")
    instance, nw, _ = _running_guest(a)
    b.inject_failure(INCOMING_LIVE_MIGRATION)
    with pytest.raises(InjectedFailure):
        live_migrate(a, b, instance, nw, block_migration=True)
    # The source let the guest go; the destination refused it on arrival.
    assert a.describe_guest(instance.uuid).phase is GuestPhase.DEPARTED
    with pytest.raises(InstanceNotFound):
        b.get_info(instance)


def test_load_driver_passes_the_channel(tmp_path: Path) -> None:
    driver = load_driver("fake", "h1", {"migration_channel": str(tmp_path / "ch")})
    assert isinstance(driver, FakeDriver)
    assert FakeMigrationChannel(tmp_path / "ch").is_open("h1")
    with pytest.raises(ValueError, match="migration_channel"):
        load_driver("qemu", "h2", {"migration_channel": str(tmp_path / "ch")})


# The keys of a guest's state on the channel: release 0.1's format, which 0.1 hosts
# still read and write (a 0.2 host must not add or drop any).
CHANNEL_KEYS_0_1 = {
    "block_migration", "uuid", "power_state", "run_s", "uptime_s", "network_info", "files",
    "admin_password_set", "config_drive", "boot_count", "network_injections", "network_resets",
    "boot_read_bytes", "config_write_bytes", "config_write_requests", "nic_extra", "volume_ids",
    "vif_ids", "filtered", "volume_backed", "local_disk", "storage",
}  # fmt: skip


def test_the_channel_format_is_release_0_1_s_and_the_console_starts_afresh(
    make_remote: Callable[..., FakeDriver], channel_dir: Path
) -> None:
    a, b = make_remote("host-a"), make_remote("host-b")
    instance, nw, _ = _running_guest(a)
    instance.host = "host-a"  # as the compute manager has it until the guest arrived
    a.pause(instance)
    a.unpause(instance)
    assert len(a.get_console_output(instance).splitlines()) == 3
    run = live_migrate(a, b, instance, nw, block_migration=True, post_steps=False)
    assert run.calls == ["post"]
    (sent,) = channel_dir.glob("host-b/*.guest")
    assert set(json.loads(sent.read_bytes())) == CHANNEL_KEYS_0_1
    b.post_live_migration_at_destination(Ctx(), instance, nw, True)
    (line,) = b.get_console_output(instance).splitlines()
    assert "arrived from host-a" in line and "host-b" in line


def test_a_guest_from_a_0_1_host_arrives_with_a_fresh_console(
    make_remote: Callable[..., FakeDriver], channel_dir: Path
) -> None:
    # What a 0.1 source writes: the same keys, from a host that never had consoles.
    a, b = make_remote("host-a"), make_remote("host-b")
    instance, nw, _ = _running_guest(a)
    b.pre_live_migration(Ctx(), instance, None, nw, LiveMigrateData())
    payload = {
        "block_migration": True, "uuid": str(instance.uuid), "power_state": 1, "run_s": 30.0,
        "uptime_s": 30.0, "network_info": nw.obj_to_primitive(), "files": {},
        "admin_password_set": False, "config_drive": False, "boot_count": 1,
        "network_injections": 0, "network_resets": 0, "boot_read_bytes": 0,
        "config_write_bytes": 0, "config_write_requests": 0, "nic_extra": {}, "volume_ids": [],
        "vif_ids": [str(v.id) for v in nw], "filtered": False, "volume_backed": False,
        "local_disk": True, "storage": "local:old-host",
    }  # fmt: skip
    assert set(payload) == CHANNEL_KEYS_0_1
    FakeMigrationChannel(channel_dir).send("host-b", instance.uuid, json.dumps(payload).encode())
    b.post_live_migration_at_destination(Ctx(), instance, nw, True)
    assert b.get_info(instance).state is PowerState.RUNNING
    (line,) = b.get_console_output(instance).splitlines()
    assert "arrived from" in line
