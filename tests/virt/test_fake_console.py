"""The fake guests' serial console (``get_console_output``): what each guest prints
as it lives, the bounded buffer, ``tail_lines``, and the console across a live
migration in one process (across processes: test_fake_channel.py)."""

from __future__ import annotations

import pytest

from cumulo.model import AccessMode, InjectedFile, LiveMigrateData, RebootType
from cumulo.virt.exceptions import InjectedFailure, InstanceNotFound
from cumulo.virt.fake import CONSOLE_LINES, FakeDriver

from .builders import Ctx, live_migrate, make_connection_info, make_instance, make_network_info
from .test_fake import _running_guest, spawn


def _lines(driver: FakeDriver, instance, tail_lines: int | None = None) -> list[str]:
    text = driver.get_console_output(instance, tail_lines)
    assert text == "" or text.endswith("\n")
    return text.splitlines()


def test_a_booting_guest_prints_its_name_and_uuid(host_a: FakeDriver) -> None:
    instance = spawn(host_a)
    (line,) = _lines(host_a, instance)
    assert instance.name in line and str(instance.uuid) in line and "host-a" in line


def test_a_guest_that_never_started_printed_nothing(host_a: FakeDriver) -> None:
    instance = spawn(host_a, power_on=False)
    assert host_a.get_console_output(instance) == ""


def test_each_event_of_the_guest_s_life_prints_a_line(host_a: FakeDriver, ctx: Ctx) -> None:
    nw = make_network_info()
    instance = spawn(host_a, network_info=nw)
    ro = make_connection_info()
    ro.access_mode = AccessMode.READ_ONLY
    rw = make_connection_info()
    host_a.reboot(ctx, instance, nw, RebootType.SOFT)
    host_a.pause(instance)
    host_a.unpause(instance)
    host_a.suspend(ctx, instance)
    host_a.resume(ctx, instance, nw)
    host_a.attach_volume(ctx, rw, instance, "/dev/vdb")
    host_a.attach_volume(ctx, ro, instance, "/dev/vdc")
    host_a.detach_volume(ctx, rw, instance, "/dev/vdb")
    host_a.inject_file(instance, InjectedFile.of("/etc/motd", b"hello"))
    host_a.power_off(instance)
    host_a.power_off(instance)  # already off: nothing happens, nothing printed
    host_a.power_on(ctx, instance, nw)
    host_a.reboot(ctx, instance, nw, RebootType.HARD)
    host_a.crash_guest(instance.uuid)
    host_a.power_on(ctx, instance, nw)
    host_a.shutdown_from_guest(instance.uuid)
    lines = _lines(host_a, instance)
    expected = [
        "booting",
        "reboot (SOFT)",
        "booting",
        "paused",
        "unpaused",
        "suspend",
        "resume",
        f"volume {rw.volume_id} attached as /dev/vdb",
        f"volume {ro.volume_id} attached read-only as /dev/vdc",
        f"volume {rw.volume_id} detached from /dev/vdb",
        "file /etc/motd written (5 bytes)",
        "power off",
        "power on",
        "booting",
        "reboot (HARD)",
        "booting",
        "Kernel panic",
        "power on",
        "booting",
        "shutdown requested from inside the guest",
    ]
    assert len(lines) == len(expected), lines
    for line, words in zip(lines, expected, strict=True):
        assert words in line, (line, words)
    assert [n for n, line in enumerate(lines) if "booting" in line] == [0, 2, 13, 15, 18]
    assert "(boot 5)" in lines[18]


def test_tail_lines_gives_the_last_lines(host_a: FakeDriver) -> None:
    instance = spawn(host_a)
    host_a.pause(instance)
    host_a.unpause(instance)
    everything = _lines(host_a, instance)
    assert len(everything) == 3
    assert _lines(host_a, instance, 2) == everything[1:]
    assert _lines(host_a, instance, 3) == everything
    assert _lines(host_a, instance, 50) == everything
    assert host_a.get_console_output(instance, 0) == ""
    with pytest.raises(ValueError, match="tail_lines"):
        host_a.get_console_output(instance, -1)


def test_the_console_keeps_only_its_last_lines(host_a: FakeDriver) -> None:
    instance = spawn(host_a)
    for _ in range(CONSOLE_LINES):
        host_a.pause(instance)
        host_a.unpause(instance)
    lines = _lines(host_a, instance)
    assert len(lines) == CONSOLE_LINES
    assert not any("booting" in line for line in lines)  # the oldest line went first
    assert "unpaused" in lines[-1] and "paused" in lines[0]


def test_unknown_incoming_and_departed_guests_are_not_found(
    host_a: FakeDriver, host_b: FakeDriver, ctx: Ctx
) -> None:
    stranger = make_instance()
    with pytest.raises(InstanceNotFound, match=str(stranger.uuid)) as raised:
        host_a.get_console_output(stranger)
    with pytest.raises(InstanceNotFound) as other:
        host_a.get_info(stranger)
    assert type(raised.value) is type(other.value)
    instance, nw, _ = _running_guest(host_a)
    host_b.pre_live_migration(ctx, instance, None, nw, LiveMigrateData())
    with pytest.raises(InstanceNotFound):
        host_b.get_console_output(instance)  # prepared, not arrived
    host_b.rollback_live_migration_at_destination(ctx, instance, nw, None)
    live_migrate(host_a, host_b, instance, nw, block_migration=True, post_steps=False)
    with pytest.raises(InstanceNotFound):
        host_a.get_console_output(instance)  # departed


def test_the_console_moves_with_the_guest_in_one_process(
    host_a: FakeDriver, host_b: FakeDriver
) -> None:
    instance, nw, _ = _running_guest(host_a)
    host_a.pause(instance)
    host_a.unpause(instance)
    before = _lines(host_a, instance)
    run = live_migrate(host_a, host_b, instance, nw, block_migration=True)
    assert run.calls == ["post"]
    after = _lines(host_b, instance)
    assert after[:-1] == before
    assert "arrived from host-a" in after[-1] and "host-b" in after[-1]


def test_it_is_a_failure_point(host_a: FakeDriver) -> None:
    instance = spawn(host_a)
    host_a.inject_failure("get_console_output")
    with pytest.raises(InjectedFailure):
        host_a.get_console_output(instance)
    assert host_a.get_console_output(instance)
