"""`cumulo demo`: the README's first command, in-process and as the installed script,
with the fake driver and with real QEMU guests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cumulo import cli
from cumulo.cli import demo as demo_module

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def script() -> list[str]:
    found = shutil.which("cumulo", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "cumulo.cli"]


def run_script(*argv: str, cwd: Path | None = None, timeout: float = 120):
    env = {k: v for k, v in os.environ.items() if k != "CUMULO_DEBUG"}
    return subprocess.run(
        [*script(), *argv],
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def check_scenario(out: str, driver: str) -> None:
    """What the printed scenario must show, step by step."""
    assert out.startswith(f"cumulo demo: an all-in-one deployment in one process ({driver} ")
    steps = re.findall(r"^\[\s*(\d+)/12\] (.+)$", out, re.M)
    assert [int(n) for n, _ in steps] == list(range(1, 13))
    assert out.count("        done in ") == 12
    api = re.search(r"^\s+API\s+(http://127\.0\.0\.1:\d+)\s", out, re.M)
    assert api is not None, out

    # Each step says the openstack command that does the same.
    commands = re.findall(r"^      \$ openstack (.+)$", out, re.M)
    for expected in (
        "project create demo",
        "--os-cloud demo token issue",
        "--os-cloud demo keypair create demo-key",
        "--os-cloud demo image list",
        "--os-cloud demo server create --flavor demo.",
        "server migrate --live-migration --host host-",
        "--os-cloud demo console log show --lines 3 demo-vm-1",
        "--os-cloud demo server stop demo-vm-2",
        "server list --all-projects --long",
        "--os-cloud demo server delete --wait demo-vm-3",
    ):
        assert any(c.startswith(expected) for c in commands), expected
    assert "********" in out  # the user's password is never printed

    # Three servers booted through the API, each active on a host placement chose.
    booted = re.findall(
        rf"^\s+demo-vm-(\d): ({UUID}) active on (host-[ab]), private=10\.1\.", out, re.M
    )
    assert [n for n, _, _ in booted] == ["1", "2", "3"]
    assert {h for _, _, h in booted} == {"host-a", "host-b"}
    uuids = {f"demo-vm-{n}": u for n, u, _ in booted}
    vm1_host = booted[0][2]
    other = "host-b" if vm1_host == "host-a" else "host-a"

    # The console of the migrated server, read from its new host.
    console = out.split(f"the console of demo-vm-1 on {other}")[1].split("done in", maxsplit=1)[0]
    assert re.search(r"^\s+\| \S", console, re.M), console
    if driver == "fake":
        assert uuids["demo-vm-1"] in console or f"arrived from {vm1_host}" in console

    # The volume: attached through the API, moved with the migration, detached, deleted.
    volume = re.search(rf"^\s+volume ({UUID}) created .*\(available\)", out, re.M)
    assert volume is not None
    assert re.search(rf"attached at /dev/[sv]db on {vm1_host}; volume in-use", out)
    assert f"volume {volume[1]} is available again" in out
    assert f"volume {volume[1]}: deleted" in out

    # The live migration: its status changes, in order, ending completed on the other host.
    statuses = re.findall(r"^\s+migration [0-9a-f]{8}: ([a-z-]+)", out, re.M)
    assert statuses[-1] == "completed"
    order = ["queued", "preparing", "running", "post-migrating", "completed"]
    assert [order.index(s) for s in statuses] == sorted(order.index(s) for s in statuses)
    assert f"live-migrate demo-vm-1 from {vm1_host} to {other}" in out
    for step in ("check_can_live_migrate_destination", "pre_live_migration", "live_migration"):
        assert re.search(rf"^\s+{step}\s+Success$", out, re.M), step
    assert f"demo-vm-1 now active on {other}" in out

    # Power actions, each waited for on its instance action.
    assert re.search(r"stop: demo-vm-2 SHUTOFF, power state 4 \(stop_instance\)", out)
    assert re.search(r"start: demo-vm-2 ACTIVE, power state 1 \(start_instance\)", out)
    assert re.search(r"reboot: demo-vm-2 ACTIVE, power state 1 \(reboot_instance\)", out)

    # The table before deletion: three servers active, vm-1 on the other host with the
    # volume; the hypervisors as the API reports them.
    table = out.split("servers and hypervisors before deletion:")[1].split("done in", maxsplit=1)[0]
    rows = {
        m[2]: m
        for m in re.finditer(
            rf"^\s+({UUID})\s+(demo-vm-\d)\s+ACTIVE\s+(host-[ab])\s+private=\S+\s+(\S+)\s+(\S+)$",
            table,
            re.M,
        )
    }
    assert sorted(rows) == ["demo-vm-1", "demo-vm-2", "demo-vm-3"]
    assert rows["demo-vm-1"][1] == uuids["demo-vm-1"] and rows["demo-vm-1"][3] == other
    assert rows["demo-vm-1"][5] == volume[1][:8]
    assert rows["demo-vm-2"][5] == rows["demo-vm-3"][5] == "-"
    assert re.search(r"^\s+host-a\s+up\s+\d+/\d+", table, re.M)

    # Everything deleted; the hosts back to zero used.
    for n in (1, 2, 3):
        assert f"demo-vm-{n}: deleted" in out
    final_hosts = out.split("[12/12]")[1]
    for host in ("host-a", "host-b"):
        assert re.search(rf"^\s+{host}\s+\S+\s+0/\d+\s+0/\d+\s+0/\d+\s+0$", final_hosts, re.M)
    summary = out.rstrip().splitlines()[-1]
    assert re.fullmatch(
        rf"demo complete: 3 servers booted, 1 live-migrated \({vm1_host} -> {other}\), volume "
        r"attached then detached; everything deleted: 0 servers left, 0 volumes, hosts at 0 "
        r"used \(host-a, host-b\); \d+ API requests",
        summary,
    ), summary


@pytest.mark.demo
def test_demo_in_process_and_again_in_the_same_state_dir(tmp_path, capsys):
    state = tmp_path / "demo"
    assert cli.main(["demo", "--state-dir", str(state)]) == 0
    out, err = capsys.readouterr()
    check_scenario(out, "fake")
    assert err == ""
    assert (state / "cumulo.db").is_file() and (state / "demo.log").stat().st_size > 0
    assert list((state / "volumes").glob("*.img")) == []

    # A rerun starts fresh (the same ids again) and succeeds.
    assert cli.main(["demo", "--state-dir", str(state)]) == 0
    again, _ = capsys.readouterr()
    check_scenario(again, "fake")
    assert "flavor demo.small: 2 vCPU, 2048 MiB RAM, 10 GiB disk" in again


@pytest.mark.demo
@pytest.mark.subprocess
def test_demo_as_the_installed_script(tmp_path):
    proc = run_script("demo", "--state-dir", str(tmp_path / "state"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    check_scenario(proc.stdout, "fake")


@pytest.mark.demo
@pytest.mark.subprocess
def test_demo_default_state_dir_is_var_demo_under_the_current_directory(tmp_path):
    proc = run_script("demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "var" / "demo" / "cumulo.db").is_file()


@pytest.mark.demo
@pytest.mark.subprocess
@pytest.mark.qemu
def test_demo_with_qemu_guests(tmp_path):
    if shutil.which("qemu-system-x86_64") is None:
        pytest.fail("qemu-system-x86_64 not found: run scripts/system-deps.sh", pytrace=False)
    proc = run_script("demo", "--driver", "qemu", "--state-dir", str(tmp_path / "q"), timeout=90)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check_scenario(proc.stdout, "qemu")
    # Every QEMU process is gone and the instance directories are empty.
    for host in ("host-a", "host-b"):
        leftover = [p.name for p in (tmp_path / "q" / "instances" / host).iterdir()]
        assert not [name for name in leftover if re.fullmatch(UUID, name)], leftover


@pytest.mark.demo
def test_a_failing_step_says_which_and_exits_non_zero(tmp_path, capsys, monkeypatch):
    original = demo_module.Demo.start

    def start(self):
        original(self)
        self.drivers["host-a"].inject_failure("check_can_live_migrate_destination", times=None)
        self.drivers["host-b"].inject_failure("check_can_live_migrate_destination", times=None)

    monkeypatch.setattr(demo_module.Demo, "start", start)
    assert cli.main(["demo", "--state-dir", str(tmp_path / "s")]) == 1
    out, err = capsys.readouterr()
    assert "[ 7/12] live-migrate demo-vm-1" in out and "[ 8/12]" not in out
    first, second = err.splitlines()
    assert first.startswith("cumulo demo: FAILED: step 7 (live-migrate demo-vm-1 from host-")
    assert "ended error" in first and "InjectedFailure" in first, first
    assert second == f"cumulo demo: the services' log is {tmp_path / 's' / 'demo.log'}"


def test_a_state_dir_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "file"
    path.write_text("x")
    assert cli.main(["demo", "--state-dir", str(path)]) == 2
    assert capsys.readouterr().err == f"cumulo: error: --state-dir {path}: not a directory\n"
