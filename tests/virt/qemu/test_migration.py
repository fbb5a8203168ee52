"""Live migration between two hosts on one machine (own instance directories, one
volume store): real QEMU migration, disks mirrored over NBD."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import threading
import uuid

import pytest

from cumulo.model import AccessMode, ImageMeta, InjectedFile, LiveMigrateData, Migration, PowerState
from cumulo.virt.exceptions import MigrationError, MigrationPreCheckError
from cumulo.virt.qemu.configdrive import META_DATA, read_config_drive
from cumulo.virt.qemu.images import GUEST_TICK

from ..builders import Ctx, live_migrate, make_bdi
from .conftest import pid_alive, volume_bdm, wait_until


def _migration(instance) -> Migration:
    return Migration(uuid=uuid.uuid4(), instance_uuid=instance.uuid)


def test_live_migration_moves_the_running_guest(host_a, host_b, instance, network_info, volumes):
    bdm = volume_bdm(volumes, host_a, instance)
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info, make_bdi(bdm))
    host_a.inject_file(instance, InjectedFile.of("/etc/motd", b"moved"))
    source_pid = host_a.describe_guest(instance.uuid).pid
    assert source_pid is not None
    migration = _migration(instance)
    dest_check = host_b.check_can_live_migrate_destination(Ctx(), instance, None, None)
    assert dest_check.filename and (host_b.instances_path / dest_check.filename).is_file()
    host_b.cleanup_live_migration_destination_check(Ctx(), dest_check)
    assert not (host_b.instances_path / dest_check.filename).exists()

    run = _migrate(host_a, host_b, instance, network_info, bdm, migration)
    assert run.calls == ["post"], run.errors
    assert run.data is not None and run.data.is_shared_instance_path is False
    # The source process has exited; the destination's QEMU runs the guest.
    assert not pid_alive(source_pid)
    assert host_b.monitor(instance.uuid).cmd("query-status")["status"] == "running"
    assert host_b.get_info(instance).state is PowerState.RUNNING
    assert host_a.list_instance_uuids() == [] and host_b.list_instance_uuids() == [instance.uuid]
    assert not (host_a.instances_path / str(instance.uuid)).exists()
    # Progress was reported into the Migration object.
    assert migration.memory_total and migration.memory_total >= 64 * 1024 * 1024
    assert migration.memory_processed and migration.memory_remaining == 0
    assert migration.disk_total and migration.disk_remaining == 0
    # The guest carries on at the destination: it ticks on its new console without rebooting.
    console = host_b.describe_guest(instance.uuid).console_path
    wait_until(lambda: GUEST_TICK in console.read_text(), what="ticks on the destination")
    assert "CUMULO-GUEST-BOOT" not in console.read_text()
    # The config drive and the volume came along.
    drive = read_config_drive(host_b.describe_guest(instance.uuid).config_drive_path)
    assert json.loads(drive[META_DATA])["files"][0]["path"] == "/etc/motd"
    assert bdm.connection_info is not None
    ident = f"vol-{bdm.connection_info.volume_id.hex[:16]}"
    qdevs = {b.get("qdev") for b in host_b.monitor(instance.uuid).cmd("query-block")}
    assert ident in qdevs
    host_b.detach_volume(Ctx(), bdm.connection_info, instance, "/dev/sdb")


def _migrate(src, dst, instance, network_info, bdm, migration, *, announce=None, **kwargs):
    """The builder's sequence, with the Migration object attached to the data;
    ``announce(data)`` may change what the destination's pre_live_migration
    returned (as a destination of another release would have filled it)."""
    import tests.virt.builders as builders

    real = builders.LiveMigrateData
    original_pre = dst.pre_live_migration

    def pre(ctx, inst, bdi, ni, data):
        result = original_pre(ctx, inst, bdi, ni, data)
        result.migration = migration
        if announce is not None:
            announce(result)
        return result

    dst.pre_live_migration = pre  # type: ignore[method-assign]
    try:
        src_bdi = make_bdi(bdm) if bdm is not None else None
        dst_bdi = make_bdi(bdm.obj_clone()) if bdm is not None else None
        return live_migrate(
            src, dst, instance, network_info, src_bdi=src_bdi, dst_bdi=dst_bdi, **kwargs
        )
    finally:
        del dst.pre_live_migration
        assert real is builders.LiveMigrateData


def test_killing_the_destination_mid_migration_recovers_on_the_source(
    make_host, instance, network_info
):
    source = make_host("qm-src", migration_max_bandwidth=256 * 1024)
    dest = make_host("qm-dst")
    source.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    source_pid = source.describe_guest(instance.uuid).pid
    migration = _migration(instance)
    killed: list[int] = []

    def kill_destination_when_memory_moves() -> None:
        wait_until(lambda: migration.memory_processed, timeout=60, what="migration progress")
        pid = dest.describe_guest(instance.uuid).pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_destination_when_memory_moves)
    killer.start()
    run = _migrate(source, dest, instance, network_info, None, migration)
    killer.join()
    assert killed, "the destination was never killed"
    assert run.calls == ["recover"]
    assert "migration failed" in str(run.errors[0]) or "stopped" in str(run.errors[0])
    # Still running on the source, same process; nothing left on the destination.
    assert source.describe_guest(instance.uuid).pid == source_pid
    assert source.monitor(instance.uuid).cmd("query-status")["status"] == "running"
    assert dest.list_instance_uuids() == []
    assert not (dest.instances_path / str(instance.uuid)).exists()
    console = source.describe_guest(instance.uuid).console_path
    ticks = console.read_text().count(GUEST_TICK)
    wait_until(
        lambda: console.read_text().count(GUEST_TICK) > ticks, what="the source guest to tick"
    )


def test_paused_guest_stays_paused_after_migration(host_a, host_b, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    host_a.pause(instance)
    instance.power_state = PowerState.PAUSED
    run = _migrate(host_a, host_b, instance, network_info, None, _migration(instance))
    assert run.calls == ["post"], run.errors
    assert host_b.monitor(instance.uuid).cmd("query-status")["status"] == "paused"


def test_source_check_refuses_a_guest_that_is_off(host_a, host_b, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info, power_on=False)
    data = host_b.check_can_live_migrate_destination(Ctx(), instance, None, None)
    with pytest.raises(MigrationPreCheckError, match="SHUTDOWN"):
        host_a.check_can_live_migrate_source(Ctx(), instance, data)
    host_b.cleanup_live_migration_destination_check(Ctx(), data)


def test_destination_check_compares_cpu_and_room(make_host, host_a, instance):
    from ..builders import node_of

    small = make_host("qm-small", memory_mb=32)
    with pytest.raises(MigrationPreCheckError, match="not enough room"):
        small.check_can_live_migrate_destination(Ctx(), instance, node_of(host_a), None)
    node = node_of(host_a)
    node.cpu_info.model = "EPYC/pc-i440fx/qemu-1.0.0"
    other = make_host("qm-other")
    with pytest.raises(MigrationPreCheckError, match="CPU model"):
        other.check_can_live_migrate_destination(Ctx(), instance, node, None)


def test_rollback_at_destination_removes_the_waiting_qemu(host_a, host_b, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    data = host_b.check_can_live_migrate_destination(Ctx(), instance, None, None)
    data = host_a.check_can_live_migrate_source(Ctx(), instance, data)
    data = host_b.pre_live_migration(Ctx(), instance, None, network_info, data)
    pid = host_b.describe_guest(instance.uuid).pid
    assert pid is not None and pid_alive(pid)
    assert host_b.monitor(instance.uuid).cmd("query-status")["status"] == "inmigrate"
    host_b.rollback_live_migration_at_destination(Ctx(), instance, network_info, None)
    assert not pid_alive(pid)
    assert not (host_b.instances_path / str(instance.uuid)).exists()
    host_b.rollback_live_migration_at_destination(Ctx(), instance, network_info, None)


def _listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port`` (binding it is refused)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def _prepare(src, dst, instance, network_info) -> LiveMigrateData:
    data = dst.check_can_live_migrate_destination(Ctx(), instance, None, None)
    try:
        data = src.check_can_live_migrate_source(Ctx(), instance, data)
    finally:
        dst.cleanup_live_migration_destination_check(Ctx(), data)
    return dst.pre_live_migration(Ctx(), instance, None, network_info, data)


def test_pre_live_migration_announces_its_ports_both_ways(host_a, host_b, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    data = _prepare(host_a, host_b, instance, network_info)
    assert data.migration_port is not None and data.nbd_port is not None
    # What a 0.1 source reads (address:port, NBD at port + 1) agrees with the new fields.
    assert data.target_connect_addr == f"127.0.0.1:{data.migration_port}"
    assert data.nbd_port == data.migration_port + 1
    # The waiting QEMU listens on both.
    assert _listening(data.migration_port) and _listening(data.nbd_port)
    host_b.rollback_live_migration_at_destination(Ctx(), instance, network_info, None)
    assert not _listening(data.migration_port) and not _listening(data.nbd_port)


def test_with_shared_storage_no_nbd_port_is_announced(make_host, host_a, instance, network_info):
    twin = make_host("qm-twin", instances_path=host_a.instances_path)
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    data = _prepare(host_a, twin, instance, network_info)
    assert data.is_shared_instance_path
    assert data.migration_port is not None and data.nbd_port is None
    assert data.target_connect_addr == f"127.0.0.1:{data.migration_port}"
    twin.rollback_live_migration_at_destination(
        Ctx(), instance, network_info, None, destroy_disks=False
    )


def test_a_0_1_destination_that_gives_only_target_connect_addr(
    host_a, host_b, instance, network_info
):
    def as_0_1(data: LiveMigrateData) -> None:
        data.migration_port = data.nbd_port = None  # 0.1 has no such fields

    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    migration = _migration(instance)
    run = _migrate(host_a, host_b, instance, network_info, None, migration, announce=as_0_1)
    assert run.calls == ["post"], run.errors
    assert run.data is not None and run.data.is_shared_instance_path is False
    assert migration.disk_total  # the disks went over NBD, at port + 1
    assert host_b.monitor(instance.uuid).cmd("query-status")["status"] == "running"


@pytest.mark.parametrize("target", ["127.0.0.1", "127.0.0.1:1"], ids=["no-port", "other-port"])
def test_the_announced_ports_are_preferred_to_target_connect_addr(
    host_a, host_b, instance, network_info, target
):
    def rewrite(data: LiveMigrateData) -> None:
        data.target_connect_addr = target  # port 1 (and NBD at 2) would fail if used

    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    run = _migrate(
        host_a, host_b, instance, network_info, None, _migration(instance), announce=rewrite
    )
    assert run.calls == ["post"], run.errors
    assert host_b.monitor(instance.uuid).cmd("query-status")["status"] == "running"


@pytest.mark.parametrize(
    ("target", "match"),
    [
        ("127.0.0.1", "no migration port"),
        (None, "target_connect_addr is not set"),
        ("127.0.0.1:http", "numeric port"),
    ],
)
def test_without_a_usable_port_the_migration_fails_clearly(
    host_a, host_b, instance, network_info, target, match
):
    def unusable(data: LiveMigrateData) -> None:
        data.target_connect_addr = target
        data.migration_port = data.nbd_port = None

    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    pid = host_a.describe_guest(instance.uuid).pid
    run = _migrate(
        host_a, host_b, instance, network_info, None, _migration(instance), announce=unusable
    )
    assert run.calls == ["recover"]
    assert isinstance(run.errors[0], MigrationError)
    assert match in str(run.errors[0])
    assert host_a.describe_guest(instance.uuid).pid == pid
    assert host_a.monitor(instance.uuid).cmd("query-status")["status"] == "running"
    assert host_b.list_instance_uuids() == []


def test_a_read_only_volume_stays_read_only_on_the_destination(
    host_a, host_b, instance, network_info, volumes
):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    bdm = volume_bdm(volumes, host_a, instance)
    assert bdm.connection_info is not None
    # As the compute manager connects a read-only mapping, on both hosts.
    bdm.connection_info.access_mode = AccessMode.READ_ONLY
    host_a.attach_volume(Ctx(), bdm.connection_info, instance, "/dev/sdb")
    ident = f"vol-{bdm.connection_info.volume_id.hex[:16]}"

    def ro_flag(driver) -> bool:
        blocks = driver.monitor(instance.uuid).cmd("query-block")
        return next(b["inserted"]["ro"] for b in blocks if b.get("qdev") == ident)

    assert ro_flag(host_a) is True
    run = _migrate(host_a, host_b, instance, network_info, bdm, _migration(instance))
    assert run.calls == ["post"], run.errors
    assert ro_flag(host_b) is True
