"""get_console_output: the guest's serial console log, as the probe guest writes it
(a boot marker, then ticks), and the bounded read of a long log."""

from __future__ import annotations

from pathlib import Path

import pytest

from cumulo.model import ImageMeta, RebootType
from cumulo.virt.exceptions import InstanceNotFound
from cumulo.virt.qemu.console import CONSOLE_MAX_BYTES, read_console
from cumulo.virt.qemu.images import GUEST_BOOT_MARKER, GUEST_TICK

from ..builders import Ctx
from .conftest import wait_until


def test_the_console_is_what_the_guest_printed(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    text = wait_until(
        lambda: (out := host_a.get_console_output(instance)).count(GUEST_TICK) >= 3 and out,
        what="the guest to boot and tick",
    )
    # The serial line's \r\n come back as \n; the ticks are a line still being written.
    assert text.startswith(GUEST_BOOT_MARKER + "\n") and "\r" not in text
    last = host_a.get_console_output(instance, tail_lines=1)
    assert GUEST_BOOT_MARKER not in last and last.strip(GUEST_TICK) == ""
    assert host_a.get_console_output(instance, tail_lines=0) == ""
    with pytest.raises(ValueError, match="tail_lines"):
        host_a.get_console_output(instance, tail_lines=-1)

    host_a.reboot(Ctx(), instance, network_info, RebootType.HARD)
    wait_until(
        lambda: (
            (out := host_a.get_console_output(instance)).count(GUEST_BOOT_MARKER) == 2
            and out.endswith(GUEST_TICK)
        ),
        what="the second boot, and a tick after it",
    )
    assert host_a.get_console_output(instance, tail_lines=2).count(GUEST_BOOT_MARKER) == 1
    assert host_a.get_console_output(instance, tail_lines=3).count(GUEST_BOOT_MARKER) == 2
    # The log outlives the process: a guest that is off still has its console.
    host_a.power_off(instance)
    assert host_a.get_console_output(instance).count(GUEST_BOOT_MARKER) == 2
    host_a.destroy(Ctx(), instance, network_info)
    with pytest.raises(InstanceNotFound, match=str(instance.uuid)):
        host_a.get_console_output(instance)


def test_a_guest_that_never_ran_has_an_empty_console(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info, power_on=False)
    assert host_a.get_console_output(instance) == ""


def test_a_huge_console_log_is_read_from_its_end(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info, power_on=False)
    console = host_a.describe_guest(instance.uuid).console_path
    lines = [f"line {n:07d}" for n in range(300_000)]  # ~3.6 MB, many times the bound
    console.write_bytes("".join(f"{line}\r\n" for line in lines).encode())
    assert console.stat().st_size > 10 * CONSOLE_MAX_BYTES
    text = host_a.get_console_output(instance)
    assert len(text.encode()) <= CONSOLE_MAX_BYTES
    kept = text.splitlines()
    # Whole lines only, the newest ones, in order.
    assert kept == lines[-len(kept) :]
    assert len(kept) > 1000
    assert host_a.get_console_output(instance, tail_lines=2) == "line 0299998\nline 0299999\n"


class TestReadConsole:
    def test_no_log_yet(self, tmp_path: Path) -> None:
        assert read_console(tmp_path / "console.log") == ""

    def test_a_cut_line_is_left_out_unless_it_is_the_only_one(self, tmp_path: Path) -> None:
        log = tmp_path / "console.log"
        log.write_bytes(b"first line\nsecond\n")
        assert read_console(log, max_bytes=10) == "second\n"
        log.write_bytes(b"x" * 100)  # one long line being written, no newline yet
        assert read_console(log, max_bytes=10) == "x" * 10
        assert read_console(log, tail_lines=1, max_bytes=10) == "x" * 10

    def test_tail_lines(self, tmp_path: Path) -> None:
        log = tmp_path / "console.log"
        log.write_bytes(b"a\r\nb\r\nc")
        assert read_console(log) == "a\nb\nc"
        assert read_console(log, tail_lines=2) == "b\nc"
        assert read_console(log, tail_lines=9) == "a\nb\nc"
        log.write_bytes(b"a\nb\n")
        assert read_console(log, tail_lines=1) == "b\n"

    def test_bad_arguments(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="tail_lines"):
            read_console(tmp_path / "console.log", tail_lines=-2)
        with pytest.raises(ValueError, match="max_bytes"):
            read_console(tmp_path / "console.log", max_bytes=0)
