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

    # Three instances booted, each active on a host placement chose; both hosts used.
    booted = re.findall(rf"^\s+demo-vm-(\d): ({UUID}) active on (host-[ab])", out, re.M)
    assert [n for n, _, _ in booted] == ["1", "2", "3"]
    assert {h for _, _, h in booted} == {"host-a", "host-b"}
    uuids = {f"demo-vm-{n}": u for n, u, _ in booted}
    vm1_host = booted[0][2]
    other = "host-b" if vm1_host == "host-a" else "host-a"

    # The console of the migrated instance, read from its new host (compute RPC 1.1).
    console = out.split(f"the console of demo-vm-1 on {other}")[1].split("done in", maxsplit=1)[0]
    assert re.search(r"^\s+\| \S", console, re.M), console
    if driver == "fake":
        assert uuids["demo-vm-1"] in console or f"arrived from {vm1_host}" in console

    # The volume: attached, moved with the migration, detached, deleted.
    volume = re.search(rf"^\s+volume ({UUID}) created in .* \(available\)$", out, re.M)
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
        assert re.search(rf"^\s+{step}\s+host-[ab]\s+Success$", out, re.M), step
    assert f"demo-vm-1 now active on {other}" in out

    assert "tcp/80 now allowed" in out and out.count("tcp/80 now allowed") == 3

    # The table before deletion: the three instances active, vm-1 on the other host
    # with the volume attached.
    table = out.split("instances, hosts and volumes before deletion:")[1]
    rows = {
        m[2]: m
        for m in re.finditer(
            rf"^\s+({UUID})\s+(demo-vm-\d)\s+(host-[ab])\s+active\s+-\s+running\s+(\S+)\s+(\S+)$",
            table,
            re.M,
        )
    }
    assert sorted(rows) == ["demo-vm-1", "demo-vm-2", "demo-vm-3"]
    assert rows["demo-vm-1"][1] == uuids["demo-vm-1"] and rows["demo-vm-1"][3] == other
    assert rows["demo-vm-1"][5] == f"{volume[1][:8]}@/dev/{'sdb' if driver == 'qemu' else 'vdb'}"
    assert rows["demo-vm-2"][5] == rows["demo-vm-3"][5] == "-"

    # Everything deleted; the hosts back to zero used.
    for n in (1, 2, 3):
        assert f"demo-vm-{n}: deleted" in out
    final_hosts = out.split("[12/12]")[1]
    for host in ("host-a", "host-b"):
        assert re.search(rf"^\s+{host}\s+\S+\s+0/\d+\s+0/\d+\s+0/\d+\s+0$", final_hosts, re.M)
    summary = out.rstrip().splitlines()[-1]
    assert summary == (
        f"demo complete: 3 instances booted, 1 live-migrated ({vm1_host} -> {other}), volume "
        "attached then detached; everything deleted: 3 instances soft-deleted, 0 left, "
        "0 volumes, hosts at 0 used (host-a, host-b)"
    )


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
    assert "flavor demo.small (id 1)" in again


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
    assert "config drive " in proc.stdout and "config.iso rewritten" in proc.stdout
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
    assert "[ 6/12] live-migrate demo-vm-1" in out and "[ 7/12]" not in out
    first, second = err.splitlines()
    assert first.startswith("cumulo demo: FAILED: step 6 (live-migrate demo-vm-1 from host-")
    assert "MigrationPreCheckFailed" in first and "InjectedFailure" in first
    assert second == f"cumulo demo: the services' log is {tmp_path / 's' / 'demo.log'}"


def test_a_state_dir_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "file"
    path.write_text("x")
    assert cli.main(["demo", "--state-dir", str(path)]) == 2
    assert capsys.readouterr().err == f"cumulo: error: --state-dir {path}: not a directory\n"
